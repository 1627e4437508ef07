"""Gemini's own API through the pool, driven by Google's own SDK (google-genai).

The fake Gemini is the witness: which key served each request (never the client's), and the
body it received (the client's, unchanged). The pool has two keys; where a test says so the
first is rate limited, and every answer must come from the other.
"""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from google import genai
from google.genai import errors, types

from gemini_proxy.app.factory import create_app
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential
from tests.e2e.conftest import KEYS, ProxyFactory, proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import Reply, call, post_json
from tests.support.servers import ServerThread

CLIENT_KEY = "client-key-for-gemini-natives-0123"
GOOG = {"x-goog-api-key": CLIENT_KEY}
POOL = KEYS[:2]
FLASH = "gemini-2.5-flash"
EMBEDDER = "gemini-embedding-001"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}


@pytest.fixture
def server(fake: FakeGemini) -> Iterator[ServerThread]:
    config = proxy_config(fake, model_aliases={"house-embedder": EMBEDDER, "house": FLASH})
    app = create_app(config, [Credential("ai_studio", key) for key in POOL], [CLIENT_KEY])
    with ServerThread(app) as running:
        yield running


def sdk(server: ServerThread, api_version: str | None = None) -> genai.Client:
    options = types.HttpOptions(base_url=server.url, api_version=api_version, timeout=30_000)
    return genai.Client(api_key=CLIENT_KEY, http_options=options)


def never_saw_the_client_key(fake: FakeGemini) -> None:
    entries = fake.requests()
    assert entries, "nothing reached the fake"
    assert {entry["credential"] for entry in entries} <= {fingerprint(key) for key in POOL}
    assert CLIENT_KEY not in json.dumps(entries)


def served(fake: FakeGemini, kinds: set[str]) -> list[tuple[str | None, int | None]]:
    return [(e["credential"], e["status"]) for e in fake.requests() if e["kind"] in kinds]


def limit_first_key(fake: FakeGemini, model: str | None, kinds: list[str] | None = None) -> None:
    fake.fault({"type": "rate_limit_minute", "retry_delay": "30s"}, POOL[0], model, kinds=kinds)


# --- the SDK's calls, through a pool whose first key is rate limited ----------------------------


@pytest.mark.parametrize("api_version", [None, "v1beta", "v1"])
def test_generate_and_stream_come_from_the_other_key(
    server: ServerThread, fake: FakeGemini, api_version: str | None
) -> None:
    fake.settings(words_per_event=1)
    limit_first_key(fake, FLASH)
    client = sdk(server, api_version)
    answer = client.models.generate_content(model=FLASH, contents="Hello there")
    assert answer.text == "Echo: Hello there"
    assert answer.usage_metadata is not None and answer.usage_metadata.prompt_token_count
    chunks = list(client.models.generate_content_stream(model=FLASH, contents="Hello stream"))
    assert len(chunks) > 1  # events pass through as they come, not gathered into one
    assert "".join(chunk.text or "" for chunk in chunks) == "Echo: Hello stream"
    again = client.models.generate_content(model=FLASH, contents="Once more")
    assert again.text == "Echo: Once more"

    attempts = served(fake, {"generate", "stream"})
    assert (fingerprint(POOL[0]), 429) in attempts, "the limited key was never tried"
    answered = {credential for credential, status in attempts if status == 200}
    assert answered == {fingerprint(POOL[1])}
    never_saw_the_client_key(fake)


def test_the_async_client_streams_too(server: ServerThread, fake: FakeGemini) -> None:
    fake.settings(words_per_event=1)

    async def run() -> list[str]:
        client = sdk(server).aio
        try:
            stream = await client.models.generate_content_stream(model=FLASH, contents="async hi")
            return [chunk.text or "" async for chunk in stream]
        finally:
            await client.aclose()

    texts = asyncio.run(run())
    assert len(texts) > 1 and "".join(texts) == "Echo: async hi"


def test_count_tokens_embed_and_list_come_from_the_other_key(
    server: ServerThread, fake: FakeGemini
) -> None:
    limit_first_key(fake, None, ["count_tokens", "batch_embed", "models"])
    client = sdk(server)
    for _ in range(2):  # the pool's rotation starts each model's next request at the other key
        counted = client.models.count_tokens(model=FLASH, contents="count these four words")
        assert counted.total_tokens == 4
        embedded = client.models.embed_content(model=EMBEDDER, contents=["one", "two"])
        assert embedded.embeddings is not None and len(embedded.embeddings) == 2
        assert all(len(e.values or []) == 3072 for e in embedded.embeddings)
    names = [model.name for model in client.models.list()]
    assert "models/gemini-2.0-flash" in names  # only in Gemini's own list: it was fetched
    assert "models/house" in names and f"models/{FLASH}" in names

    for kinds in ({"count_tokens"}, {"batch_embed"}):
        attempts = served(fake, kinds)
        assert (fingerprint(POOL[0]), 429) in attempts
        assert {c for c, status in attempts if status == 200} == {fingerprint(POOL[1])}
    assert {c for c, status in served(fake, {"models"}) if status == 200} == {fingerprint(POOL[1])}
    never_saw_the_client_key(fake)


def test_a_model_and_the_list_read_as_google_shapes_them(server: ServerThread) -> None:
    client = sdk(server)
    flash = client.models.get(model=FLASH)
    assert flash.name == f"models/{FLASH}" and flash.display_name == "Gemini 2.5 Flash"
    assert flash.input_token_limit == 1048576
    assert flash.supported_actions == ["generateContent", "countTokens"]
    paged = client.models.list(config={"page_size": 3})
    assert len(paged.page) == 3
    everything = [model.name for model in paged]
    assert len(everything) == len(set(everything)) > 6
    with pytest.raises(errors.ClientError) as caught:
        client.models.get(model="gemini-0-nonexistent")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


def test_an_alias_works_for_generation_and_embeddings(
    server: ServerThread, fake: FakeGemini
) -> None:
    client = sdk(server)
    assert client.models.generate_content(model="house", contents="hi").text == "Echo: hi"
    embedded = client.models.embed_content(model="house-embedder", contents="hi")
    assert embedded.embeddings is not None and len(embedded.embeddings) == 1
    batch = [e for e in fake.requests() if e["kind"] == "batch_embed"][-1]
    assert batch["model"] == EMBEDDER
    assert batch["body"]["requests"][0]["model"] == f"models/{EMBEDDER}"


# --- pass-through fidelity ----------------------------------------------------------------------


RICH = {
    "contents": [
        {"role": "user", "parts": [{"text": "What time is it? call:get_time"}]},
    ],
    "systemInstruction": {"parts": [{"text": "Be brief."}]},
    "tools": [
        {
            "functionDeclarations": [
                {
                    "name": "get_time",
                    "description": "The time",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {"zone": {"type": "string"}},
                        "required": ["zone"],
                    },
                }
            ]
        }
    ],
    "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
    "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    "generationConfig": {
        "temperature": 0.3,
        "seed": 7,
        "maxOutputTokens": 200,
        "thinkingConfig": {"thinkingLevel": "low", "includeThoughts": True},
    },
}


@pytest.mark.parametrize("prefix", ["/v1beta", "/v1", ""])
def test_the_body_goes_upstream_as_sent_and_the_answer_comes_back_as_google_sent_it(
    server: ServerThread, fake: FakeGemini, prefix: str
) -> None:
    model = "gemini-3-flash-preview"
    url = f"{server.url}{prefix}/models/{model}:generateContent"
    reply = post_json(url, RICH, GOOG)
    assert reply.status == 200, reply.body
    assert fake.requests()[-1]["body"] == RICH
    answer = reply.json()
    part = answer["candidates"][0]["content"]["parts"][-1]
    assert part["functionCall"] == {"name": "get_time", "args": {"zone": "sample"}}
    # Google's own signature, untouched: a native client sends it back as it came.
    assert part["thoughtSignature"] and not part["thoughtSignature"].startswith("gts1_")
    assert answer["usageMetadata"]["promptTokensDetails"][0]["modality"] == "TEXT"
    assert answer["modelVersion"] == model and answer["responseId"]

    follow_up = {
        **RICH,
        "contents": [
            *RICH["contents"],
            answer["candidates"][0]["content"],
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "get_time", "response": {"t": "noon"}}}],
            },
        ],
    }
    reply = post_json(url, follow_up, GOOG)
    assert reply.status == 200, reply.body  # the fake checks the signature it issued
    assert reply.json()["candidates"][0]["content"]["parts"][-1]["text"].startswith("Results:")


def test_sse_events_are_googles_events_unchanged(server: ServerThread, fake: FakeGemini) -> None:
    fake.settings(words_per_event=1)
    url = f"{server.url}/v1beta/models/{FLASH}:streamGenerateContent?alt=sse"
    reply = post_json(url, HELLO, GOOG)
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.body.endswith(b"\r\n\r\n")
    events = [
        json.loads(chunk.removeprefix(b"data: "))
        for chunk in reply.body.split(b"\r\n\r\n")
        if chunk
    ]
    assert len(events) >= 2
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == (
        "Echo: Hello"
    )
    assert all(e["modelVersion"] == FLASH and "responseId" in e for e in events)
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"


def test_without_alt_sse_the_stream_is_one_json_array(
    server: ServerThread, fake: FakeGemini
) -> None:
    fake.settings(words_per_event=1)
    url = f"{server.url}/v1beta/models/{FLASH}:streamGenerateContent"
    reply = post_json(url, HELLO, GOOG)
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.body.startswith(b"[{") and b"\n,\r\n{" in reply.body
    events = json.loads(reply.body)
    assert isinstance(events, list) and len(events) >= 2
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == (
        "Echo: Hello"
    )


# --- errors in Google's shape -------------------------------------------------------------------


def google_error(reply: Reply, status: int, name: str) -> dict[str, Any]:
    assert reply.status == status, reply.body
    body = reply.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "status", "details"}
    assert error["code"] == status and error["status"] == name
    return error


def test_google_genai_reads_our_errors(server: ServerThread, fake: FakeGemini) -> None:
    outsider = genai.Client(
        api_key="not-the-key", http_options=types.HttpOptions(base_url=server.url)
    )
    with pytest.raises(errors.ClientError) as caught:
        outsider.models.generate_content(model=FLASH, contents="hi")
    assert caught.value.code == 401 and caught.value.status == "UNAUTHENTICATED"

    client = sdk(server)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-0-nonexistent", contents="hi")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"

    for key in POOL:
        fake.fault({"type": "rate_limit_minute", "retry_delay": "30s"}, key, FLASH)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=FLASH, contents="hi")
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
    retry = [d for d in caught.value.details["error"]["details"] if "RetryInfo" in d["@type"]]
    assert retry and retry[0]["retryDelay"].endswith("s")
    assert caught.value.response is not None
    assert int(caught.value.response.headers["retry-after"]) >= 1

    fake.fault({"type": "unavailable"}, model="gemini-2.5-pro")
    with pytest.raises(errors.ServerError) as server_error:
        client.models.generate_content(model="gemini-2.5-pro", contents="hi")
    assert server_error.value.code == 503 and server_error.value.status == "UNAVAILABLE"


def test_an_error_after_the_first_event_is_in_band_and_google_genai_raises_it(
    server: ServerThread, fake: FakeGemini
) -> None:
    fake.settings(words_per_event=1)
    fake.fault({"type": "drop_mid_stream", "after_events": 1}, kinds=["stream"])
    client = sdk(server)  # held: the SDK closes its connection pool with the client
    stream = client.models.generate_content_stream(model=FLASH, contents="one two three")
    first = next(iter(stream))
    assert first.text == "Echo: "
    with pytest.raises(errors.APIError) as caught:
        list(stream)
    assert caught.value.code == 503 and caught.value.status == "UNAVAILABLE"  # connection lost

    fake.fault({"type": "drop_mid_stream", "after_events": 1}, kinds=["stream"])
    url = f"{server.url}/v1beta/models/{FLASH}:streamGenerateContent"
    events = json.loads(post_json(url, HELLO, GOOG).body)  # still one valid JSON document
    assert events[0]["candidates"]
    assert events[-1]["error"]["status"] == "UNAVAILABLE"


def test_bad_requests_get_googles_400s_and_never_reach_gemini(
    server: ServerThread, fake: FakeGemini
) -> None:
    url = f"{server.url}/v1beta/models/{FLASH}:generateContent"
    cases = {
        "no contents": json.dumps({"generationConfig": {}}).encode(),
        "not an object": b"[1, 2]",
        "not json": b"{contents",
        "empty": b"",
    }
    for name, body in cases.items():
        reply = call("POST", url, body, {**GOOG, "content-type": "application/json"})
        error = google_error(reply, 400, "INVALID_ARGUMENT")
        assert error["message"], name
    stream = f"{server.url}/v1beta/models/{FLASH}:streamGenerateContent?alt=proto"
    google_error(post_json(stream, HELLO, GOOG), 400, "INVALID_ARGUMENT")
    assert fake.requests() == []


def test_a_body_over_the_limit_is_413(start_proxy: ProxyFactory, fake: FakeGemini) -> None:
    proxy = start_proxy(config=proxy_config(fake, server={"max_body_bytes": 2048}))
    url = f"{proxy.url}/v1beta/models/{FLASH}:generateContent"
    too_big = {"contents": [{"parts": [{"text": "x" * 4096}]}]}
    google_error(post_json(url, too_big), 413, "INVALID_ARGUMENT")
    assert fake.requests() == []


def test_the_dialects_own_paths_answer_401_404_405_in_googles_shape(
    server: ServerThread, fake: FakeGemini
) -> None:
    base = server.url
    google_error(
        post_json(f"{base}/v1beta/models/{FLASH}:generateContent", HELLO), 401, "UNAUTHENTICATED"
    )
    google_error(post_json(f"{base}/models/{FLASH}:generateContent", HELLO), 401, "UNAUTHENTICATED")
    google_error(call("GET", f"{base}/v1beta/files", headers=GOOG), 404, "NOT_FOUND")
    google_error(post_json(f"{base}/v1beta/models/{FLASH}:predict", HELLO, GOOG), 404, "NOT_FOUND")
    google_error(post_json(f"{base}/v1beta/models/{FLASH}", HELLO, GOOG), 404, "NOT_FOUND")
    wrong = google_error(post_json(f"{base}/v1beta/models", HELLO, GOOG), 405, "UNIMPLEMENTED")
    assert wrong["message"]
    reply = call("GET", f"{base}/v1beta/models/{FLASH}:generateContent", headers=GOOG)
    google_error(reply, 405, "UNIMPLEMENTED")
    assert reply.headers["allow"] == "POST"
    # With ?key= the key never reaches Gemini either.
    assert post_json(f"{base}/models/{FLASH}:generateContent?key={CLIENT_KEY}", HELLO).status == (
        200
    )
    never_saw_the_client_key(fake)


HOSTILE_TARGETS = [
    "..%2F..%2Ffiles:generateContent",
    "../../v1beta/files:generateContent",
    "../../v1beta/cachedContents",
    "gemini-2.5-flash/../../files:generateContent",
    "gemini-2.5-flash%2F..%2Ffiles:generateContent",
    "models%2F..%2F..%2Ffiles:generateContent",
    "%2e%2e:generateContent",
    "gemini-2.5-flash%3Falt=json:generateContent",
    "gemini-2.5-flash%23frag:generateContent",
    "gemini-2.5-flash:generateContent%2F..%2F..%2Ffiles",
    "gemini-2.5-flash:generateContent:countTokens",
    "gemini%0D%0AHost:%20evil.example:generateContent",
    "gemini%202.5:generateContent",
    ":generateContent",
    "x" * 300 + ":generateContent",
]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_hostile_model_paths_are_400s_that_never_reach_gemini(
    server: ServerThread, fake: FakeGemini, method: str
) -> None:
    for target in HOSTILE_TARGETS:
        url = f"{server.url}/v1beta/models/{target}"
        body = json.dumps(HELLO).encode() if method == "POST" else None
        reply = call(method, url, body, {**GOOG, "content-type": "application/json"})
        google_error(reply, 400, "INVALID_ARGUMENT")
    assert fake.requests() == [], "a hostile path reached the upstream"


# --- one path, two dialects ---------------------------------------------------------------------


def test_v1_models_is_openais_list_for_openai_clients_and_googles_for_google_clients(
    server: ServerThread,
) -> None:
    openai_list = call(
        "GET", f"{server.url}/v1/models", headers={"authorization": f"Bearer {CLIENT_KEY}"}
    ).json()
    assert openai_list["object"] == "list" and openai_list["data"][0]["object"] == "model"
    google_list = call("GET", f"{server.url}/v1/models", headers=GOOG).json()
    assert set(google_list) == {"models", "nextPageToken"} or set(google_list) == {"models"}
    assert google_list["models"][0]["name"].startswith("models/")
    openai_one = call(
        "GET", f"{server.url}/v1/models/{FLASH}", headers={"authorization": f"Bearer {CLIENT_KEY}"}
    ).json()
    assert openai_one["id"] == FLASH
    assert call("GET", f"{server.url}/v1/models/{FLASH}", headers=GOOG).json()["name"] == (
        f"models/{FLASH}"
    )
    # An OpenAI client's 401 there stays OpenAI's; a Google client's is Google's.
    assert "type" in call("GET", f"{server.url}/v1/models").json()["error"]
    unauthorised = call("GET", f"{server.url}/v1/models", headers={"x-goog-api-key": "wrong"})
    google_error(unauthorised, 401, "UNAUTHENTICATED")


# --- Code Assist accounts -----------------------------------------------------------------------


ALICE = "1//alice-native-refresh-token"
THREE = "gemini-3-flash-preview"


@pytest.fixture
def account_only(fake: FakeGemini) -> Iterator[ServerThread]:
    config = proxy_config(
        fake, models=[FLASH, EMBEDDER, THREE], models_from_upstream=False, model_aliases={}
    )
    app = create_app(config, [Credential("oauth", ALICE, pool="primary")], [CLIENT_KEY])
    with ServerThread(app) as running:
        yield running


def test_code_assist_wraps_the_body_as_is_and_unwraps_the_answers(
    account_only: ServerThread, fake: FakeGemini
) -> None:
    client = sdk(account_only)
    assert client.models.generate_content(model=FLASH, contents="via account").text == (
        "Echo: via account"
    )
    streamed = client.models.generate_content_stream(model=FLASH, contents="streamed account")
    assert "".join(c.text or "" for c in streamed) == "Echo: streamed account"
    assert client.models.count_tokens(model=FLASH, contents="three words here").total_tokens

    reply = post_json(f"{account_only.url}/v1beta/models/{THREE}:generateContent", RICH, GOOG)
    assert reply.status == 200, reply.body
    assert "response" not in reply.json() and reply.json()["candidates"]
    sent = [e for e in fake.requests() if e["api"] == "code_assist" and e["kind"] == "generate"]
    assert sent[-1]["body"]["request"] == RICH
    assert sent[-1]["body"]["model"] == THREE
    assert {e["credential"] for e in fake.requests()} <= {fingerprint(ALICE), None}


def test_without_ai_studio_keys_the_list_is_the_configured_one_and_embeddings_are_refused(
    account_only: ServerThread, fake: FakeGemini
) -> None:
    client = sdk(account_only)
    assert [model.name for model in client.models.list()] == [
        f"models/{FLASH}",
        f"models/{EMBEDDER}",
        f"models/{THREE}",
    ]
    with pytest.raises(errors.APIError) as caught:
        client.models.embed_content(model=EMBEDDER, contents="hi")
    assert caught.value.code == 503 and "ai_studio" in (caught.value.message or "")
    assert not [e for e in fake.requests() if e["kind"] in ("embed", "batch_embed")]


def test_a_follow_up_goes_to_the_key_that_signed_its_history(
    server: ServerThread, fake: FakeGemini
) -> None:
    """Google refuses another key's thought signature (the fake too). The answer reaches the
    client untouched, so the proxy remembers which key signed what it passed on, and a follow-up
    carrying that signature goes to that key, streamed or not."""
    model = "gemini-3-flash-preview"
    base = f"{server.url}/v1beta/models/{model}"
    json_headers = {"content-type": "application/json", **GOOG}
    url = f"{base}:streamGenerateContent?alt=sse"
    reply = call("POST", url, json.dumps(RICH).encode(), json_headers)
    assert reply.status == 200, reply.body
    events = [
        json.loads(line[6:]) for line in reply.body.decode().splitlines() if line[:6] == "data: "
    ]
    parts = [part for event in events for part in event["candidates"][0]["content"]["parts"]]
    signed = next(part for part in parts if "functionCall" in part)
    assert signed["thoughtSignature"]
    signer = fake.requests()[-1]["credential"]

    follow_up = {
        **RICH,
        "contents": [
            *RICH["contents"],
            {"role": "model", "parts": [signed]},
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "get_time", "response": {"t": "noon"}}}],
            },
        ],
    }
    for n in range(4):
        url = f"{base}:streamGenerateContent?alt=sse" if n % 2 else f"{base}:generateContent"
        reply = call("POST", url, json.dumps(follow_up).encode(), json_headers)
        assert reply.status == 200, reply.body  # another key would have said "Corrupted"
        assert fake.requests()[-1]["credential"] == signer

    # Without a signature the same pool spreads requests over both keys: the preference above
    # is the proxy's doing, not the pool's habit.
    for _ in range(4):
        assert post_json(f"{base}:generateContent", HELLO, GOOG).status == 200
    assert {e["credential"] for e in fake.requests()[-4:]} == {fingerprint(k) for k in POOL}


def test_when_the_signing_key_cannot_serve_the_other_gets_the_skip_value(
    server: ServerThread, fake: FakeGemini
) -> None:
    """The key that signed the history is rate limited: the follow-up fails over, and the other
    key gets Google's skip value in place of a signature it would call corrupted."""
    model = "gemini-3-flash-preview"
    url = f"{server.url}/v1beta/models/{model}:generateContent"
    first = post_json(url, RICH, GOOG)
    assert first.status == 200, first.body
    signed = first.json()["candidates"][0]["content"]["parts"][-1]
    signer = fake.requests()[-1]["credential"]
    fake.fault({"type": "rate_limit_minute", "retry_delay": "30s"}, _key_of(signer), model)

    follow_up = {
        **RICH,
        "contents": [
            *RICH["contents"],
            {"role": "model", "parts": [signed]},
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "get_time", "response": {"t": "noon"}}}],
            },
        ],
    }
    reply = post_json(url, follow_up, GOOG)
    assert reply.status == 200, reply.body
    served = fake.requests()[-1]
    assert served["credential"] != signer and served["status"] == 200
    sent = served["body"]["contents"][1]["parts"][0]
    assert sent["thoughtSignature"] == "skip_thought_signature_validator"
    assert sent["functionCall"] == signed["functionCall"]
    assert served["body"]["generationConfig"] == RICH["generationConfig"]


def _key_of(credential: str) -> str:
    return next(key for key in POOL if fingerprint(key) == credential)
