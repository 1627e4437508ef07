"""Gemini stream events -> Anthropic's Server-Sent Events, in Anthropic's order. Pure.

`message_start`, then per content block `content_block_start`, its deltas and
`content_block_stop`, then `message_delta` (stop reason, usage) and `message_stop`. Nothing is
sent until there is a first block to write, so a stream that fails before it can still fail
over to another credential; after it, a failure is an `event: error` and the end.
"""

from collections.abc import Sequence
from typing import Any

from pydantic_core import to_json

from gemini_proxy.anthropic.blocks import Action, BlockWriter, Delta, Start
from gemini_proxy.anthropic.errors import error_body
from gemini_proxy.anthropic.translate_response import (
    AnswerOptions,
    check_answered,
    first_candidate,
    search_blocks,
    searches,
    stop_reason,
    usage,
)
from gemini_proxy.errors import ProxyError
from gemini_proxy.upstream.answers import check_prompt_not_blocked
from gemini_proxy.upstream.classify import UpstreamError, bad_answer
from gemini_proxy.upstream.wire import GenerateContentResponse, GroundingMetadata, UsageMetadata


def frame(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + to_json(data) + b"\n\n"


class MessageFrames:
    def __init__(self, message_id: str, options: AnswerOptions) -> None:
        self._id = message_id
        self._options = options
        self._writer = BlockWriter(options.bind, options.tool_names, options.single_call)
        self._started = False
        self._usage: UsageMetadata | None = None
        self._finish: str | None = None
        self._grounding: GroundingMetadata | None = None

    def feed(self, event: GenerateContentResponse) -> Sequence[bytes]:
        check_prompt_not_blocked(event, "messages")
        if event.usage_metadata is not None:  # cumulative: the last one holds the totals
            self._usage = event.usage_metadata
        candidate = first_candidate(event)
        if candidate is None:
            return ()
        if candidate.grounding_metadata is not None:
            self._grounding = candidate.grounding_metadata
        if candidate.finish_reason:
            self._finish = candidate.finish_reason
        actions = self._writer.parts(candidate.content.parts if candidate.content else [])
        if not actions:
            return ()
        return [*self._message_start(), *map(_block_frame, actions)]

    def finish(self) -> Sequence[bytes]:
        if self._finish is None:
            what = "before the answer was finished" if self._started else "without any answer"
            raise UpstreamError(bad_answer(f"Gemini's stream ended {what}"))
        check_answered(self._writer, self._finish)
        frames = [*self._message_start(), *map(_block_frame, self._writer.close())]
        index = self._writer.blocks
        for block in search_blocks(self._grounding):
            # Google says what it searched once the answer is over: the blocks come last.
            whole = block.model_dump()
            frames.append(frame("content_block_start", _start(index, whole)))
            frames.append(
                frame("content_block_stop", {"type": "content_block_stop", "index": index})
            )
            index += 1
        total = usage(self._usage, searches(self._grounding))
        delta = {
            "type": "message_delta",
            "delta": {
                "stop_reason": stop_reason(self._finish, self._writer.calls),
                "stop_sequence": None,
            },
            "usage": total.model_dump(exclude_none=True),
        }
        frames += [frame("message_delta", delta), frame("message_stop", {"type": "message_stop"})]
        return frames

    def fail(self, error: ProxyError) -> Sequence[bytes]:
        # After the first byte the status line is gone: Anthropic reports errors in-band.
        return [frame("error", error_body(error))]

    def _message_start(self) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        start = usage(self._usage)
        message: dict[str, Any] = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._options.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": start.input_tokens,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": start.cache_read_input_tokens,
            },
        }
        return [frame("message_start", {"type": "message_start", "message": message})]


def _start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _block_frame(action: Action) -> bytes:
    if isinstance(action, Start):
        return frame("content_block_start", _start(action.index, action.block))
    if isinstance(action, Delta):
        data = {"type": "content_block_delta", "index": action.index, "delta": action.delta}
        return frame("content_block_delta", data)
    return frame("content_block_stop", {"type": "content_block_stop", "index": action.index})
