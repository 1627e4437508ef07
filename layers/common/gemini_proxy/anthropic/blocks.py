"""Gemini parts -> Anthropic content blocks, as the events that build them. Pure.

One writer serves whole answers and streams alike, so both group parts the same way:
- thought parts make a `thinking` block; a thought signature Google put on one of them becomes
  the block's `signature` (bound to the credential and model), and closes the block: the next
  thought starts a new one, so each signature stays with the thoughts it signed;
- text parts make a `text` block (a signature Google put on text is not validated by Google
  and has no carrier in a text block: it is dropped);
- each function call is a `tool_use` block whose id carries the call's signature.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json

from gemini_proxy.anthropic.tools import tool_use_id
from gemini_proxy.upstream.wire import Part


@dataclass(frozen=True, slots=True)
class Start:
    index: int
    block: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Delta:
    index: int
    delta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Stop:
    index: int


Action = Start | Delta | Stop


class BlockWriter:
    def __init__(
        self,
        bind: Callable[[str], str],
        tool_names: Mapping[str, str],
        single_call: bool = False,
    ) -> None:
        self._bind = bind
        self._names = tool_names  # Gemini name -> the client's
        self._single_call = single_call
        self._open: str | None = None  # the type of the block being written
        self._signed = False  # the open thinking block has its signature
        self.blocks = 0
        self.calls = 0
        self.text = False  # any answer text written
        self.thoughts = False

    def parts(self, parts: list[Part]) -> list[Action]:
        actions: list[Action] = []
        for part in parts:
            if part.function_call is not None:
                self._call(part, actions)
            elif part.thought:
                self._thought(part, actions)
            elif part.text:
                self._text(part.text, actions)
        return actions

    def close(self) -> list[Action]:
        if self._open is None:
            return []
        self._open = None
        return [Stop(self.blocks - 1)]

    def _start(self, block: dict[str, Any], actions: list[Action]) -> int:
        actions.extend(self.close())
        self._open = block["type"]
        self._signed = False
        self.blocks += 1
        actions.append(Start(self.blocks - 1, block))
        return self.blocks - 1

    def _thought(self, part: Part, actions: list[Action]) -> None:
        if self._open == "thinking" and not self._signed:
            index = self.blocks - 1
        else:
            index = self._start({"type": "thinking", "thinking": "", "signature": ""}, actions)
        if part.text:
            self.thoughts = True
            actions.append(Delta(index, {"type": "thinking_delta", "thinking": part.text}))
        if part.thought_signature:
            signature = self._bind(part.thought_signature)
            actions.append(Delta(index, {"type": "signature_delta", "signature": signature}))
            self._signed = True

    def _text(self, text: str, actions: list[Action]) -> None:
        index = (
            self.blocks - 1
            if self._open == "text"
            else self._start({"type": "text", "text": ""}, actions)
        )
        self.text = True
        actions.append(Delta(index, {"type": "text_delta", "text": text}))

    def _call(self, part: Part, actions: list[Action]) -> None:
        call = part.function_call
        assert call is not None
        if self._single_call and self.calls:
            return  # the client asked for one call at a time (disable_parallel_tool_use)
        signature = part.thought_signature
        block = {
            "type": "tool_use",
            "id": tool_use_id(self._bind(signature) if signature else None),
            "name": self._names.get(call.name, call.name),
            "input": {},
        }
        index = self._start(block, actions)
        arguments = to_json(call.args or {}).decode()
        actions.append(Delta(index, {"type": "input_json_delta", "partial_json": arguments}))
        actions.extend(self.close())
        self.calls += 1
