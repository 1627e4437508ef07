"""AI Studio happy paths: answers, streaming framing, models, tokens, embeddings."""

import json
import math
from typing import Any

import aiohttp

from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.fake_gemini.catalog import MODELS

from .support import KEY, KEY_HEADERS, FakeServer, aio, prompt, user

GEN = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"


def sse_events(raw: bytes) -> list[dict[str, Any]]:
    """Parse Google's SSE framing strictly: every event is `data: <json>\\r\\n\\r\\n`."""
    assert raw.endswith(b"\r\n\r\n")
    chunks = raw.split(b"\r\n\r\n")
    assert chunks[-1] == b""
    events = []
    for chunk in chunks[:-1]:
        assert chunk.startswith(b"data: ")
        events.append(json.loads(chunk[len(b"data: ") :]))
    return events


@aio
async def test_generate_echoes_last_user_text_with_usage(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        body = {
            "contents": [
                user("first"),
                {"role": "model", "parts": [{"text": "ok"}]},
                user("hello big world"),
            ]
        }
        reply = await fake.post(s, GEN, body, KEY_HEADERS)
    assert reply.status == 200
    data = reply.json
    candidate = data["candidates"][0]
    assert candidate["content"] == {"parts": [{"text": "Echo: hello big world"}], "role": "model"}
    assert candidate["finishReason"] == "STOP"
    usage = data["usageMetadata"]
    assert usage["promptTokenCount"] == 1 + 1 + 3
    assert usage["candidatesTokenCount"] == 4
    assert usage["thoughtsTokenCount"] > 0  # 2.5 Flash thinks by default
    assert usage["totalTokenCount"] == 5 + 4 + usage["thoughtsTokenCount"]
    assert data["modelVersion"] == "gemini-2.5-flash"
    assert data["responseId"]


@aio
async def test_key_in_query_string_works_and_is_not_logged(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, f"{GEN}?key={KEY}", prompt("hi"))
    assert reply.status == 200
    entry = fake.last()
    assert entry["credential"] == fingerprint(KEY)
    assert KEY not in json.dumps(entry)


@aio
async def test_stream_sse_framing_and_cumulative_usage(fake: FakeServer) -> None:
    text = "one two three four five six seven eight nine ten"
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, f"{STREAM}?alt=sse", prompt(text), KEY_HEADERS)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(reply.raw)
    assert len(events) >= 3
    pieces = "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events)
    assert pieces == f"Echo: {text}"
    counts = [e["usageMetadata"].get("candidatesTokenCount", 0) for e in events]
    assert counts == sorted(counts) and counts[-1] == 11
    assert all("finishReason" not in e["candidates"][0] for e in events[:-1])
    last = events[-1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    usage = last["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + 11 + usage["thoughtsTokenCount"]
    assert len({e["responseId"] for e in events}) == 1


@aio
async def test_stream_without_alt_sse_is_a_json_array(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, STREAM, prompt("a b c d e f g h"), KEY_HEADERS)
    events = reply.json
    assert isinstance(events, list) and len(events) > 1
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"


@aio
async def test_include_thoughts_streams_thought_parts_first(fake: FakeServer) -> None:
    body = prompt(
        "think about this",
        generationConfig={"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 50}},
    )
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, f"{STREAM}?alt=sse", body, KEY_HEADERS)
    events = sse_events(reply.raw)
    first_part = events[0]["candidates"][0]["content"]["parts"][0]
    assert first_part["thought"] is True
    kinds = [bool(e["candidates"][0]["content"]["parts"][0].get("thought")) for e in events]
    assert kinds == sorted(kinds, reverse=True)  # thoughts, then answer text
    assert events[-1]["usageMetadata"]["thoughtsTokenCount"] == 50


@aio
async def test_thinking_budget_zero_turns_thinking_off(fake: FakeServer) -> None:
    body = prompt("hi", generationConfig={"thinkingConfig": {"thinkingBudget": 0}})
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, GEN, body, KEY_HEADERS)
    assert "thoughtsTokenCount" not in reply.json["usageMetadata"]


@aio
async def test_candidates_stop_sequences_and_max_tokens(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        many = await fake.post(
            s, GEN, prompt("pick", generationConfig={"candidateCount": 3}), KEY_HEADERS
        )
        stopped = await fake.post(
            s,
            GEN,
            prompt("alpha STOP beta", generationConfig={"stopSequences": ["STOP"]}),
            KEY_HEADERS,
        )
        capped = await fake.post(
            s, GEN, prompt("w1 w2 w3 w4 w5", generationConfig={"maxOutputTokens": 3}), KEY_HEADERS
        )
    candidates = many.json["candidates"]
    assert [c["index"] for c in candidates] == [0, 1, 2]
    assert len({c["content"]["parts"][0]["text"] for c in candidates}) == 3
    first = stopped.json["candidates"][0]
    assert first["content"]["parts"][0]["text"] == "Echo: alpha "
    assert first["finishReason"] == "STOP"
    cap = capped.json["candidates"][0]
    assert cap["content"]["parts"][0]["text"] == "Echo: w1 w2"
    assert cap["finishReason"] == "MAX_TOKENS"
    assert capped.json["usageMetadata"]["candidatesTokenCount"] == 3


@aio
async def test_json_mode_and_response_schema(fake: FakeServer) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "count": {"type": "integer"},
            "ok": {"type": "boolean"},
        },
        "required": ["city", "count", "ok"],
    }
    async with aiohttp.ClientSession() as s:
        plain = await fake.post(
            s,
            GEN,
            prompt("x", generationConfig={"responseMimeType": "application/json"}),
            KEY_HEADERS,
        )
        shaped = await fake.post(
            s,
            GEN,
            prompt(
                "Paris",
                generationConfig={
                    "responseMimeType": "application/json",
                    "responseJsonSchema": schema,
                },
            ),
            KEY_HEADERS,
        )
    assert json.loads(plain.json["candidates"][0]["content"]["parts"][0]["text"]) == {"echo": "x"}
    value = json.loads(shaped.json["candidates"][0]["content"]["parts"][0]["text"])
    assert value == {"city": "Paris", "count": 1, "ok": True}


@aio
async def test_google_search_adds_grounding(fake: FakeServer) -> None:
    body = prompt("news today", tools=[{"googleSearch": {}}])
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, GEN, body, KEY_HEADERS)
    grounding = reply.json["candidates"][0]["groundingMetadata"]
    assert grounding["groundingChunks"][0]["web"]["uri"].startswith("https://")
    assert grounding["groundingSupports"][0]["groundingChunkIndices"] == [0, 1]


@aio
async def test_block_me_prompt_is_blocked(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, GEN, prompt("BLOCK_ME please"), KEY_HEADERS)
    assert reply.status == 200
    assert "candidates" not in reply.json
    assert reply.json["promptFeedback"]["blockReason"] == "SAFETY"


@aio
async def test_inline_image_is_described(fake: FakeServer) -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "what is this"},
                    {"inlineData": {"mimeType": "image/png", "data": "AAECAw=="}},
                ],
            }
        ]
    }
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, GEN, body, KEY_HEADERS)
    assert reply.json["candidates"][0]["content"]["parts"][0]["text"] == (
        "Echo: what is this [inlineData image/png, 4 bytes]"
    )
    assert reply.json["usageMetadata"]["promptTokenCount"] == 3 + 258


@aio
async def test_function_calls_from_directives_with_schema_args(fake: FakeServer) -> None:
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "city": {"type": "string"},
                            "unit": {"type": "string", "enum": ["c", "f"]},
                            "days": {"type": "integer"},
                        },
                        "required": ["city", "unit"],
                    },
                },
                {"name": "get_time"},
            ]
        }
    ]
    async with aiohttp.ClientSession() as s:
        both = await fake.post(
            s, GEN, prompt("call:get_weather call:get_time call:unknown", tools=tools), KEY_HEADERS
        )
        forced = await fake.post(
            s,
            GEN,
            prompt(
                "no directive",
                tools=tools,
                toolConfig={
                    "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}
                },
            ),
            KEY_HEADERS,
        )
        never = await fake.post(
            s,
            GEN,
            prompt(
                "call:get_time", tools=tools, toolConfig={"functionCallingConfig": {"mode": "NONE"}}
            ),
            KEY_HEADERS,
        )
    parts = both.json["candidates"][0]["content"]["parts"]
    assert parts == [
        {"functionCall": {"name": "get_weather", "args": {"city": "sample", "unit": "c"}}},
        {"functionCall": {"name": "get_time", "args": {}}},
    ]
    assert forced.json["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == "get_time"
    assert never.json["candidates"][0]["content"]["parts"][0]["text"].startswith("Echo:")


@aio
async def test_call_directive_with_verbatim_args(fake: FakeServer) -> None:
    # A test drives a real agent this way: the named tool, called with exactly these args.
    tools = [{"functionDeclarations": [{"name": "shell", "parameters": {"type": "object"}}]}]
    text = 'please call:shell{"command": ["echo", "hi there"], "timeout": 5} now'
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, GEN, prompt(text, tools=tools), KEY_HEADERS)
    call = reply.json["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert call == {"name": "shell", "args": {"command": ["echo", "hi there"], "timeout": 5}}


@aio
async def test_function_results_are_summarised(fake: FakeServer) -> None:
    tools = [{"functionDeclarations": [{"name": "get_time"}]}]
    body = {
        "contents": [
            user("call:get_time"),
            {"role": "model", "parts": [{"functionCall": {"name": "get_time", "args": {}}}]},
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "get_time", "response": {"t": 5}}}],
            },
        ],
        "tools": tools,
    }
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(s, GEN, body, KEY_HEADERS)
    assert reply.json["candidates"][0]["content"]["parts"][0]["text"] == 'Results: get_time={"t":5}'


@aio
async def test_models_paging_and_lookup(fake: FakeServer) -> None:
    names: list[str] = []
    token = ""
    async with aiohttp.ClientSession() as s:
        for _ in range(10):
            url = f"{fake.url}/v1beta/models?pageSize=3" + (f"&pageToken={token}" if token else "")
            async with s.get(url, headers=KEY_HEADERS) as resp:
                page = await resp.json()
            names += [m["name"] for m in page["models"]]
            token = page.get("nextPageToken", "")
            if not token:
                break
        async with s.get(f"{fake.url}/v1beta/models/gemini-2.5-pro", headers=KEY_HEADERS) as resp:
            one = await resp.json()
        async with s.get(f"{fake.url}/v1beta/models/nope", headers=KEY_HEADERS) as resp:
            missing_status = resp.status
    assert "models/gemini-3-pro-preview" in names and "models/gemini-embedding-001" in names
    assert len(names) == len(set(names)) == len(MODELS)
    assert one["inputTokenLimit"] == 1048576 and one["thinking"] is True
    assert "generateContent" in one["supportedGenerationMethods"]
    assert missing_status == 404


@aio
async def test_unknown_model_and_wrong_method_are_404(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        unknown = await fake.post(
            s, "/v1beta/models/gemini-9:generateContent", prompt("x"), KEY_HEADERS
        )
        embed_gen = await fake.post(
            s, "/v1beta/models/gemini-embedding-001:generateContent", prompt("x"), KEY_HEADERS
        )
    assert unknown.status == 404
    assert unknown.error() == {
        "code": 404,
        "message": "models/gemini-9 is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their "
        "supported methods.",
        "status": "NOT_FOUND",
    }
    assert embed_gen.status == 404


@aio
async def test_count_tokens(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(
            s,
            "/v1beta/models/gemini-2.5-flash:countTokens",
            {"contents": [user("one two three")]},
            KEY_HEADERS,
        )
    assert reply.json["totalTokens"] == 3


@aio
async def test_embeddings_are_deterministic_unit_vectors(fake: FakeServer) -> None:
    base = "/v1beta/models/gemini-embedding-001"
    content = {"parts": [{"text": "hello"}]}
    async with aiohttp.ClientSession() as s:
        full = await fake.post(s, f"{base}:embedContent", {"content": content}, KEY_HEADERS)
        small = await fake.post(
            s,
            f"{base}:embedContent",
            {"content": content, "outputDimensionality": 256},
            KEY_HEADERS,
        )
        batch = await fake.post(
            s,
            f"{base}:batchEmbedContents",
            {
                "requests": [
                    {"model": "models/gemini-embedding-001", "content": content},
                    {
                        "model": "models/gemini-embedding-001",
                        "content": {"parts": [{"text": "bye"}]},
                    },
                ]
            },
            KEY_HEADERS,
        )
        old = await fake.post(
            s, "/v1beta/models/text-embedding-004:embedContent", {"content": content}, KEY_HEADERS
        )
    values = full.json["embedding"]["values"]
    assert len(values) == 3072
    assert math.isclose(sum(v * v for v in values), 1.0, rel_tol=1e-9)
    assert len(small.json["embedding"]["values"]) == 256
    vectors = [e["values"] for e in batch.json["embeddings"]]
    assert vectors[0] == values and vectors[1] != values
    assert len(old.json["embedding"]["values"]) == 768
