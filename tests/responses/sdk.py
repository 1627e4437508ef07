"""Calling `/v1/responses` through the official SDK, checking every raw body against OpenAI's
`Response` and `ResponseStreamEvent` schemas (tests/data/openai_schemas.json)."""

import json
from typing import Any

from openai import OpenAI

from tests.support.openai_schema import validate


def create(client: OpenAI, **request: Any) -> dict[str, Any]:
    """A non-streamed response's raw JSON, validated."""
    raw = client.responses.with_raw_response.create(**request)
    body: dict[str, Any] = json.loads(raw.text)
    validate("Response", body)
    return body


def events(client: OpenAI, **request: Any) -> list[dict[str, Any]]:
    """Every event of a streamed response, validated, with increasing sequence numbers."""
    with client.responses.with_streaming_response.create(**request, stream=True) as raw:
        assert raw.headers["content-type"].startswith("text/event-stream")
        lines = list(raw.iter_lines())
    kinds = [line[7:] for line in lines if line.startswith("event: ")]
    found = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert found, lines[-5:]
    assert kinds == [event["type"] for event in found]  # each `event:` names its data
    for event in found:
        validate("ResponseStreamEvent", event)
    numbers = [event["sequence_number"] for event in found]
    assert numbers == list(range(len(found)))
    return found


def types(found: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in found]


def final(found: list[dict[str, Any]]) -> dict[str, Any]:
    """The response object the stream ended with (completed, incomplete or failed)."""
    last = found[-1]
    assert last["type"] in ("response.completed", "response.incomplete", "response.failed")
    response: dict[str, Any] = last["response"]
    validate("Response", response)
    return response


def output_text(response: dict[str, Any]) -> str:
    return "".join(
        part["text"]
        for item in response["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )


def last_body(log: list[dict[str, Any]]) -> dict[str, Any]:
    """The body of the last generate or stream request the fake received."""
    generations = [r for r in log if r["kind"] in ("generate", "stream")]
    body: dict[str, Any] = generations[-1]["body"]
    return body
