"""Function calling end to end: declarations, tool choice, schemas, ids, and the agent loop.

The fake calls a declared function for every `call:NAME` word in the last user turn, with
arguments sampled from the declared schema, and answers `Results: name=<json>; ...` after
function responses. Gemini 3 models attach thought signatures and refuse history without them.
"""

import base64
import json
import re
from typing import Any

import openai
import pytest
from openai import OpenAI

from gemini_proxy.credentials.models import Credential
from gemini_proxy.generation import signatures as bound
from gemini_proxy.generation.schema import gemini_function_name
from gemini_proxy.openai.tools import SKIP_SIGNATURE, new_call_id, signature_in_id
from tests.e2e.chat_helpers import collect, complete, last_body, stream
from tests.e2e.conftest import KEYS
from tests.support.fake import FakeGemini
from tests.support.openai_schema import validate


def function(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name} tool.",
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


WEATHER = function("get_weather", {"city": {"type": "string"}}, ["city"])
TIME = function("get_time", {"zone": {"type": "string"}, "hours": {"type": "integer"}}, ["zone"])
TOOLS = [WEATHER, TIME]
BOTH = [{"role": "user", "content": "Weather and time in Lisbon? call:get_weather call:get_time"}]
GEMINI_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")


def test_tools_become_function_declarations_and_calls_come_back(
    client: OpenAI, fake: FakeGemini
) -> None:
    body = complete(
        client,
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "call:get_weather please"}],
        tools=TOOLS,
    )
    sent = last_body(fake.requests())
    assert sent["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "The get_weather tool.",
                    "parameters": WEATHER["function"]["parameters"],
                },
                {
                    "name": "get_time",
                    "description": "The get_time tool.",
                    "parameters": TIME["function"]["parameters"],
                },
            ]
        }
    ]
    assert "toolConfig" not in sent
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert isinstance(call["function"]["arguments"], str)
    assert json.loads(call["function"]["arguments"]) == {"city": "sample"}


@pytest.mark.parametrize(
    ("choice", "config", "called"),
    [
        ("auto", {"mode": "AUTO"}, ["get_weather", "get_time"]),
        ("none", {"mode": "NONE"}, []),
        ("required", {"mode": "ANY"}, ["get_weather", "get_time"]),
        (
            {"type": "function", "function": {"name": "get_time"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
            ["get_time"],
        ),
    ],
)
def test_tool_choice_becomes_function_calling_mode(
    client: OpenAI, fake: FakeGemini, choice: Any, config: dict[str, Any], called: list[str]
) -> None:
    body = complete(
        client, model="gemini-2.5-flash", messages=BOTH, tools=TOOLS, tool_choice=choice
    )
    assert last_body(fake.requests())["toolConfig"] == {"functionCallingConfig": config}
    message = body["choices"][0]["message"]
    names = [call["function"]["name"] for call in message.get("tool_calls") or []]
    assert names == called
    if not called:
        assert body["choices"][0]["finish_reason"] == "stop"
        assert message["content"].startswith("Echo: Weather and time")


def test_required_without_a_directive_still_calls_a_tool(client: OpenAI, fake: FakeGemini) -> None:
    chunks = stream(
        client,
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "Just answer."}],
        tools=TOOLS,
        tool_choice="required",
    )
    got = collect(chunks)
    assert [call["function"]["name"] for call in got.calls()] == ["get_weather"]
    assert got.finish_reasons == ["tool_calls"]
    assert last_body(fake.requests(), "stream")["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY"}
    }


HOSTILE_NAME = "look up the weather forecast for a city " + "x" * 40  # spaces, 80 characters
HOSTILE_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "$defs": {"Unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "properties": {
        "city": {"type": "string", "minLength": 1},
        "unit": {"$ref": "#/$defs/Unit"},
        "kind": {"const": "forecast"},
        "days": {"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}]},
        "tags": {"type": "array"},
        "extra": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["city", "unit", "kind", "tags", "ghost"],
}


@pytest.mark.parametrize("streamed", [False, True])
def test_hostile_schema_is_sanitised_and_the_call_keeps_the_clients_name(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    gemini_name = gemini_function_name(HOSTILE_NAME)
    request: dict[str, Any] = {
        "model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": f"Forecast for Porto: call:{gemini_name}"}],
        "tools": [
            {
                "type": "function",
                "function": {"name": HOSTILE_NAME, "parameters": HOSTILE_SCHEMA},
            }
        ],
    }
    if streamed:
        got = collect(stream(client, **request))
        calls, finish = got.calls(), got.finish_reasons[-1]
    else:
        choice = complete(client, **request)["choices"][0]
        calls, finish = choice["message"]["tool_calls"], choice["finish_reason"]

    [declaration] = last_body(fake.requests())["tools"][0]["functionDeclarations"]
    assert declaration["name"] == gemini_name and GEMINI_NAME.fullmatch(gemini_name)
    flat = json.dumps(declaration["parameters"])
    for keyword in ("$schema", "$ref", "$defs", "additionalProperties", "const", "exclusive"):
        assert keyword not in flat
    params = declaration["parameters"]
    assert params["required"] == ["city", "unit", "kind", "tags"]  # "ghost" has no property
    assert params["properties"]["unit"] == {"type": "string", "enum": ["celsius", "fahrenheit"]}
    assert params["properties"]["kind"] == {"type": "string", "enum": ["forecast"]}
    assert params["properties"]["days"] == {"type": "integer", "minimum": 1, "nullable": True}
    assert params["properties"]["tags"]["items"] == {"type": "string"}

    assert finish == "tool_calls"
    [call] = calls
    assert call["function"]["name"] == HOSTILE_NAME
    assert json.loads(call["function"]["arguments"]) == {
        "city": "sample",
        "unit": "celsius",
        "kind": "forecast",
        "tags": ["sample"],
    }


def test_several_calls_in_one_answer_have_distinct_ids(client: OpenAI) -> None:
    body = complete(client, model="gemini-2.5-flash", messages=BOTH, tools=TOOLS)
    calls = body["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert len({c["id"] for c in calls}) == 2
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [
        {"city": "sample"},
        {"zone": "sample"},
    ]


def test_streamed_calls_have_indexes_0_and_1_and_json_arguments(client: OpenAI) -> None:
    chunks = stream(client, model="gemini-3-flash-preview", messages=BOTH, tools=TOOLS)
    deltas = [
        call
        for c in chunks
        for choice in c["choices"]
        for call in choice["delta"].get("tool_calls") or []
    ]
    assert [d["index"] for d in deltas] == [0, 1]
    assert all(d["id"] and d["type"] == "function" for d in deltas)
    got = collect(chunks)
    assert len({call["id"] for call in got.calls()}) == 2
    assert [json.loads(call["function"]["arguments"]) for call in got.calls()] == [
        {"city": "sample"},
        {"zone": "sample"},
    ]
    assert got.finish_reasons == ["tool_calls"]


@pytest.mark.parametrize("streamed", [False, True])
def test_parallel_tool_calls_false_gives_at_most_one_call(client: OpenAI, streamed: bool) -> None:
    request: dict[str, Any] = {
        "model": "gemini-2.5-flash",
        "messages": BOTH,
        "tools": TOOLS,
        "parallel_tool_calls": False,
    }
    if streamed:
        calls = collect(stream(client, **request)).calls()
    else:
        calls = complete(client, **request)["choices"][0]["message"]["tool_calls"]
    assert [call["function"]["name"] for call in calls] == ["get_weather"]


# --- the agent loop -------------------------------------------------------------------------------


def _ask(client: OpenAI, streamed: bool, **request: Any) -> tuple[str | None, list[Any], str]:
    """(content, tool_calls, finish_reason) of one turn, streamed or not."""
    if streamed:
        got = collect(stream(client, **request))
        assert len(got.finish_reasons) == 1
        return got.content or None, got.calls(), got.finish_reasons[0]
    choice = complete(client, **request)["choices"][0]
    return (
        choice["message"]["content"],
        choice["message"].get("tool_calls") or [],
        choice["finish_reason"],
    )


def google_signature(token: str | None, model: str) -> str | None:
    """The signature Google issued, out of the token the proxy put in a tool-call id (bound to
    the credential that answered: whichever of the pool's keys opens it)."""
    if token is None or not bound.is_bound(token):
        return token
    opened = [bound.release(token, Credential("ai_studio", key), model) for key in KEYS]
    found = [signature for signature in opened if signature]
    assert len(found) == 1, "exactly one credential opens a token"
    return found[0]


RESULTS = {"get_weather": {"temp_c": 21, "sky": "clear"}, "get_time": {"time": "14:05"}}


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-3-flash-preview"])
def test_agent_loop_with_two_parallel_calls(
    client: OpenAI, fake: FakeGemini, model: str, streamed: bool
) -> None:
    messages: list[dict[str, Any]] = list(BOTH)
    content, calls, finish = _ask(client, streamed, model=model, messages=messages, tools=TOOLS)
    assert finish == "tool_calls" and content is None
    assert [call["function"]["name"] for call in calls] == ["get_weather", "get_time"]
    signatures = [signature_in_id(call["id"]) for call in calls]
    if model.startswith("gemini-3"):
        # Gemini 3 signs its calls; the signature rides in the id the client will echo back.
        assert all(signatures)
    else:
        assert signatures == [None, None]

    messages.append({"role": "assistant", "content": None, "tool_calls": calls})
    for call in reversed(calls):  # answered out of order: matched by id, not by position
        result = RESULTS[call["function"]["name"]]
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)})
    content, more_calls, finish = _ask(
        client, streamed, model=model, messages=messages, tools=TOOLS
    )

    assert finish == "stop" and more_calls == []
    assert content is not None and content.startswith("Results: ")
    assert "get_weather=" in content and "get_time=" in content
    log = fake.requests()
    assert log[-1]["status"] == 200
    history = last_body(log)["contents"]
    assert [turn["role"] for turn in history] == ["user", "model", "user"]
    model_parts = history[1]["parts"]
    assert [p["functionCall"]["name"] for p in model_parts] == ["get_weather", "get_time"]
    assert [p["functionCall"]["args"] for p in model_parts] == [
        {"city": "sample"},
        {"zone": "sample"},
    ]
    # Google gets back exactly what it issued, from the credential that issued it.
    assert [p.get("thoughtSignature") for p in model_parts] == [
        google_signature(token, model) for token in signatures
    ]
    if model.startswith("gemini-3"):
        first, follow_up = fake.served_by()[-2:]
        assert first == follow_up
    responses = history[2]["parts"]
    assert len(responses) == 2 and all(set(p) == {"functionResponse"} for p in responses)
    assert {
        p["functionResponse"]["name"]: p["functionResponse"]["response"] for p in responses
    } == (RESULTS)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_gemini_3_history_the_client_built_itself_uses_the_skip_signature(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    messages: list[dict[str, Any]] = [
        *BOTH,
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "toolu_01",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Lisbon"}'},
                },
                {
                    "id": "toolu_02",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_01", "content": "sunny"},
        {"role": "tool", "tool_call_id": "toolu_02", "content": "noon"},
    ]
    content, _, finish = _ask(
        client, streamed, model="gemini-3-flash-preview", messages=messages, tools=TOOLS
    )
    assert finish == "stop"
    assert content == 'Results: get_weather={"result":"sunny"}; get_time={"result":"noon"}'
    history = last_body(fake.requests())["contents"]
    model_turn = history[1]["parts"]
    assert model_turn[0] == {"text": "Let me look."}
    assert [p["thoughtSignature"] for p in model_turn[1:]] == [SKIP_SIGNATURE, SKIP_SIGNATURE]


def test_a_forged_signature_is_the_clients_400(client: OpenAI, fake: FakeGemini) -> None:
    first = complete(client, model="gemini-3-flash-preview", messages=BOTH, tools=TOOLS)
    calls = first["choices"][0]["message"]["tool_calls"]
    # Well-formed, but not a signature Gemini issued.
    forged = [{**calls[0], "id": new_call_id(base64.b64encode(b"forged" * 8).decode())}, calls[1]]
    messages = [
        *BOTH,
        {"role": "assistant", "tool_calls": forged},
        *[{"role": "tool", "tool_call_id": c["id"], "content": "ok"} for c in forged],
    ]
    before = len(fake.served_by())
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gemini-3-flash-preview", messages=messages, tools=TOOLS
        )
    assert "thought signature" in caught.value.message.lower()
    assert len(fake.served_by()) == before + 1  # the request is wrong, not the key


@pytest.mark.parametrize(
    "fault",
    [
        {"type": "malformed_function_call"},
        {"type": "finish_reason", "reason": "MALFORMED_FUNCTION_CALL"},
    ],
    ids=["dedicated", "finish_reason"],
)
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_malformed_function_call_is_a_failure_not_a_stop(
    client: OpenAI, fake: FakeGemini, fault: dict[str, str], streamed: bool
) -> None:
    fake.fault(fault)
    request: dict[str, Any] = {"model": "gemini-2.5-flash", "messages": BOTH, "tools": TOOLS}
    with pytest.raises(openai.InternalServerError) as caught:
        if streamed:
            stream(client, **request)
        else:
            client.chat.completions.create(**request)
    # Nothing had reached the client: every key was tried, then a 502 (not a 200 "stop").
    assert caught.value.status_code == 502
    assert "MALFORMED_FUNCTION_CALL" in caught.value.message
    validate("ErrorResponse", caught.value.response.json())
    assert len(fake.served_by()) == 3


def test_malformed_function_call_after_text_ends_the_stream_with_an_error(
    client: OpenAI, fake: FakeGemini
) -> None:
    fake.fault({"type": "finish_reason", "reason": "MALFORMED_FUNCTION_CALL"})
    words = " ".join(f"word{n}" for n in range(24))
    chunks = stream(
        client, model="gemini-2.5-flash", messages=[{"role": "user", "content": words}], tools=TOOLS
    )
    got = collect(chunks)
    assert got.content.startswith("Echo: word0")
    assert got.finish_reasons == []  # never a clean "stop"
    assert got.error is not None and "MALFORMED_FUNCTION_CALL" in got.error["message"]
    assert "error" in chunks[-1]
    assert len(fake.served_by()) == 1  # text went out: no replay on another key


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_two_rounds_of_calls_on_gemini_3_keep_every_signature(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    model = "gemini-3-flash-preview"
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Plan my day."}]
    signatures = []
    for _ in range(2):  # `required` keeps Gemini calling, one function a round
        _, calls, finish = _ask(
            client, streamed, model=model, messages=messages, tools=TOOLS, tool_choice="required"
        )
        assert finish == "tool_calls" and len(calls) == 1
        signatures.append(signature_in_id(calls[0]["id"]))
        messages.append({"role": "assistant", "tool_calls": calls})
        messages.append({"role": "tool", "tool_call_id": calls[0]["id"], "content": '{"ok": 1}'})
    content, calls, finish = _ask(client, streamed, model=model, messages=messages, tools=TOOLS)
    assert finish == "stop" and calls == [] and content == 'Results: get_weather={"ok":1}'
    history = last_body(fake.requests())["contents"]
    assert [turn["role"] for turn in history] == ["user", "model", "user", "model", "user"]
    sent = [history[i]["parts"][0]["thoughtSignature"] for i in (1, 3)]
    assert sent == [google_signature(t, model) for t in signatures] and all(sent)
    assert SKIP_SIGNATURE not in sent


def test_hostile_tool_name_round_trips_through_history(client: OpenAI, fake: FakeGemini) -> None:
    gemini_name = gemini_function_name(HOSTILE_NAME)
    tools = [{"type": "function", "function": {"name": HOSTILE_NAME, "parameters": HOSTILE_SCHEMA}}]
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"call:{gemini_name}"}]
    first = complete(client, model="gemini-3-flash-preview", messages=messages, tools=tools)
    [call] = first["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == HOSTILE_NAME
    messages += [
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "[1, 2]"},
    ]
    final = complete(client, model="gemini-3-flash-preview", messages=messages, tools=tools)
    assert final["choices"][0]["message"]["content"] == f'Results: {gemini_name}={{"result":[1,2]}}'
    history = last_body(fake.requests())["contents"]
    assert history[1]["parts"][0]["functionCall"]["name"] == gemini_name
    assert history[2]["parts"][0]["functionResponse"]["name"] == gemini_name


def test_tool_choice_naming_an_undeclared_function_is_400(client: OpenAI, fake: FakeGemini) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gemini-2.5-flash",
            messages=BOTH,
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "launch_rockets"}},
        )
    assert caught.value.param == "tool_choice"
    validate("ErrorResponse", caught.value.response.json())
    assert fake.requests() == []
