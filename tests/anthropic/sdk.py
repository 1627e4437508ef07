"""Checking what the proxy sends against the official `anthropic` SDK's own types.

The SDK builds its objects without validation when it parses an answer, so a wrong field would
slip through; these helpers validate the raw JSON with the SDK's pydantic types, and check that
a stream's events come in Anthropic's order.
"""

import json
from typing import Any

from anthropic.types import ErrorResponse, Message, MessageTokensCount, RawMessageStreamEvent
from pydantic import TypeAdapter

_EVENT: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
TOOL_USE_ID = r"^[a-zA-Z0-9_-]+$"  # Anthropic's pattern for tool_use ids


def message(body: dict[str, Any]) -> Message:
    return Message.model_validate(body)


def token_count(body: dict[str, Any]) -> MessageTokensCount:
    return MessageTokensCount.model_validate(body)


def error(body: dict[str, Any]) -> ErrorResponse:
    return ErrorResponse.model_validate(body)


def events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of every SSE frame, each validated; the name must match its type."""
    found = []
    for chunk in raw.split("\n\n"):
        if not chunk.strip():
            continue
        lines = chunk.split("\n")
        assert lines[0].startswith("event: ") and lines[1].startswith("data: "), chunk
        name, data = lines[0][7:], json.loads(lines[1][6:])
        assert data["type"] == name, chunk
        if name == "error":
            error(data)
        elif name != "ping":
            _EVENT.validate_python(data)
        found.append((name, data))
    return found


def check_order(stream: list[tuple[str, dict[str, Any]]]) -> None:
    """message_start, then blocks (start, deltas, stop) with indexes 0, 1, ... in turn, then
    message_delta and message_stop; or, after a failure, an error event last."""
    names = [name for name, _ in stream if name != "ping"]
    assert names[0] == "message_start", names
    if names[-1] == "error":
        body = names[1:-1]
    else:
        assert names[-2:] == ["message_delta", "message_stop"], names
        body = names[1:-2]
    expected_index = 0
    open_index: int | None = None
    for name, data in stream:
        if name not in ("content_block_start", "content_block_delta", "content_block_stop"):
            continue
        if name == "content_block_start":
            assert open_index is None and data["index"] == expected_index, (names, data)
            open_index = expected_index
            expected_index += 1
        elif name == "content_block_delta":
            assert data["index"] == open_index, data
        else:
            assert data["index"] == open_index, data
            open_index = None
    assert all(n.startswith("content_block_") for n in body), names
    if names[-1] != "error":
        assert open_index is None


def assemble(stream: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The message the events build, as a client assembles it."""
    message_body: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for name, data in stream:
        if name == "message_start":
            message_body = data["message"]
        elif name == "content_block_start":
            message_body["content"].append(dict(data["content_block"]))
        elif name == "content_block_delta":
            block, delta = message_body["content"][data["index"]], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif name == "content_block_stop" and data["index"] in partial:
            message_body["content"][data["index"]]["input"] = json.loads(partial[data["index"]])
        elif name == "message_delta":
            message_body.update(data["delta"])
            message_body["usage"] = {**message_body["usage"], **data["usage"]}
    return message_body
