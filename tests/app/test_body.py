"""Reading (`read_body`) and validating (`parse_body`) request bodies: each problem is a 4xx."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.requests import Request

from gemini_proxy.app.body import parse_body, read_body
from gemini_proxy.errors import InvalidRequest, ProxyError
from gemini_proxy.openai.models import ChatCompletionRequest
from tests.support.openai_schema import validate

CAP = 1000
USER = [{"role": "user", "content": "hi"}]


# --- read_body ----------------------------------------------------------------------------------


class Body:
    """An ASGI `receive` that hands out chunks and counts how many were read."""

    def __init__(self, chunks: list[bytes], endless: bytes | None = None) -> None:
        self.chunks = list(chunks)
        self.endless = endless
        self.reads = 0

    async def __call__(self) -> dict[str, Any]:
        self.reads += 1
        if self.endless is not None and self.reads < 10_000:
            return {"type": "http.request", "body": self.endless, "more_body": True}
        if self.chunks:
            chunk = self.chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}
        return {"type": "http.request", "body": b"", "more_body": False}


def make_request(
    headers: dict[str, str], receive: Callable[[], Awaitable[dict[str, Any]]]
) -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
    }
    return Request(scope, receive)


def read(headers: dict[str, str], body: Body, max_bytes: int = CAP) -> bytes:
    return asyncio.run(read_body(make_request(headers, body), max_bytes))


def read_error(headers: dict[str, str], body: Body, max_bytes: int = CAP) -> ProxyError:
    with pytest.raises(ProxyError) as caught:
        read(headers, body, max_bytes)
    validate("ErrorResponse", caught.value.body())
    return caught.value


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.api+json",
    ],
)
def test_json_content_types_are_read(content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    assert read(headers, Body([b'{"a":', b" 1}"])) == b'{"a": 1}'


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_other_content_types_are_415_without_reading_the_body(content_type: str) -> None:
    body = Body([b"{}"])
    error = read_error({"content-type": content_type}, body)
    assert error.status == 415
    assert error.code == "unsupported_media_type"
    assert content_type.split(";")[0] in error.message
    assert body.reads == 0


def test_declared_length_over_the_cap_is_413_without_reading_the_body() -> None:
    body = Body([b"x" * (CAP + 1)])
    error = read_error({"content-type": "application/json", "content-length": str(CAP + 1)}, body)
    assert error.status == 413
    assert error.code == "request_too_large"
    assert str(CAP) in error.message
    assert body.reads == 0


def test_body_exactly_at_the_cap_is_read() -> None:
    payload = b"x" * CAP
    headers = {"content-type": "application/json", "content-length": str(CAP)}
    assert read(headers, Body([payload[:400], payload[400:]])) == payload


def test_streamed_body_over_the_cap_without_length_is_413_and_reading_stops() -> None:
    body = Body([], endless=b"x" * 100)
    error = read_error({"content-type": "application/json"}, body)
    assert error.status == 413
    assert error.code == "request_too_large"
    assert body.reads <= CAP // 100 + 1


def test_body_longer_than_its_declared_length_is_413() -> None:
    headers = {"content-type": "application/json", "content-length": "10"}
    error = read_error(headers, Body([b"x" * 600, b"x" * 600]))
    assert error.status == 413


# --- parse_body ---------------------------------------------------------------------------------


def parse(data: Any) -> ChatCompletionRequest:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return parse_body(ChatCompletionRequest, raw)


def parse_error(data: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse(data)
    error = caught.value
    assert error.status == 400
    assert error.type == "invalid_request_error"
    validate("ErrorResponse", error.body())
    return error


def test_valid_body_is_parsed() -> None:
    request = parse(
        {"model": "gemini-2.5-flash", "messages": USER, "temperature": 0.2, "stream": True}
    )
    assert request.model == "gemini-2.5-flash"
    assert request.temperature == 0.2
    assert request.stream is True
    assert request.messages[0].role == "user"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \n",
        b"{bad",
        b'{"model": "m",}',
        b"\xff\xfe\x00\x01",
        b'{"model": "\xff\xfe"}',
        b"\xc3",
    ],
    ids=[
        "empty",
        "blank",
        "truncated",
        "trailing-comma",
        "binary",
        "invalid-utf8-in-string",
        "cut-utf8",
    ],
)
def test_unreadable_json_is_a_400(raw: bytes) -> None:
    error = parse_error(raw)
    assert error.param is None
    assert "JSON" in error.message


@pytest.mark.parametrize(
    "data", [[1, 2], "text", None, 5, True], ids=["array", "string", "null", "number", "bool"]
)
def test_json_that_is_not_an_object_is_a_400(data: Any) -> None:
    error = parse_error(data)
    assert "JSON object" in error.message


@pytest.mark.parametrize(
    "raw",
    [b"[" * 10_000, b"{" + b'"a":{' * 10_000, b'{"model":"m","messages":' + b"[" * 10_000],
    ids=["arrays", "objects", "inside-a-field"],
)
def test_deeply_nested_json_is_a_400_not_a_crash(raw: bytes) -> None:
    parse_error(raw)


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"messages": USER}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "", "messages": USER}, "model"),
        ({"model": 5, "messages": USER}, "model"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": "hi"}, "messages"),
        ({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0]"),
        ({"model": "m", "messages": [{"content": "x"}]}, "messages[0]"),
        (
            {"model": "m", "messages": [*USER, {"role": "tool", "content": "x"}]},
            "messages[1].tool_call_id",
        ),
        ({"model": "m", "messages": USER, "temperature": 2.5}, "temperature"),
        ({"model": "m", "messages": USER, "temperature": -0.1}, "temperature"),
        ({"model": "m", "messages": USER, "temperature": "hot"}, "temperature"),
        ({"model": "m", "messages": USER, "top_p": 1.5}, "top_p"),
        ({"model": "m", "messages": USER, "n": 0}, "n"),
        ({"model": "m", "messages": USER, "n": 9}, "n"),
        ({"model": "m", "messages": USER, "max_tokens": 0}, "max_tokens"),
        ({"model": "m", "messages": USER, "max_completion_tokens": -5}, "max_completion_tokens"),
        ({"model": "m", "messages": USER, "presence_penalty": 2.5}, "presence_penalty"),
        (
            {"model": "m", "messages": USER, "stream_options": {"include_usage": "x"}},
            "stream_options.include_usage",
        ),
    ],
)
def test_invalid_field_is_a_400_naming_its_path(data: dict[str, Any], param: str) -> None:
    error = parse_error(data)
    assert error.param == param
    assert error.code == "invalid_value"
    assert f"'{param}'" in error.message


def test_wrong_message_content_type_names_the_message() -> None:
    error = parse_error({"model": "m", "messages": [*USER, {"role": "user", "content": 5}]})
    assert error.param is not None
    assert error.param.startswith("messages[1].content")


PARAM_BUG = (
    "BUG: app/body.py _path only skips union labels right after a list index, so the 'str' branch "
    "label of a `str | list[...]` field leaks into `param` (e.g. 'messages[0].content.str')"
)


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (
            {"model": "m", "messages": [{"role": "system", "content": {"a": 1}}]},
            "messages[0].content",
        ),
        ({"model": "m", "messages": USER, "stop": 5}, "stop"),
    ],
    ids=["user-content", "system-content", "stop"],
)
def test_union_field_param_has_no_branch_label(data: dict[str, Any], param: str) -> None:
    assert parse_error(data).param == param


def test_bad_content_part_is_named() -> None:
    data = {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}
    assert parse_error(data).param == "messages[0].content[0].text"
