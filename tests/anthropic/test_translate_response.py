"""Gemini answers -> Anthropic messages, whole and streamed, validated with the SDK's types."""

import json
import re
from typing import Any

import pytest

from gemini_proxy.anthropic.errors import error_body, render_error
from gemini_proxy.anthropic.stream import MessageFrames
from gemini_proxy.anthropic.tools import signature_in_id
from gemini_proxy.anthropic.translate_response import AnswerOptions, to_message
from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import InvalidRequest, ProxyError
from gemini_proxy.generation import signatures
from gemini_proxy.pool.verdicts import all_benched
from gemini_proxy.upstream.classify import UpstreamError
from gemini_proxy.upstream.wire import GenerateContentResponse
from tests.anthropic import sdk

MODEL = "gemini-3-flash-preview"
CREDENTIAL = Credential("ai_studio", "key-one")
SIGNER = signatures.Signer(CREDENTIAL, MODEL)
OPTIONS = AnswerOptions(
    model="claude-opus-5-5", tool_names={"get_weather": "get_weather"}, bind=SIGNER.bind
)
USAGE = {
    "promptTokenCount": 50,
    "cachedContentTokenCount": 20,
    "candidatesTokenCount": 7,
    "thoughtsTokenCount": 5,
}


def answer(
    parts: list[dict[str, Any]], finish: str | None = "STOP", **extra: Any
) -> GenerateContentResponse:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0, **extra}
    if finish:
        candidate["finishReason"] = finish
    return GenerateContentResponse.model_validate(
        {"candidates": [candidate], "usageMetadata": USAGE}
    )


def whole(
    parts: list[dict[str, Any]],
    finish: str = "STOP",
    options: AnswerOptions = OPTIONS,
    **extra: Any,
) -> dict[str, Any]:
    body = to_message(answer(parts, finish, **extra), "msg_1", options).model_dump(mode="json")
    sdk.message(body)
    return body


def streamed(
    events: list[GenerateContentResponse], options: AnswerOptions = OPTIONS
) -> list[tuple[str, dict[str, Any]]]:
    frames = MessageFrames("msg_1", options)
    raw = b"".join(b for event in events for b in frames.feed(event)) + b"".join(frames.finish())
    parsed = sdk.events(raw.decode())
    sdk.check_order(parsed)
    return parsed


def block(deltas: int) -> list[str]:
    return ["content_block_start", *["content_block_delta"] * deltas, "content_block_stop"]


def opened(bound: str) -> str | None:
    return signatures.release(bound, CREDENTIAL, MODEL)


def test_text_usage_and_the_model_name_the_client_asked_for() -> None:
    body = whole([{"text": "Hello"}, {"text": " world"}])
    assert body["model"] == "claude-opus-5-5" and body["id"] == "msg_1"
    assert body["content"] == [{"type": "text", "text": "Hello world", "citations": None}]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"] == {
        "input_tokens": 30,  # cache reads counted apart, as Anthropic does
        "cache_read_input_tokens": 20,
        "cache_creation_input_tokens": 0,
        "output_tokens": 12,  # thinking is output
        "server_tool_use": None,
    }


def test_thought_signatures_stay_with_the_thoughts_they_signed() -> None:
    parts = [
        {"text": "first ", "thought": True},
        {"text": "thought", "thought": True, "thoughtSignature": "SIG_A"},
        {"text": "second thought", "thought": True, "thoughtSignature": "SIG_B"},
        {"text": "third, unsigned", "thought": True},
        {"text": "Answer", "thoughtSignature": "SIG_TEXT"},
    ]
    content = whole(parts)["content"]
    assert [b["type"] for b in content] == ["thinking", "thinking", "thinking", "text"]
    assert content[0]["thinking"] == "first thought" and opened(content[0]["signature"]) == "SIG_A"
    assert content[1]["thinking"] == "second thought" and opened(content[1]["signature"]) == "SIG_B"
    assert content[2] == {"type": "thinking", "thinking": "third, unsigned", "signature": ""}
    # Google does not validate a signature on text, and a text block cannot carry one.
    assert content[3]["text"] == "Answer"
    # Bound to this credential and model: it opens nowhere else.
    assert (
        signatures.release(content[0]["signature"], Credential("ai_studio", "other"), MODEL) is None
    )


def test_a_calls_signature_rides_in_its_id() -> None:
    parts = [
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Rome"}},
            "thoughtSignature": "CALL_SIG",
        },
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
    ]
    body = whole(parts)
    first, second = body["content"]
    assert body["stop_reason"] == "tool_use"
    assert first["input"] == {"city": "Rome"} and second["input"] == {"city": "Oslo"}
    for block in (first, second):
        assert re.fullmatch(sdk.TOOL_USE_ID, block["id"]) and block["id"].startswith("toolu_")
    token = signature_in_id(first["id"])
    assert token is not None and opened(token) == "CALL_SIG"
    assert signature_in_id(second["id"]) is None
    assert first["id"] != second["id"]


def test_one_call_when_parallel_calls_are_off() -> None:
    parts = [
        {"functionCall": {"name": "a", "args": {}}},
        {"functionCall": {"name": "b", "args": {}}},
    ]
    single = AnswerOptions(model="m", single_call=True)
    assert [b["name"] for b in whole(parts, options=single)["content"]] == ["a"]


@pytest.mark.parametrize(
    ("finish", "reason"),
    [
        ("MAX_TOKENS", "max_tokens"),
        ("SAFETY", "refusal"),
        ("OTHER", "end_turn"),
        ("STOP", "end_turn"),
    ],
)
def test_stop_reasons(finish: str, reason: str) -> None:
    assert whole([{"text": "x"}], finish)["stop_reason"] == reason


def test_broken_answers_fail_over() -> None:
    for parts, finish in (
        ([], "STOP"),
        ([{"text": "hm", "thought": True}], "STOP"),
        ([{"text": "x"}], "MALFORMED_FUNCTION_CALL"),
    ):
        with pytest.raises(UpstreamError):
            to_message(answer(parts, finish), "msg_1", OPTIONS)
    # All of max_tokens spent thinking is a real, if empty, ending.
    assert whole([{"text": "hm", "thought": True}], "MAX_TOKENS")["stop_reason"] == "max_tokens"


def test_a_blocked_prompt_is_the_clients_error() -> None:
    blocked = GenerateContentResponse.model_validate({"promptFeedback": {"blockReason": "SAFETY"}})
    with pytest.raises(InvalidRequest, match="blocked the prompt"):
        to_message(blocked, "msg_1", OPTIONS)


def test_search_grounding_becomes_web_search_blocks() -> None:
    grounding = {
        "webSearchQueries": ["news"],
        "groundingChunks": [{"web": {"uri": "https://a.example/x", "title": "a.example"}}],
    }
    body = whole([{"text": "Today..."}], groundingMetadata=grounding)
    search, results, text = body["content"]
    assert search == {
        "type": "server_tool_use",
        "id": search["id"],
        "name": "web_search",
        "input": {"query": "news"},
    }
    assert results["content"] == [
        {
            "type": "web_search_result",
            "url": "https://a.example/x",
            "title": "a.example",
            "encrypted_content": "",
            "page_age": None,
        }
    ]
    assert text["text"] == "Today..."
    assert body["usage"]["server_tool_use"] == {"web_search_requests": 1, "web_fetch_requests": 0}


# --- streams ------------------------------------------------------------------------------------


def test_a_stream_in_anthropic_order_builds_the_same_message() -> None:
    parts_by_event = [
        [{"text": "Let me ", "thought": True}],
        [{"text": "think.", "thought": True, "thoughtSignature": "SIG_A"}],
        [{"text": "Hello"}],
        [{"text": " world"}],
        [
            {
                "functionCall": {"name": "get_weather", "args": {"city": "Rome"}},
                "thoughtSignature": "CALL",
            }
        ],
    ]
    events = [answer(parts, None) for parts in parts_by_event[:-1]]
    events.append(answer(parts_by_event[-1], "STOP"))
    stream = streamed(events)
    names = [name for name, _ in stream]
    assert names == [
        "message_start",
        *block(3),  # thinking: two thoughts, then the signature
        *block(2),  # text
        *block(1),  # tool_use: its input at once
        "message_delta",
        "message_stop",
    ]
    deltas = [data["delta"]["type"] for name, data in stream if name == "content_block_delta"]
    assert deltas[:3] == ["thinking_delta", "thinking_delta", "signature_delta"]
    message = sdk.assemble(stream)
    sdk.message(message)
    thinking, text, tool_use = message["content"]
    assert thinking["thinking"] == "Let me think." and opened(thinking["signature"]) == "SIG_A"
    assert text["text"] == "Hello world"
    assert (
        tool_use["input"] == {"city": "Rome"}
        and opened(signature_in_id(tool_use["id"]) or "") == "CALL"
    )
    assert message["stop_reason"] == "tool_use"
    assert message["usage"]["input_tokens"] == 30 and message["usage"]["output_tokens"] == 12


def test_nothing_is_sent_before_there_is_a_block() -> None:
    frames = MessageFrames("msg_1", OPTIONS)
    empty = GenerateContentResponse.model_validate(
        {"candidates": [{"index": 0}], "usageMetadata": USAGE}
    )
    assert list(frames.feed(empty)) == []
    # A stream that ends there fails over (before the first byte, another credential may answer).
    with pytest.raises(UpstreamError):
        frames.finish()


def test_a_thought_only_stream_is_a_failure() -> None:
    frames = MessageFrames("msg_1", OPTIONS)
    assert frames.feed(answer([{"text": "thinking...", "thought": True}], "STOP"))
    with pytest.raises(UpstreamError, match="only thoughts"):
        frames.finish()


def test_a_stream_cut_short_is_a_failure() -> None:
    frames = MessageFrames("msg_1", OPTIONS)
    assert frames.feed(answer([{"text": "Hel"}], None))
    with pytest.raises(UpstreamError, match="before the answer was finished"):
        frames.finish()


def test_a_failure_after_the_first_byte_is_an_error_event() -> None:
    frames = MessageFrames("msg_1", OPTIONS)
    raw = b"".join(frames.feed(answer([{"text": "Hel"}], None)))
    raw += b"".join(
        frames.fail(ProxyError("Gemini is unavailable", status=503, code="unavailable"))
    )
    stream = sdk.events(raw.decode())
    sdk.check_order(stream)
    assert stream[-1] == (
        "error",
        {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Gemini is unavailable"},
        },
    )


def test_max_tokens_before_any_content_still_makes_a_message() -> None:
    stream = streamed([answer([], "MAX_TOKENS")])
    assert [name for name, _ in stream] == ["message_start", "message_delta", "message_stop"]
    assert sdk.assemble(stream)["stop_reason"] == "max_tokens"


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (InvalidRequest("bad"), 400, "invalid_request_error"),
        (
            ProxyError("no key", status=401, type="invalid_request_error"),
            401,
            "authentication_error",
        ),
        (ProxyError("denied", status=403), 403, "permission_error"),
        (ProxyError("missing", status=404), 404, "not_found_error"),
        (ProxyError("too big", status=413), 413, "request_too_large"),
        (ProxyError("media", status=415), 415, "invalid_request_error"),
        (ProxyError("internal", status=500), 500, "api_error"),
        (ProxyError("bad answer", status=502, code="bad_answer"), 502, "api_error"),
        (ProxyError("down", status=503, code="unavailable"), 529, "overloaded_error"),
        (ProxyError("all dead", status=503, code="no_usable_credential"), 503, "api_error"),
    ],
)
def test_errors_take_anthropics_types_and_statuses(
    error: ProxyError, status: int, kind: str
) -> None:
    response = render_error(error)
    assert response.status_code == status
    body = json.loads(bytes(response.body))
    assert body == {"type": "error", "error": {"type": kind, "message": error.message}}
    if kind != "request_too_large":  # Anthropic documents it; this SDK's union lacks it
        sdk.error(body)
    if status == 503:
        assert response.headers["x-should-retry"] == "false"


def test_a_rate_limit_keeps_its_retry_after() -> None:
    response = render_error(all_benched(12.2))
    assert response.status_code == 429 and response.headers["retry-after"] == "13"
    assert error_body(all_benched(1))["error"]["type"] == "rate_limit_error"
