"""Gemini answers -> OpenAI answers: `to_chat_completion` and `StreamTranslator`."""

import json
import re
from typing import Any

import pytest

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.openai.models import ChatCompletion, ChatCompletionChunk
from gemini_proxy.openai.translate_response import (
    AnswerOptions,
    StreamTranslator,
    to_chat_completion,
)
from gemini_proxy.upstream.classify import FailureKind, UpstreamError
from gemini_proxy.upstream.wire import GenerateContentResponse
from tests.support.openai_schema import validate

MODEL = "gemini-2.5-flash"
ID = "chatcmpl-test123"
CREATED = 1_764_000_000
CALL_ID = re.compile(r"call_[0-9a-f]{24}(\.ts\.[A-Za-z0-9_-]+)?")


def answer(*candidates: dict[str, Any], **extra: Any) -> GenerateContentResponse:
    return GenerateContentResponse.model_validate({"candidates": list(candidates), **extra})


def cand(
    *texts: str,
    finish: str | None = "STOP",
    index: int = 0,
    thoughts: tuple[str, ...] = (),
    calls: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"text": t, "thought": True} for t in thoughts]
    parts += [{"text": t} for t in texts]
    parts += [{"functionCall": c} for c in calls]
    data: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": index}
    if finish is not None:
        data["finishReason"] = finish
    return data


def complete(response: GenerateContentResponse, **options: Any) -> dict[str, Any]:
    completion = to_chat_completion(response, MODEL, ID, CREATED, AnswerOptions(**options))
    assert isinstance(completion, ChatCompletion)
    data = json.loads(completion.model_dump_json())
    validate("CreateChatCompletionResponse", data)
    assert completion.model_dump(mode="json") == data
    return data


def chunks_json(chunks: list[ChatCompletionChunk]) -> list[dict[str, Any]]:
    out = []
    for chunk in chunks:
        data = json.loads(chunk.model_dump_json())
        validate("CreateChatCompletionStreamResponse", data)
        assert chunk.model_dump(mode="json") == data
        out.append(data)
    return out


def bad_answer(call: Any, *args: Any) -> str:
    with pytest.raises(UpstreamError) as caught:
        call(*args)
    failure = caught.value.failure
    assert failure.kind is FailureKind.BAD_ANSWER
    assert failure.status == 200
    assert failure.retry_elsewhere
    return failure.message


# --- whole answers --------------------------------------------------------------------------


def test_text_parts_are_joined_and_thoughts_kept_out_of_content() -> None:
    data = complete(
        answer(
            cand("Hello, ", "world", "!", thoughts=("I should ", "greet.")),
            usageMetadata={"promptTokenCount": 5, "candidatesTokenCount": 3, "totalTokenCount": 8},
        )
    )
    assert data["id"] == ID
    assert data["object"] == "chat.completion"
    assert data["created"] == CREATED
    assert data["model"] == MODEL
    assert data["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello, world!",
                "refusal": None,
                "reasoning_content": "I should greet.",
            },
            "finish_reason": "stop",
            "logprobs": None,
        }
    ]


def test_answer_without_thoughts_has_no_reasoning_field() -> None:
    message = complete(answer(cand("plain")))["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "plain", "refusal": None}


def test_think_tags_option_puts_thoughts_in_content() -> None:
    message = complete(answer(cand("Hi", thoughts=("greet",))), think_tags=True)["choices"][0]
    assert message["message"]["content"] == "<think>greet</think>\nHi"
    assert "reasoning_content" not in message["message"]


@pytest.mark.parametrize(
    ("gemini", "openai"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("OTHER", "stop"),
        (None, "stop"),
    ],
)
def test_finish_reason_mapping(gemini: str | None, openai: str) -> None:
    data = complete(answer(cand("some text", finish=gemini)))
    assert data["choices"][0]["finish_reason"] == openai
    assert data["choices"][0]["message"]["content"] == "some text"


@pytest.mark.parametrize("gemini", ["MAX_TOKENS", "SAFETY", "PROHIBITED_CONTENT"])
def test_non_stop_finish_without_text_is_an_empty_answer_not_a_failure(gemini: str) -> None:
    choice = complete(answer(cand(finish=gemini)))["choices"][0]
    assert choice["message"]["content"] == ""
    assert choice["finish_reason"] in ("length", "content_filter")


@pytest.mark.parametrize("gemini", ["MALFORMED_FUNCTION_CALL"])
def test_malformed_function_call_is_a_bad_answer(gemini: str) -> None:
    message = bad_answer(to_chat_completion, answer(cand("x", finish=gemini)), MODEL, ID, CREATED)
    assert gemini in message


@pytest.mark.parametrize(
    "candidate",
    [cand(), cand(thoughts=("only thinking",)), cand(finish=None), {"finishReason": "STOP"}],
    ids=["no-parts", "only-thoughts", "no-finish", "no-content"],
)
def test_empty_stop_answer_is_a_bad_answer(candidate: dict[str, Any]) -> None:
    bad_answer(to_chat_completion, answer(candidate), MODEL, ID, CREATED)


def test_no_candidates_without_block_reason_is_a_bad_answer() -> None:
    response = answer(usageMetadata={"promptTokenCount": 3})
    bad_answer(to_chat_completion, response, MODEL, ID, CREATED)


def test_blocked_prompt_is_a_content_policy_400() -> None:
    response = GenerateContentResponse.model_validate(
        {
            "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
        }
    )
    with pytest.raises(InvalidRequest) as caught:
        to_chat_completion(response, MODEL, ID, CREATED)
    assert caught.value.status == 400
    assert caught.value.code == "content_policy_violation"
    assert caught.value.param == "messages"
    assert "PROHIBITED_CONTENT" in caught.value.message
    validate("ErrorResponse", caught.value.body())


def test_n_candidates_become_n_choices() -> None:
    data = complete(
        answer(
            cand("zero", index=0),
            cand("one", index=1, finish="MAX_TOKENS"),
            cand("two", index=2),
        )
    )
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in data["choices"]] == [
        (0, "zero", "stop"),
        (1, "one", "length"),
        (2, "two", "stop"),
    ]


def test_usage_counts_thoughts_as_completion_and_reports_details() -> None:
    data = complete(
        answer(
            cand("hi"),
            usageMetadata={
                "promptTokenCount": 100,
                "candidatesTokenCount": 20,
                "thoughtsTokenCount": 30,
                "cachedContentTokenCount": 40,
                "totalTokenCount": 150,
            },
        )
    )
    assert data["usage"] == {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 40},
        "completion_tokens_details": {"reasoning_tokens": 30},
    }


def test_total_tokens_comes_from_total_token_count() -> None:
    meta = {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 21}
    usage = complete(answer(cand("hi"), usageMetadata=meta))["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (
        10,
        5,
        21,
    )


def test_missing_usage_metadata_gives_zero_usage() -> None:
    usage = complete(answer(cand("hi")))["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (0, 0, 0)


# --- function calls -------------------------------------------------------------------------

PARIS = {"name": "get_weather", "args": {"city": "Paris"}}
ROME = {"name": "get_weather", "args": {"city": "Rome", "units": ["c"]}}


def test_function_calls_become_tool_calls() -> None:
    choice = complete(answer(cand(calls=(PARIS, ROME))))["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] is None
    calls = message["tool_calls"]
    assert [(c["type"], c["function"]["name"]) for c in calls] == [("function", "get_weather")] * 2
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [PARIS["args"], ROME["args"]]
    assert all(CALL_ID.fullmatch(c["id"]) for c in calls)
    assert calls[0]["id"] != calls[1]["id"]


def test_text_with_function_call_keeps_both() -> None:
    message = complete(answer(cand("Checking.", calls=(PARIS,))))["choices"][0]["message"]
    assert message["content"] == "Checking."
    assert len(message["tool_calls"]) == 1


def test_function_call_without_args_has_empty_object_arguments() -> None:
    calls = complete(answer(cand(calls=({"name": "now"},))))["choices"][0]["message"]["tool_calls"]
    assert calls[0]["function"]["arguments"] == "{}"


def test_function_names_are_mapped_back_to_the_clients_names() -> None:
    options = {"tool_names": {"my_tool_v2": "my tool/v2"}}
    data = complete(answer(cand(calls=({"name": "my_tool_v2", "args": {}},))), **options)
    assert data["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "my tool/v2"


def test_single_tool_call_option_keeps_only_the_first_call() -> None:
    calls = complete(answer(cand(calls=(PARIS, ROME))), single_tool_call=True)["choices"][0]
    assert [json.loads(c["function"]["arguments"]) for c in calls["message"]["tool_calls"]] == [
        PARIS["args"]
    ]


def test_max_tokens_with_function_call_stays_length() -> None:
    choice = complete(answer(cand(calls=(PARIS,), finish="MAX_TOKENS")))["choices"][0]
    assert choice["finish_reason"] == "length"


# --- citations ------------------------------------------------------------------------------


def test_search_grounding_becomes_url_citations_with_character_offsets() -> None:
    text = "Café prices rose. Tea fell."
    second = text.index("Tea")
    grounding = {
        "groundingChunks": [
            {"web": {"uri": "https://a.example/cafe", "title": "A"}},
            {"web": {"uri": "https://b.example/tea"}},
        ],
        "groundingSupports": [
            {
                "segment": {"startIndex": 0, "endIndex": len(text[:17].encode())},
                "groundingChunkIndices": [0],
            },
            {
                # Gemini counts UTF-8 bytes; "é" is two bytes but one character.
                "segment": {
                    "startIndex": len(text[:second].encode()),
                    "endIndex": len(text.encode()),
                },
                "groundingChunkIndices": [1, 7],  # 7 does not exist: skipped
            },
        ],
    }
    data = complete(answer(cand(text) | {"groundingMetadata": grounding}))
    annotations = data["choices"][0]["message"]["annotations"]
    assert annotations == [
        {
            "type": "url_citation",
            "url_citation": {
                "start_index": 0,
                "end_index": 17,
                "url": "https://a.example/cafe",
                "title": "A",
            },
        },
        {
            "type": "url_citation",
            "url_citation": {
                "start_index": second,
                "end_index": len(text),
                "url": "https://b.example/tea",
                "title": "https://b.example/tea",
            },
        },
    ]
    for note in annotations:
        cited = note["url_citation"]
        assert text[cited["start_index"] : cited["end_index"]] in ("Café prices rose.", "Tea fell.")


# --- streaming ------------------------------------------------------------------------------


def translator(include_usage: bool = False, **options: Any) -> StreamTranslator:
    return StreamTranslator(MODEL, ID, CREATED, include_usage, AnswerOptions(**options))


def test_text_is_emitted_as_soon_as_fed_and_only_the_first_delta_has_a_role() -> None:
    stream = translator()
    first = chunks_json(stream.feed(answer(cand("Hel", finish=None))))
    second = chunks_json(stream.feed(answer(cand("lo", finish=None))))
    assert first == [
        {
            "id": ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "Hel"},
                    "finish_reason": None,
                }
            ],
        }
    ]
    assert second[0]["choices"] == [{"index": 0, "delta": {"content": "lo"}, "finish_reason": None}]


def test_finish_emits_one_finish_chunk_and_no_usage_without_include_usage() -> None:
    stream = translator(include_usage=False)
    stream.feed(answer(cand("Hi", finish=None)))
    assert stream.feed(answer(cand(finish="STOP"), usageMetadata={"promptTokenCount": 1})) == []
    closing = chunks_json(stream.finish())
    assert len(closing) == 1
    assert closing[0]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert "usage" not in closing[0]


def test_finish_with_include_usage_adds_a_usage_chunk_with_empty_choices() -> None:
    stream = translator(include_usage=True)
    stream.feed(answer(cand("Hi", finish=None), usageMetadata={"promptTokenCount": 1}))
    stream.feed(
        answer(
            cand(" there", finish="STOP"),
            usageMetadata={
                "promptTokenCount": 4,
                "candidatesTokenCount": 2,
                "thoughtsTokenCount": 6,
                "cachedContentTokenCount": 1,
                "totalTokenCount": 12,
            },
        )
    )
    closing = chunks_json(stream.finish())
    assert [c["choices"] for c in closing] == [
        [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        [],
    ]
    assert closing[1]["usage"] == {
        "prompt_tokens": 4,
        "completion_tokens": 8,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 1},
        "completion_tokens_details": {"reasoning_tokens": 6},
    }
    assert "usage" not in closing[0]


def test_text_and_finish_in_one_event() -> None:
    stream = translator()
    out = chunks_json(stream.feed(answer(cand("all at once", finish="MAX_TOKENS"))))
    assert out[0]["choices"] == [
        {
            "index": 0,
            "delta": {"role": "assistant", "content": "all at once"},
            "finish_reason": None,
        }
    ]
    assert chunks_json(stream.finish())[0]["choices"][0]["finish_reason"] == "length"


def test_thoughts_stream_as_reasoning_content() -> None:
    stream = translator()
    out = chunks_json(stream.feed(answer(cand(finish=None, thoughts=("hmm",)))))
    assert out[0]["choices"][0]["delta"] == {"role": "assistant", "reasoning_content": "hmm"}
    out = chunks_json(stream.feed(answer(cand("answer", finish="STOP", thoughts=("more",)))))
    assert out[0]["choices"][0]["delta"] == {"content": "answer", "reasoning_content": "more"}
    assert chunks_json(stream.finish())[0]["choices"][0]["finish_reason"] == "stop"


def test_think_tags_stream_wraps_thoughts_in_content() -> None:
    stream = translator(think_tags=True)
    deltas = [
        chunk["choices"][0]["delta"]
        for event in (
            answer(cand(finish=None, thoughts=("a",))),
            answer(cand(finish=None, thoughts=("b",))),
            answer(cand("answer", finish="STOP")),
        )
        for chunk in chunks_json(stream.feed(event))
    ]
    assert "".join(d["content"] for d in deltas) == "<think>ab</think>\nanswer"
    assert all("reasoning_content" not in d for d in deltas)
    chunks_json(stream.finish())


def test_each_candidate_gets_its_own_role_delta_and_finish_chunk() -> None:
    stream = translator()
    out = chunks_json(
        stream.feed(answer(cand("a", index=0, finish=None), cand("b", index=1, finish=None)))
    )
    assert out[0]["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": "a"}, "finish_reason": None},
        {"index": 1, "delta": {"role": "assistant", "content": "b"}, "finish_reason": None},
    ]
    out = chunks_json(stream.feed(answer(cand("c", index=1, finish="STOP"))))
    assert out[0]["choices"] == [{"index": 1, "delta": {"content": "c"}, "finish_reason": None}]
    stream.feed(answer(cand(index=0, finish="SAFETY")))
    closing = chunks_json(stream.finish())
    assert [c["choices"] for c in closing] == [
        [{"index": 0, "delta": {}, "finish_reason": "content_filter"}],
        [{"index": 1, "delta": {}, "finish_reason": "stop"}],
    ]


def test_streamed_tool_calls_have_distinct_indexes() -> None:
    stream = translator()
    first = chunks_json(stream.feed(answer(cand(calls=(PARIS,), finish=None))))
    second = chunks_json(stream.feed(answer(cand(calls=(ROME,), finish="STOP"))))
    calls = [
        *first[0]["choices"][0]["delta"]["tool_calls"],
        *second[0]["choices"][0]["delta"]["tool_calls"],
    ]
    assert first[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [c["index"] for c in calls] == [0, 1]
    assert all(CALL_ID.fullmatch(c["id"]) and c["type"] == "function" for c in calls)
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [PARIS["args"], ROME["args"]]
    closing = chunks_json(stream.finish())
    assert closing[0]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]


def test_streamed_single_tool_call_option() -> None:
    stream = translator(single_tool_call=True)
    out = chunks_json(stream.feed(answer(cand(calls=(PARIS, ROME)))))
    assert len(out[0]["choices"][0]["delta"]["tool_calls"]) == 1


@pytest.mark.parametrize(
    "events",
    [
        [],
        [answer(cand(finish="STOP"))],
        [answer(cand(finish=None, thoughts=("thinking",))), answer(cand(finish="STOP"))],
        [answer(usageMetadata={"promptTokenCount": 3})],
    ],
    ids=["nothing", "empty-stop", "only-thoughts", "only-usage"],
)
def test_stream_without_an_answer_is_a_bad_answer(events: list[GenerateContentResponse]) -> None:
    stream = translator(include_usage=True)
    for item in events:
        for chunk in stream.feed(item):
            assert chunk.choices[0].delta.content is None
    bad_answer(stream.finish)


def test_stream_with_text_but_no_finish_reason_is_cut_short() -> None:
    stream = translator()
    stream.feed(answer(cand("partial", finish=None)))
    assert "before the answer was finished" in bad_answer(stream.finish)


def test_max_tokens_without_text_finishes_with_role_and_empty_content() -> None:
    stream = translator(include_usage=True)
    event = answer(cand(finish="MAX_TOKENS"), usageMetadata={"thoughtsTokenCount": 9})
    assert stream.feed(event) == []
    closing = chunks_json(stream.finish())
    assert closing[0]["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": "length"}
    ]
    assert closing[1]["usage"]["completion_tokens_details"] == {"reasoning_tokens": 9}


def test_max_tokens_after_thoughts_finishes_with_length() -> None:
    stream = translator()
    stream.feed(answer(cand(finish=None, thoughts=("long thinking",))))
    stream.feed(answer(cand(finish="MAX_TOKENS")))
    closing = chunks_json(stream.finish())
    assert closing[0]["choices"][0]["finish_reason"] == "length"


def test_malformed_function_call_in_stream_is_a_bad_answer() -> None:
    stream = translator()
    stream.feed(answer(cand("x", finish=None)))
    bad_answer(stream.feed, answer(cand(finish="MALFORMED_FUNCTION_CALL")))


def test_blocked_prompt_in_stream_is_a_content_policy_400() -> None:
    stream = translator()
    blocked = GenerateContentResponse.model_validate({"promptFeedback": {"blockReason": "SAFETY"}})
    with pytest.raises(InvalidRequest) as caught:
        stream.feed(blocked)
    assert caught.value.code == "content_policy_violation"


def test_chunks_share_id_created_and_model() -> None:
    stream = translator(include_usage=True)
    produced = stream.feed(answer(cand("a", finish=None)))
    produced += stream.feed(answer(cand("b", finish="STOP")))
    produced += stream.finish()
    data = chunks_json(produced)
    assert len(data) == 4
    assert {(d["id"], d["created"], d["model"], d["object"]) for d in data} == {
        (ID, CREATED, MODEL, "chat.completion.chunk")
    }
    text = "".join(d["choices"][0]["delta"].get("content", "") for d in data if d["choices"])
    assert text == "ab"
