"""Calling chat completions through the SDK and checking every raw body against OpenAI's schemas.

`complete` returns the raw JSON of a non-streamed answer; `stream` returns every chunk of a
streamed one (the `[DONE]` sentinel checked and dropped); `collect` folds chunks into what a
client would assemble: text, reasoning, tool calls by index, finish reasons.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from openai import OpenAI

from tests.support.openai_schema import validate


def complete(client: OpenAI, **request: Any) -> dict[str, Any]:
    validate("CreateChatCompletionRequest", {"stream": False, **request})
    raw = client.chat.completions.with_raw_response.create(**request)
    body: dict[str, Any] = json.loads(raw.text)
    validate("CreateChatCompletionResponse", body)
    return body


def stream(client: OpenAI, **request: Any) -> list[dict[str, Any]]:
    """Chunks of a streamed answer; an in-band error event is returned too (validated)."""
    validate("CreateChatCompletionRequest", {**request, "stream": True})
    with client.chat.completions.with_streaming_response.create(**request, stream=True) as raw:
        assert raw.headers["content-type"].startswith("text/event-stream")
        payloads = [line[6:] for line in raw.iter_lines() if line.startswith("data: ")]
    assert payloads and payloads[-1] == "[DONE]", payloads[-3:]
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    for chunk in chunks:
        validate(
            "ErrorResponse" if "error" in chunk else "CreateChatCompletionStreamResponse", chunk
        )
    return chunks


@dataclass
class Collected:
    content: str = ""
    reasoning: str = ""
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)  # by delta index
    finish_reasons: list[str] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def calls(self) -> list[dict[str, Any]]:
        """The tool calls as an assistant message's `tool_calls`, in index order."""
        return [self.tool_calls[index] for index in sorted(self.tool_calls)]


def collect(chunks: list[dict[str, Any]], choice: int = 0) -> Collected:
    out = Collected()
    for chunk in chunks:
        if "error" in chunk:
            out.error = chunk["error"]
            continue
        if chunk.get("usage"):
            out.usage = chunk["usage"]
        for item in chunk["choices"]:
            if item["index"] != choice:
                continue
            delta = item["delta"]
            out.content += delta.get("content") or ""
            out.reasoning += delta.get("reasoning_content") or ""
            out.annotations.extend(delta.get("annotations") or [])
            for call in delta.get("tool_calls") or []:
                entry = out.tool_calls.setdefault(
                    call["index"],
                    {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                )
                entry["id"] += call.get("id") or ""
                function = call.get("function") or {}
                entry["function"]["name"] += function.get("name") or ""
                entry["function"]["arguments"] += function.get("arguments") or ""
            if item.get("finish_reason"):
                out.finish_reasons.append(item["finish_reason"])
    return out


def last_body(requests: list[dict[str, Any]], kind: str | None = None) -> dict[str, Any]:
    """The body of the last generate/stream request the fake received."""
    kinds = (kind,) if kind else ("generate", "stream")
    found = [r for r in requests if r["kind"] in kinds]
    assert found, f"the fake received no {kinds} request"
    body: dict[str, Any] = found[-1]["body"]
    return body
