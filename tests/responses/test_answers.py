"""Gemini answers -> Responses output: whole (`to_response`) and streamed (`ResponseStream`)."""

from typing import Any

import pytest

from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import InvalidRequest, ProxyError
from gemini_proxy.generation import signatures
from gemini_proxy.responses import carrier
from gemini_proxy.responses.stream import ResponseFrames, ResponseStream
from gemini_proxy.responses.tools import ToolRef
from gemini_proxy.responses.translate_response import AnswerOptions, Shell, to_response
from gemini_proxy.upstream.classify import UpstreamError
from gemini_proxy.upstream.wire import GenerateContentResponse
from tests.support.openai_schema import validate

MODEL = "gemini-3-flash-preview"
SIGNER = signatures.Signer(Credential("ai_studio", "unit-key"), MODEL)
SHELL = Shell("resp_test", 1_800_000_000, "my-model", {"store": False})
USAGE = {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 3}


def answer(parts: list[dict[str, Any]], finish: str | None = "STOP", **extra: Any) -> Any:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return GenerateContentResponse.model_validate(
        {"candidates": [candidate], "usageMetadata": USAGE, **extra}
    )


def whole(parts: list[dict[str, Any]], options: AnswerOptions | None = None, **kw: Any) -> Any:
    response = to_response(answer(parts, **kw), SHELL, options or AnswerOptions(), 1_800_000_001)
    body = response.model_dump(mode="json")
    validate("Response", body)
    return body


def test_text_thoughts_and_usage() -> None:
    body = whole([{"text": "hmm", "thought": True}, {"text": "Hello"}, {"text": " world"}])
    reasoning, message = body["output"]
    assert reasoning["summary"] == [{"type": "summary_text", "text": "hmm"}]
    assert message["content"][0]["text"] == "Hello world"
    assert body["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 8,
        "output_tokens_details": {"reasoning_tokens": 3},
        "total_tokens": 18,
    }
    assert body["status"] == "completed" and body["completed_at"] == 1_800_000_001


def test_calls_map_back_to_function_custom_and_namespaced_tools() -> None:
    refs = {
        "apply_patch": ToolRef("custom", "apply_patch"),
        "crm.lookup": ToolRef("function", "lookup", "crm"),
    }
    parts = [
        {"functionCall": {"name": "apply_patch", "args": {"input": "diff"}}},
        {"functionCall": {"name": "crm.lookup", "args": {"who": "Ada"}}},
        {"functionCall": {"name": "plain", "args": {}}},
    ]
    custom, lookup, plain = whole(parts, AnswerOptions(refs=refs))["output"]
    assert (custom["type"], custom["name"], custom["input"]) == (
        "custom_tool_call",
        "apply_patch",
        "diff",
    )
    assert (lookup["namespace"], lookup["name"], lookup["arguments"]) == (
        "crm",
        "lookup",
        '{"who":"Ada"}',
    )
    assert plain["name"] == "plain" and "namespace" not in plain


def test_signatures_are_bound_into_call_ids_and_encrypted_content() -> None:
    parts = [
        {"functionCall": {"name": "a", "args": {}}, "thoughtSignature": "U2lnQQ=="},
        {"functionCall": {"name": "b", "args": {}}},
    ]
    options = AnswerOptions(encrypted=True, bind=SIGNER.bind)
    reasoning, first, second = whole(parts, options)["output"]
    carried = carrier.unseal(reasoning["encrypted_content"])
    assert carried is not None and carried.text is None
    token = carried.calls[carrier.call_key(first["call_id"])]
    assert signatures.release(token, SIGNER.credential, MODEL) == "U2lnQQ=="
    assert first["call_id"].endswith(".ts." + token)
    assert ".ts." not in second["call_id"]
    # Without the include, the call id still carries it and no reasoning item appears.
    only = whole(parts, AnswerOptions(bind=SIGNER.bind))["output"]
    assert [item["type"] for item in only] == ["function_call", "function_call"]


@pytest.mark.parametrize(
    ("finish", "reason"), [("MAX_TOKENS", "max_output_tokens"), ("SAFETY", "content_filter")]
)
def test_limits_and_filters_end_incomplete(finish: str, reason: str) -> None:
    body = whole([{"text": "cut"}], finish=finish)
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": reason}
    assert body["output"][0]["status"] == "incomplete" and "completed_at" not in body


@pytest.mark.parametrize(
    "parts",
    [[], [{"text": "only thinking", "thought": True}]],
    ids=["empty", "thoughts-only"],
)
def test_no_answer_is_a_failure_to_fail_over(parts: list[dict[str, Any]]) -> None:
    with pytest.raises(UpstreamError):
        whole(parts)


def test_malformed_call_and_blocked_prompt() -> None:
    with pytest.raises(UpstreamError):
        whole([{"text": "x"}], finish="MALFORMED_FUNCTION_CALL")
    blocked = GenerateContentResponse.model_validate({"promptFeedback": {"blockReason": "SAFETY"}})
    with pytest.raises(InvalidRequest) as caught:
        to_response(blocked, SHELL, AnswerOptions(), 0)
    assert caught.value.param == "input"


def test_grounding_becomes_url_citations_in_characters() -> None:
    text = "Café news"
    grounding = {
        "groundingChunks": [{"web": {"uri": "https://a.example", "title": "a"}}],
        "groundingSupports": [
            {
                "segment": {"startIndex": 0, "endIndex": len(text.encode())},
                "groundingChunkIndices": [0],
            }
        ],
    }
    response = GenerateContentResponse.model_validate(
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": text}]},
                    "finishReason": "STOP",
                    "groundingMetadata": grounding,
                }
            ]
        }
    )
    body = to_response(response, SHELL, AnswerOptions(), 0).model_dump(mode="json")
    [citation] = body["output"][0]["content"][0]["annotations"]
    assert citation == {
        "type": "url_citation",
        "url": "https://a.example",
        "title": "a",
        "start_index": 0,
        "end_index": len(text),
    }


# --- streams ---------------------------------------------------------------------------------


def run(
    chunks: list[Any], options: AnswerOptions | None = None
) -> tuple[list[dict[str, Any]], ResponseStream]:
    stream = ResponseStream(SHELL, options or AnswerOptions())
    found = [e for chunk in chunks for e in stream.feed(chunk)]
    found += stream.finish()
    dumped = [_json(e) for e in found]
    for event in dumped:
        validate("ResponseStreamEvent", event)
    assert [e["sequence_number"] for e in dumped] == list(range(len(dumped)))
    return dumped, stream


def _json(event: dict[str, Any]) -> dict[str, Any]:
    import json

    from pydantic_core import to_json

    loaded: dict[str, Any] = json.loads(to_json(event))
    return loaded


def kinds(found: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in found]


def test_a_stream_opens_only_with_content() -> None:
    stream = ResponseStream(SHELL, AnswerOptions())
    assert stream.feed(answer([], finish=None)) == []  # nothing yet: failover still possible
    found = stream.feed(answer([{"text": "Hi"}], finish=None))
    assert kinds(found)[:2] == ["response.created", "response.in_progress"]


def test_thoughts_then_text_then_call() -> None:
    chunks = [
        answer([{"text": "Thinking", "thought": True}], finish=None),
        answer([{"text": "Hello"}], finish=None),
        answer(
            [{"functionCall": {"name": "a", "args": {"x": 1}}, "thoughtSignature": "U2ln"}],
            finish="STOP",
        ),
    ]
    found, stream = run(chunks, AnswerOptions(bind=SIGNER.bind))
    assert kinds(found) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["output_index"] for e in found if e["type"] == "response.output_item.added"] == [
        0,
        1,
        2,
    ]
    final = found[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["reasoning", "message", "function_call"]
    assert ".ts.gts1_" in final["output"][2]["call_id"]  # the call id carries its signature
    assert stream.final is not None and stream.final.status == "completed"
    # With encrypted content asked for, the signature also goes out ahead of its call: the
    # summary's reasoning item had closed, so in a reasoning item of its own.
    found, _ = run(chunks, AnswerOptions(encrypted=True, bind=SIGNER.bind))
    output = found[-1]["response"]["output"]
    assert [item["type"] for item in output] == [
        "reasoning",
        "message",
        "reasoning",
        "function_call",
    ]
    assert "encrypted_content" not in output[0]
    carried = carrier.unseal(output[2]["encrypted_content"])
    assert carried is not None and carrier.call_key(output[3]["call_id"]) in carried.calls


def test_a_call_signature_goes_out_in_a_reasoning_item_ahead_of_the_call() -> None:
    chunks = [answer([{"functionCall": {"name": "a", "args": {}}, "thoughtSignature": "U2ln"}])]
    found, _ = run(chunks, AnswerOptions(encrypted=True, bind=SIGNER.bind))
    output = found[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["reasoning", "function_call"]
    carried = carrier.unseal(output[0]["encrypted_content"])
    assert carried is not None and carrier.call_key(output[1]["call_id"]) in carried.calls


def test_a_late_text_signature_gets_its_own_reasoning_item_at_the_end() -> None:
    chunks = [
        answer([{"text": "Hi"}], finish=None),
        answer([{"text": "", "thoughtSignature": "VGV4dA=="}], finish="STOP"),
    ]
    found, _ = run(chunks, AnswerOptions(encrypted=True, bind=SIGNER.bind))
    output = found[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["message", "reasoning"]
    carried = carrier.unseal(output[1]["encrypted_content"])
    assert carried is not None and carried.text is not None


def test_the_token_limit_ends_with_response_incomplete() -> None:
    found, _ = run([answer([{"text": "cut short"}], finish="MAX_TOKENS")])
    assert kinds(found)[-1] == "response.incomplete"
    assert found[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_a_stream_cut_before_its_end_is_a_failure() -> None:
    stream = ResponseStream(SHELL, AnswerOptions())
    stream.feed(answer([{"text": "partial"}], finish=None))
    with pytest.raises(UpstreamError):
        stream.finish()


def test_a_failure_after_the_first_byte_is_response_failed() -> None:
    frames = ResponseFrames(ResponseStream(SHELL, AnswerOptions()))
    frames.feed(answer([{"text": "partial"}], finish=None))
    [failed] = frames.fail(ProxyError("Gemini went away", status=503))
    assert failed.startswith(b"event: response.failed\ndata: ")
    import json

    event = json.loads(failed.split(b"data: ", 1)[1])
    validate("ResponseStreamEvent", event)
    assert event["response"]["error"] == {"code": "server_error", "message": "Gemini went away"}
    assert event["response"]["output"] == []  # the message never finished


def test_frames_remember_the_closing_frame() -> None:
    frames = ResponseFrames(ResponseStream(SHELL, AnswerOptions()))
    frames.feed(answer([{"text": "Hi"}]))
    closing = frames.finish()
    assert frames.closing is closing[-1]
    assert closing[-1].startswith(b"event: response.completed\n")
