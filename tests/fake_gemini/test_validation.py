"""Strict request validation: the 400s the real API sends for bad translations."""

from typing import Any

import aiohttp
import pytest

from .support import KEY_HEADERS, FakeServer, Reply, aio, prompt, user

OTHER_KEY = "AIza-test-key-2"

GEN = "/v1beta/models/gemini-2.5-flash:generateContent"


async def send(fake: FakeServer, body: Any, model: str = "gemini-2.5-flash") -> Reply:
    async with aiohttp.ClientSession() as s:
        return await fake.post(s, f"/v1beta/models/{model}:generateContent", body, KEY_HEADERS)


def bad_request(reply: Reply) -> str:
    assert reply.status == 400, reply.raw
    error = reply.error()
    assert error["status"] == "INVALID_ARGUMENT"
    return str(error["message"])


@aio
async def test_unknown_field_in_generation_config(fake: FakeServer) -> None:
    reply = await send(fake, prompt("hi", generationConfig={"tools": []}))
    error = reply.error()
    message = (
        "Invalid JSON payload received. Unknown name \"tools\" at 'generation_config': "
        "Cannot find field."
    )
    assert error["message"] == message
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "generation_config", "description": message}],
        }
    ]


@aio
async def test_unknown_top_level_and_nested_part_fields(fake: FakeServer) -> None:
    top = await send(fake, prompt("hi", stream=True))
    nested = await send(
        fake, {"contents": [{"role": "user", "parts": [{"text": "x", "type": "text"}]}]}
    )
    assert (
        bad_request(top)
        == 'Invalid JSON payload received. Unknown name "stream": Cannot find field.'
    )
    assert bad_request(nested) == (
        "Invalid JSON payload received. Unknown name \"type\" at 'contents[0].parts[0]': "
        "Cannot find field."
    )


@aio
async def test_snake_case_names_are_accepted(fake: FakeServer) -> None:
    reply = await send(
        fake, {"contents": [user("hi")], "generation_config": {"max_output_tokens": 5}}
    )
    assert reply.status == 200


@aio
async def test_json_schema_keywords_in_function_parameters_are_rejected(fake: FakeServer) -> None:
    params = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string", "const": "a"},
            "n": {"type": "integer", "exclusiveMinimum": 0},
        },
    }
    body = prompt(
        "hi",
        tools=[{"functionDeclarations": [{"name": "f", "parameters": params, "strict": True}]}],
    )
    message = bad_request(await send(fake, body))
    lines = message.split("\n")
    at = "'tools[0].function_declarations[0]"
    assert (
        f'Invalid JSON payload received. Unknown name "strict" at {at}\': Cannot find field.'
        in lines
    )
    assert (
        f'Invalid JSON payload received. Unknown name "$schema" at {at}.parameters\': '
        "Cannot find field." in lines
    )
    assert (
        f'Invalid JSON payload received. Unknown name "additionalProperties" at {at}.parameters\': '
        "Cannot find field." in lines
    )
    assert (
        f'Invalid JSON payload received. Unknown name "const" at '
        f"{at}.parameters.properties[0].value': Cannot find field." in lines
    )
    assert any('"exclusiveMinimum"' in line and "properties[1].value" in line for line in lines)


@aio
async def test_type_list_is_not_repeating(fake: FakeServer) -> None:
    params = {"type": "object", "properties": {"x": {"type": ["string", "null"]}}}
    body = prompt("hi", tools=[{"functionDeclarations": [{"name": "f", "parameters": params}]}])
    assert bad_request(await send(fake, body)) == (
        'Invalid JSON payload received. Unknown name "type" at '
        "'tools[0].function_declarations[0].parameters.properties[0].value': "
        "Proto field is not repeating, cannot start list."
    )


@aio
async def test_schema_rules_arrays_need_items_and_names_are_checked(fake: FakeServer) -> None:
    params = {
        "type": "object",
        "properties": {"tags": {"type": "array"}},
        "required": ["tags", "ghost"],
    }
    body = prompt(
        "hi",
        tools=[
            {"functionDeclarations": [{"name": "f", "parameters": params}, {"name": "bad name!"}]}
        ],
    )
    message = bad_request(await send(fake, body))
    assert (
        "* GenerateContentRequest.tools[0].function_declarations[0].parameters"
        ".properties[tags].items: missing field.\n" in message
    )
    assert (
        "* GenerateContentRequest.tools[0].function_declarations[0].parameters"
        ".required[1]: property is not defined\n" in message
    )
    assert "function_declarations[1].name: Invalid function name." in message


@aio
async def test_contents_roles_and_parts(fake: FakeServer) -> None:
    empty = await send(fake, {"contents": []})
    role = await send(fake, {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]})
    no_parts = await send(fake, {"contents": [{"role": "user", "parts": []}]})
    no_data = await send(fake, {"contents": [{"role": "user", "parts": [{"thought": True}]}]})
    two = await send(
        fake,
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": "x", "inlineData": {"mimeType": "image/png", "data": "AA=="}}
                    ],
                }
            ]
        },
    )
    assert bad_request(empty) == "* GenerateContentRequest.contents: contents is not specified\n"
    assert bad_request(role) == "Please use a valid role: user, model."
    assert "contents[0].parts: contents.parts must not be empty." in bad_request(no_parts)
    assert "required oneof field 'data' must have one initialized field" in bad_request(no_data)
    assert "oneof field 'data' is already set" in bad_request(two)


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"temperature": 2.5}, "temperature value of 2.5"),
        ({"topP": 1.5}, "topP value of 1.5"),
        ({"candidateCount": 9}, "candidateCount value of 9"),
        ({"maxOutputTokens": 0}, "maxOutputTokens value of 0"),
        ({"presencePenalty": 2.0}, "presencePenalty value of 2"),
        ({"frequencyPenalty": -3}, "frequencyPenalty value of -3"),
        (
            {"temperature": "hot"},
            "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"",
        ),
        ({"responseMimeType": "text/html"}, "allowed mimetypes are"),
        ({"responseSchema": {"type": "object"}}, "response_mime_type must be set"),
    ],
)
@aio
async def test_generation_config_ranges(
    fake: FakeServer, config: dict[str, Any], needle: str
) -> None:
    assert needle in bad_request(await send(fake, prompt("hi", generationConfig=config)))


@aio
async def test_thinking_rules(fake: FakeServer) -> None:
    both = {"thinkingConfig": {"thinkingBudget": 100, "thinkingLevel": "low"}}
    level = {"thinkingConfig": {"thinkingLevel": "high"}}
    off = {"thinkingConfig": {"thinkingBudget": 0}}
    pro_medium = {"thinkingConfig": {"thinkingLevel": "medium"}}
    assert bad_request(
        await send(fake, prompt("x", generationConfig=both), "gemini-3-flash-preview")
    ) == ("You can only set only one of thinking budget and thinking level.")
    assert "Thinking level is not supported" in bad_request(
        await send(fake, prompt("x", generationConfig=level))
    )
    assert bad_request(await send(fake, prompt("x", generationConfig=off), "gemini-2.5-pro")) == (
        "Budget 0 is invalid. This model only works in thinking mode."
    )
    assert "MEDIUM is not supported" in bad_request(
        await send(fake, prompt("x", generationConfig=pro_medium), "gemini-3-pro-preview")
    )
    ok = await send(fake, prompt("x", generationConfig=level), "gemini-3-flash-preview")
    assert ok.json["usageMetadata"]["thoughtsTokenCount"] > 0


def call_turn(*names: str, signature: str | None = None) -> dict[str, Any]:
    parts = []
    for name in names:
        part: dict[str, Any] = {"functionCall": {"name": name, "args": {}}}
        if signature is not None:
            part["thoughtSignature"] = signature
        parts.append(part)
    return {"role": "model", "parts": parts}


def response_turn(*names: str) -> dict[str, Any]:
    return {
        "role": "user",
        "parts": [{"functionResponse": {"name": n, "response": {"ok": True}}} for n in names],
    }


TOOLS = [{"functionDeclarations": [{"name": "a"}, {"name": "b"}]}]


@aio
async def test_function_response_count_must_match_calls(fake: FakeServer) -> None:
    short = {"contents": [user("go"), call_turn("a", "b"), response_turn("a")], "tools": TOOLS}
    split = {
        "contents": [user("go"), call_turn("a", "b"), response_turn("a"), response_turn("b")],
        "tools": TOOLS,
    }
    good = {"contents": [user("go"), call_turn("a", "b"), response_turn("a", "b")], "tools": TOOLS}
    orphan = {"contents": [user("go"), response_turn("a")], "tools": TOOLS}
    count_message = (
        "Please ensure that the number of function response parts is equal to the number of "
        "function call parts of the function call turn."
    )
    assert bad_request(await send(fake, short)) == count_message
    assert bad_request(await send(fake, split)) == count_message
    assert "function response turn comes immediately after a function call turn" in bad_request(
        await send(fake, orphan)
    )
    assert (await send(fake, good)).status == 200


@aio
async def test_gemini_3_thought_signatures_round_trip(fake: FakeServer) -> None:
    model = "gemini-3-pro-preview"
    first = await send(fake, {"contents": [user("call:a call:b")], "tools": TOOLS}, model)
    calls = first.json["candidates"][0]["content"]["parts"]
    assert [p["functionCall"]["name"] for p in calls] == ["a", "b"]
    assert all(p["thoughtSignature"] for p in calls)
    replay = {
        "contents": [
            user("call:a call:b"),
            {"role": "model", "parts": calls},
            response_turn("a", "b"),
        ],
        "tools": TOOLS,
    }
    assert (await send(fake, replay, model)).status == 200

    stripped = [{"functionCall": p["functionCall"]} for p in calls]
    missing = {
        "contents": [user("go"), {"role": "model", "parts": stripped}, response_turn("a", "b")],
        "tools": TOOLS,
    }
    message = bad_request(await send(fake, missing, model))
    assert message.startswith("Function call is missing a thought_signature in functionCall parts.")
    assert "`default_api:a` , position 2" in message

    forged = {
        "contents": [user("go"), call_turn("a", signature="Zm9yZ2Vk"), response_turn("a")],
        "tools": TOOLS,
    }
    assert bad_request(await send(fake, forged, model)) == "Corrupted thought signature."

    skipped = {
        "contents": [
            user("go"),
            call_turn("a", signature="skip_thought_signature_validator"),
            response_turn("a"),
        ],
        "tools": TOOLS,
    }
    assert (await send(fake, skipped, model)).status == 200
    # Gemini 2.5 does not demand signatures.
    assert (await send(fake, missing, "gemini-2.5-flash")).status == 200

    # Another key's signature is corrupted for this one (peers saw it after failing over
    # between accounts); counting tokens does not check whose it is.
    async with aiohttp.ClientSession() as s:
        path = f"/v1beta/models/{model}:generateContent"
        other = await fake.post(s, path, replay, {"x-goog-api-key": OTHER_KEY})
        counted = await fake.post(
            s,
            f"/v1beta/models/{model}:countTokens",
            {"generateContentRequest": {"model": f"models/{model}", **replay}},
            {"x-goog-api-key": OTHER_KEY},
        )
    assert bad_request(other) == "Corrupted thought signature."
    assert counted.status == 200, counted.raw
