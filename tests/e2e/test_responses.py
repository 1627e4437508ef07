"""`POST /v1/responses` end to end with the official SDK: text, streams, tools, reasoning, the
stateless agent loop on Gemini 3, web search, limits, failures and refusals.

Every non-streamed answer is validated against OpenAI's `Response` schema and every stream
event against `ResponseStreamEvent` (tests/responses/sdk.py).
"""

import json
from typing import Any

import openai
import pytest
from openai import OpenAI

from gemini_proxy.credentials.models import Credential
from gemini_proxy.generation import signatures
from gemini_proxy.responses import carrier
from gemini_proxy.responses.dialect import DIALECT
from tests.e2e.conftest import KEYS, ProxyFactory
from tests.responses.sdk import create, events, final, last_body, output_text, types
from tests.support.fake import FakeGemini
from tests.support.openai_schema import validate

FLASH = "gemini-2.5-flash"
G3 = "gemini-3-flash-preview"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME = {
    "type": "function",
    "name": "get_time",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    "strict": False,
}


def sdk(url: str) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key="not-checked", max_retries=0, timeout=30)


# --- text -------------------------------------------------------------------------------------


def test_a_string_input_answers_with_one_message(client: OpenAI, fake: FakeGemini) -> None:
    body = create(client, model=FLASH, input="Hello there", instructions="Be brief.")
    assert body["status"] == "completed" and body["object"] == "response"
    assert body["id"].startswith("resp_") and body["model"] == FLASH
    assert output_text(body) == "Echo: Hello there"
    [message] = body["output"]
    assert message["role"] == "assistant" and message["status"] == "completed"
    usage = body["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] >= usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_tokens_details"]["reasoning_tokens"] >= 0
    assert usage["input_tokens_details"]["cached_tokens"] == 0
    sent = last_body(fake.requests())
    assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "Hello there"}]}]
    # The SDK's own parsing agrees.
    assert client.responses.create(model=FLASH, input="Hi").output_text == "Echo: Hi"


def test_roles_become_turns_and_system_instruction_in_order(
    client: OpenAI, fake: FakeGemini
) -> None:
    create(
        client,
        model=FLASH,
        instructions="First.",
        input=[
            {"role": "system", "content": "Second."},
            {"role": "user", "content": [{"type": "input_text", "text": "Question one"}]},
            {"type": "message", "role": "assistant", "content": "Answer one"},
            {"role": "developer", "content": [{"type": "input_text", "text": "Third."}]},
            {"role": "user", "content": "Question two"},
        ],
        temperature=0.3,
        top_p=0.9,
        max_output_tokens=500,
    )
    sent = last_body(fake.requests())
    assert [p["text"] for p in sent["systemInstruction"]["parts"]] == [
        "First.",
        "Second.",
        "Third.",
    ]
    assert [(c["role"], c["parts"][0]["text"]) for c in sent["contents"]] == [
        ("user", "Question one"),
        ("model", "Answer one"),
        ("user", "Question two"),
    ]
    config = sent["generationConfig"]
    assert config["temperature"] == 0.3 and config["topP"] == 0.9
    assert config["maxOutputTokens"] == 500


def test_a_stream_has_the_full_event_sequence(client: OpenAI) -> None:
    words = " ".join(f"word{n}" for n in range(20))
    found = events(client, model=FLASH, input=words)
    kinds = types(found)
    assert kinds[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert kinds.count("response.output_text.delta") > 1  # streamed, not buffered
    deltas = "".join(e["delta"] for e in found if e["type"] == "response.output_text.delta")
    done = next(e for e in found if e["type"] == "response.output_text.done")
    assert deltas == done["text"] == f"Echo: {words}"
    response = final(found)
    assert response["status"] == "completed" and output_text(response) == deltas
    assert response["id"] == found[0]["response"]["id"]
    assert response["usage"]["output_tokens"] > 0


def test_the_sdk_stream_helper_assembles_the_answer(client: OpenAI) -> None:
    with client.responses.stream(model=FLASH, input="Stream me") as stream:
        seen = [event.type for event in stream]
        response = stream.get_final_response()
    assert response.output_text == "Echo: Stream me"
    assert seen[0] == "response.created" and seen[-1] == "response.completed"


def test_json_schema_format_becomes_a_response_schema(client: OpenAI, fake: FakeGemini) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    body = create(
        client,
        model=FLASH,
        input="Give JSON",
        text={"format": {"type": "json_schema", "name": "reply", "schema": schema, "strict": True}},
    )
    config = last_body(fake.requests())["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == schema
    assert json.loads(output_text(body)) == {"answer": "Give JSON"}
    body = create(client, model=FLASH, input="Any JSON", text={"format": {"type": "json_object"}})
    assert json.loads(output_text(body)) == {"echo": "Any JSON"}


# --- reasoning --------------------------------------------------------------------------------


def test_reasoning_summary_streams_as_a_reasoning_item(client: OpenAI, fake: FakeGemini) -> None:
    found = events(
        client, model=FLASH, input="Think first", reasoning={"effort": "low", "summary": "auto"}
    )
    thinking = last_body(fake.requests())["generationConfig"]["thinkingConfig"]
    assert thinking == {"thinkingBudget": 1024, "includeThoughts": True}
    kinds = types(found)
    assert kinds[2:5] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
    ]
    for kind in (
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
    ):
        assert kind in kinds
    response = final(found)
    reasoning, _ = response["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["summary"][0]["text"].startswith("**Considering the request**")
    assert "encrypted_content" not in reasoning  # not asked for
    assert output_text(response) == "Echo: Think first"
    details = response["usage"]["output_tokens_details"]
    assert details["reasoning_tokens"] > 0
    assert response["reasoning"] == {"effort": "low", "summary": "auto"}


def test_no_summary_asked_no_thoughts(client: OpenAI, fake: FakeGemini) -> None:
    body = create(client, model=G3, input="Quick", reasoning={"effort": "minimal"})
    assert last_body(fake.requests())["generationConfig"]["thinkingConfig"] == {
        "thinkingLevel": "minimal"
    }
    assert [item["type"] for item in body["output"]] == ["message"]


# --- tools and the agent loop ----------------------------------------------------------------


def _calls(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in response["output"] if item["type"] == "function_call"]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_function_calls_come_back_as_items(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    request: dict[str, Any] = {
        "model": FLASH,
        "input": "Weather and time? call:get_weather call:get_time",
        "tools": [WEATHER, TIME],
    }
    if streamed:
        found = events(client, **request)
        response = final(found)
        kinds = types(found)
        assert kinds.count("response.function_call_arguments.delta") == 2
        assert kinds.count("response.function_call_arguments.done") == 2
    else:
        response = create(client, **request)
    calls = _calls(response)
    assert [c["name"] for c in calls] == ["get_weather", "get_time"]
    assert [json.loads(c["arguments"]) for c in calls] == [{"city": "sample"}, {}]
    assert len({c["call_id"] for c in calls}) == 2
    declared = last_body(fake.requests())["tools"][0]["functionDeclarations"]
    assert [d["name"] for d in declared] == ["get_weather", "get_time"]
    assert "additionalProperties" not in json.dumps(declared)  # the shared sanitiser ran
    assert response["tools"][0]["name"] == "get_weather"


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "name": "get_time"},
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
        ),
        (
            {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "get_time"}],
            },
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
        ),
    ],
)
def test_tool_choice_becomes_a_calling_mode(
    client: OpenAI, fake: FakeGemini, choice: Any, config: dict[str, Any]
) -> None:
    create(client, model=FLASH, input="Go", tools=[WEATHER, TIME], tool_choice=choice)
    assert last_body(fake.requests())["toolConfig"] == {"functionCallingConfig": config}


def test_parallel_tool_calls_false_gives_one_call(client: OpenAI) -> None:
    body = create(
        client,
        model=FLASH,
        input="call:get_weather call:get_time",
        tools=[WEATHER, TIME],
        parallel_tool_calls=False,
    )
    assert [c["name"] for c in _calls(body)] == ["get_weather"]
    assert body["parallel_tool_calls"] is False


def test_custom_and_namespaced_tools_round_trip(client: OpenAI, fake: FakeGemini) -> None:
    patch = {"type": "custom", "name": "apply_patch", "description": "Edit files."}
    crm = {
        "type": "namespace",
        "name": "crm",
        "description": "Customer records.",
        "tools": [
            {
                "type": "function",
                "name": "lookup",
                "parameters": {"type": "object", "properties": {"who": {"type": "string"}}},
            }
        ],
    }
    args = json.dumps({"input": "*** Begin Patch\n*** End Patch"})
    prompt = f"call:apply_patch{args} call:crm.lookup" + json.dumps({"who": "Ada"})
    first = create(client, model=G3, input=prompt, tools=[patch, crm])
    custom, namespaced = first["output"]
    assert custom["type"] == "custom_tool_call" and custom["name"] == "apply_patch"
    assert custom["input"] == "*** Begin Patch\n*** End Patch"
    assert namespaced["type"] == "function_call"
    assert (namespaced["namespace"], namespaced["name"]) == ("crm", "lookup")
    declared = last_body(fake.requests())["tools"][0]["functionDeclarations"]
    assert [d["name"] for d in declared] == ["apply_patch", "crm.lookup"]
    assert declared[0]["parameters"]["required"] == ["input"]

    follow_up = [
        {"role": "user", "content": prompt},
        *first["output"],
        {"type": "custom_tool_call_output", "call_id": custom["call_id"], "output": "Done!"},
        {"type": "function_call_output", "call_id": namespaced["call_id"], "output": '{"id": 7}'},
    ]
    second = create(client, model=G3, input=follow_up, tools=[patch, crm])
    assert output_text(second) == 'Results: apply_patch={"result":"Done!"}; crm.lookup={"id":7}'
    model_turn = last_body(fake.requests())["contents"][1]["parts"]
    assert model_turn[0]["functionCall"] == {
        "name": "apply_patch",
        "args": {"input": "*** Begin Patch\n*** End Patch"},
    }
    assert all(p["thoughtSignature"] for p in model_turn)


def _released(token: str, key: str = KEYS[0], model: str = G3) -> str | None:
    return signatures.release(token, Credential("ai_studio", key), model)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_gemini_3_loop_sends_googles_own_signature_back(
    start_proxy: ProxyFactory, fake: FakeGemini, streamed: bool
) -> None:
    client = sdk(start_proxy(keys=KEYS[:1]).url)  # one key: the issuer serves the follow-up
    request: dict[str, Any] = {
        "model": G3,
        "tools": [WEATHER],
        "include": ["reasoning.encrypted_content"],
        "store": False,
    }
    question = {"role": "user", "content": "Weather in Lisbon? call:get_weather"}
    if streamed:
        first = final(events(client, input=[question], **request))
    else:
        first = create(client, input=[question], **request)
    reasoning, call = first["output"]
    assert reasoning["type"] == "reasoning" and call["type"] == "function_call"
    carried = carrier.unseal(reasoning["encrypted_content"])
    assert carried is not None
    token = carried.calls[carrier.call_key(call["call_id"])]
    google = _released(token)
    assert google is not None and google != signatures.SKIP
    assert call["call_id"].endswith(token)  # the call carries it too

    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}
    follow_up = [question, *first["output"], output]
    if streamed:
        second = final(events(client, input=follow_up, **request))
    else:
        second = create(client, input=follow_up, **request)
    assert output_text(second) == 'Results: get_weather={"result":"sunny"}'
    log = fake.requests()
    assert log[-1]["status"] == 200  # the fake checks the signature is one it issued
    history = last_body(log)["contents"]
    assert history[1]["parts"][0]["thoughtSignature"] == google


def test_the_signature_survives_in_encrypted_content_alone(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    """A client that rewrites call ids (keeps only their name part) still gets the real
    signature through the reasoning item, as Codex replays it."""
    client = sdk(start_proxy(keys=KEYS[:1]).url)
    request: dict[str, Any] = {"model": G3, "tools": [WEATHER]}
    question = {"role": "user", "content": "call:get_weather"}
    first = create(client, input=[question], include=["reasoning.encrypted_content"], **request)
    reasoning, call = first["output"]
    short_id = carrier.call_key(call["call_id"])
    replay = [
        question,
        {"type": "reasoning", "summary": [], "encrypted_content": reasoning["encrypted_content"]},
        {"type": "function_call", "call_id": short_id, "name": call["name"], "arguments": "{}"},
        {"type": "function_call_output", "call_id": short_id, "output": "rain"},
    ]
    create(client, input=replay, **request)
    sent = last_body(fake.requests())["contents"][1]["parts"][0]["thoughtSignature"]
    assert sent == _released(carrier.unseal(reasoning["encrypted_content"]).calls[short_id])  # type: ignore[union-attr]
    assert fake.requests()[-1]["status"] == 200


def test_history_from_another_model_gets_the_skip_value(client: OpenAI, fake: FakeGemini) -> None:
    replay = [
        {"role": "user", "content": "Weather?"},
        {"type": "function_call", "call_id": "call_abc", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_abc", "output": "hail"},
    ]
    body = create(client, model=G3, input=replay, tools=[WEATHER])
    assert output_text(body) == 'Results: get_weather={"result":"hail"}'
    model_turn = last_body(fake.requests())["contents"][1]["parts"]
    assert model_turn[0]["thoughtSignature"] == signatures.SKIP


def test_an_output_without_its_call_is_a_clear_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model=FLASH,
            input=[{"type": "function_call_output", "call_id": "call_x", "output": "?"}],
        )
    assert caught.value.body["param"] == "input[0].call_id"  # type: ignore[index]


# --- web search -------------------------------------------------------------------------------


def test_web_search_grounds_the_answer_with_url_citations(client: OpenAI, fake: FakeGemini) -> None:
    body = create(client, model=FLASH, input="News today?", tools=[{"type": "web_search"}])
    assert last_body(fake.requests())["tools"] == [{"googleSearch": {}}]
    [message] = body["output"]
    annotations = message["content"][0]["annotations"]
    assert [a["type"] for a in annotations] == ["url_citation", "url_citation"]
    assert annotations[0]["title"] == "example.com"
    assert annotations[0]["end_index"] == len("Echo: News today?")
    found = events(client, model=FLASH, input="More news?", tools=[{"type": "web_search_preview"}])
    added = [e for e in found if e["type"] == "response.output_text.annotation.added"]
    assert [e["annotation_index"] for e in added] == [0, 1]
    assert final(found)["output"][0]["content"][0]["annotations"] == [
        e["annotation"] for e in added
    ]


def test_search_is_dropped_when_the_model_refuses_it_beside_functions(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    model = "gemini-2.5-flash-lite"
    client = sdk(start_proxy(keys=KEYS[:1]).url)
    fake.fault(
        {"type": "payload", "message": "Tool use with function calling is unsupported"},
        model=model,
        times=1,
    )
    tools = [WEATHER, {"type": "web_search"}]
    body = create(client, model=model, input="Hi", tools=tools)
    assert output_text(body) == "Echo: Hi"
    log = [r for r in fake.requests() if r["kind"] == "generate"]
    assert [r["status"] for r in log] == [400, 200]
    assert {"googleSearch": {}} in log[0]["body"]["tools"]
    assert {"googleSearch": {}} not in log[1]["body"]["tools"]
    # Learned: the next request to that model leaves search out from the start.
    create(client, model=model, input="Again", tools=tools)
    assert {"googleSearch": {}} not in last_body(fake.requests())["tools"]


# --- limits and failures ---------------------------------------------------------------------


def test_max_output_tokens_ends_incomplete(client: OpenAI) -> None:
    words = " ".join(f"w{n}" for n in range(40))
    body = create(client, model=FLASH, input=words, max_output_tokens=5)
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["output"][0]["status"] == "incomplete"
    found = events(client, model=FLASH, input=words, max_output_tokens=5)
    assert types(found)[-1] == "response.incomplete"
    assert final(found)["incomplete_details"] == {"reason": "max_output_tokens"}


def test_failover_happens_before_the_first_byte(client: OpenAI, fake: FakeGemini) -> None:
    fake.fault({"type": "rate_limit_minute"}, times=1)
    found = events(client, model=FLASH, input="Still there?")
    assert output_text(final(found)) == "Echo: Still there?"
    assert len(fake.served_by()) == 2


def test_a_break_after_the_first_byte_ends_in_response_failed(
    client: OpenAI, fake: FakeGemini
) -> None:
    fake.fault({"type": "drop_mid_stream", "after_events": 2})
    words = " ".join(f"word{n}" for n in range(30))
    found = events(client, model=FLASH, input=words)
    assert types(found)[0] == "response.created"
    assert "response.output_text.delta" in types(found)
    assert types(found)[-1] == "response.failed"
    failed = final(found)
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"
    assert len(fake.served_by()) == 1  # text went out: no replay elsewhere


def test_an_empty_answer_fails_over_and_then_is_a_502(client: OpenAI, fake: FakeGemini) -> None:
    fake.fault({"type": "empty_answer"})
    with pytest.raises(openai.InternalServerError) as caught:
        client.responses.create(model=FLASH, input="Anyone?")
    assert caught.value.status_code == 502
    validate("ErrorResponse", caught.value.response.json())
    assert len(fake.served_by()) == 3


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "param", "named"),
    [
        (
            {"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]},
            "tools[0]",
            "file_search",
        ),
        (
            {"tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]},
            "tools[0]",
            "code_interpreter",
        ),
        (
            {
                "tools": [
                    WEATHER,
                    {
                        "type": "computer_use_preview",
                        "display_width": 1,
                        "display_height": 1,
                        "environment": "linux",
                    },
                ]
            },
            "tools[1]",
            "computer_use_preview",
        ),
        ({"tools": [{"type": "image_generation"}]}, "tools[0]", "image_generation"),
        (
            {"tools": [{"type": "mcp", "server_label": "x", "server_url": "https://mcp.example"}]},
            "tools[0]",
            "mcp",
        ),
        ({"background": True}, "background", "background"),
        ({"conversation": "conv_123"}, "conversation", "conversation"),
    ],
)
def test_what_gemini_cannot_do_is_a_clear_400(
    client: OpenAI, fake: FakeGemini, fields: dict[str, Any], param: str, named: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=FLASH, input="Hi", **fields)
    validate("ErrorResponse", caught.value.response.json())
    error = caught.value.response.json()["error"]
    assert error["param"] == param and named in error["message"]
    assert fake.served_by() == []


def test_ignored_fields_are_accepted(client: OpenAI) -> None:
    body = create(
        client,
        model=FLASH,
        input="Hi",
        prompt_cache_key="cache-1",
        service_tier="auto",
        user="someone",
        metadata={"ticket": "42"},
        truncation="auto",
        extra_body={"client_metadata": {"x": "y"}},
    )
    assert output_text(body) == "Echo: Hi"
    assert body["metadata"] == {"ticket": "42"} and body["truncation"] == "auto"


def test_bad_bodies_are_openai_shaped_400s(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model=FLASH, input=[{"type": "message", "role": "robot", "content": "x"}]
        )
    assert caught.value.body["param"].startswith("input[0]")  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=FLASH, input="x", temperature=3)
    assert caught.value.body["param"] == "temperature"  # type: ignore[index]


def test_responses_paths_are_the_responses_dialect() -> None:
    for path in ("/v1/responses", "/v1/responses/resp_1/input_items"):
        assert DIALECT.claims({"type": "http", "path": path})
    assert not DIALECT.claims({"type": "http", "path": "/v1/responsesX"})
