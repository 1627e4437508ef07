"""The Anthropic Messages API end to end, through the official `anthropic` SDK.

Every answer, stream event and error body is validated with the SDK's own types (see
tests/anthropic/sdk.py); the fake Gemini's request log shows what reached Google.
"""

import base64
import json
import re
from typing import Any

import anthropic
import pytest
from anthropic import Anthropic

from gemini_proxy.config import MediaConfig
from gemini_proxy.credentials.models import Credential
from gemini_proxy.generation import signatures
from tests.anthropic import sdk
from tests.e2e.conftest import KEYS, ProxyFactory, proxy_config
from tests.media.image_server import PNG, MediaServer
from tests.support.fake import FakeGemini
from tests.support.http import call, post_json
from tests.support.servers import ServerThread

CLIENT_KEY = "sk-proxy-client-key"
HELLO = [{"role": "user", "content": "Hello there"}]
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


@pytest.fixture
def proxy(start_proxy: ProxyFactory) -> ServerThread:
    return start_proxy(client_keys=[CLIENT_KEY])


@pytest.fixture
def claude(proxy: ServerThread) -> Anthropic:
    return Anthropic(base_url=proxy.url, api_key=CLIENT_KEY, max_retries=0, timeout=30)


def create(client: Anthropic, **request: Any) -> dict[str, Any]:
    """A whole answer's raw JSON, validated with the SDK's Message type."""
    raw = client.messages.with_raw_response.create(**request)
    body: dict[str, Any] = json.loads(raw.text())
    sdk.message(body)
    return body


def stream(client: Anthropic, **request: Any) -> list[tuple[str, dict[str, Any]]]:
    """A streamed answer's events, each validated and their order checked."""
    with client.messages.with_streaming_response.create(**request, stream=True) as raw:
        assert raw.headers["content-type"].startswith("text/event-stream")
        events = sdk.events(raw.read().decode())
    sdk.check_order(events)
    return events


def generate_bodies(fake: FakeGemini) -> list[dict[str, Any]]:
    return [r["body"] for r in fake.requests() if r["kind"] in ("generate", "stream")]


# --- plain, streamed, counted ------------------------------------------------------------------


def test_a_plain_message(claude: Anthropic, fake: FakeGemini) -> None:
    body = create(claude, model="claude-sonnet-4-5", max_tokens=100, messages=HELLO)
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["model"] == "claude-sonnet-4-5"  # the name the client asked for
    assert body["content"] == [{"type": "text", "text": "Echo: Hello there", "citations": None}]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    usage = body["usage"]
    assert usage["input_tokens"] == 2 and usage["cache_read_input_tokens"] == 0
    assert usage["output_tokens"] > 0
    (request,) = [r for r in fake.requests() if r["kind"] == "generate"]
    assert request["model"] == "gemini-2.5-pro"  # sonnet -> a Pro model by default
    assert request["body"]["generationConfig"] == {"maxOutputTokens": 100}


def test_system_sampling_and_stop_sequences_reach_gemini(
    claude: Anthropic, fake: FakeGemini
) -> None:
    create(
        claude,
        model="gemini-2.5-flash",
        max_tokens=50,
        system=[
            {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Be kind."},
        ],
        messages=[{"role": "user", "content": "one two STOP three"}],
        stop_sequences=["STOP"],
        metadata={"user_id": "someone"},
        # This SDK no longer offers the sampling parameters; Anthropic's API still takes them.
        extra_body={"temperature": 0.5, "top_p": 0.9, "top_k": 40},
    )
    (sent,) = generate_bodies(fake)
    assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Be kind."}]}
    assert sent["generationConfig"] == {
        "temperature": 0.5,
        "topP": 0.9,
        "topK": 40,
        "maxOutputTokens": 50,
        "stopSequences": ["STOP"],
    }


def test_a_streamed_message_in_anthropic_order(claude: Anthropic, fake: FakeGemini) -> None:
    fake.settings(words_per_event=1)
    events = stream(claude, model="claude-haiku-4-5", max_tokens=100, messages=HELLO)
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "content_block_start"]
    assert names.count("content_block_delta") >= 3  # one word an event: really streamed
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    message = sdk.assemble(events)
    assert message["content"] == [{"type": "text", "text": "Echo: Hello there"}]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"]["input_tokens"] == 2 and message["usage"]["output_tokens"] > 0
    (request,) = [r for r in fake.requests() if r["kind"] == "stream"]
    assert request["model"] == "gemini-2.5-flash"  # haiku -> a Flash model


def test_the_sdk_stream_helper_assembles_the_same_message(claude: Anthropic) -> None:
    with claude.messages.stream(model="claude-opus-4-1", max_tokens=64, messages=HELLO) as s:
        kinds = [event.type for event in s]
        final = s.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert final.content[0].type == "text" and final.content[0].text == "Echo: Hello there"
    assert final.stop_reason == "end_turn"


def test_max_tokens_stops_the_answer(claude: Anthropic) -> None:
    body = create(claude, model="gemini-2.5-flash", max_tokens=2, messages=HELLO)
    assert body["stop_reason"] == "max_tokens"
    assert body["content"][0]["text"] == "Echo: Hello"


def test_count_tokens(claude: Anthropic, fake: FakeGemini) -> None:
    raw = claude.messages.with_raw_response.count_tokens(
        model="claude-sonnet-4-5",
        system="Be brief.",
        messages=[{"role": "user", "content": "one two three"}],
    )
    body = json.loads(raw.text())
    sdk.token_count(body)
    assert body == {"input_tokens": 5}  # the fake counts words, system included
    (request,) = [r for r in fake.requests() if r["kind"] == "count_tokens"]
    assert request["model"] == "gemini-2.5-pro"


def test_beta_query_headers_and_bearer_auth_are_accepted(proxy: ServerThread) -> None:
    reply = post_json(
        f"{proxy.url}/v1/messages?beta=true",
        {"model": "claude-haiku-4-5", "max_tokens": 20, "messages": HELLO},
        {
            "authorization": f"Bearer {CLIENT_KEY}",
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "interleaved-thinking-2025-05-14,context-management-2025-06-27",
        },
    )
    assert reply.status == 200, reply.body
    assert sdk.message(reply.json()).content[0].type == "text"
    assert call("HEAD", f"{proxy.url}/").status == 200  # Claude Code's first probe


# --- errors -------------------------------------------------------------------------------------


def test_a_wrong_key_is_an_anthropic_authentication_error(proxy: ServerThread) -> None:
    client = Anthropic(base_url=proxy.url, api_key="wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=HELLO)
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "authentication_error"
    sdk.error(body)
    assert "wrong" not in json.dumps(body)


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (b'{"model": "claude-sonnet-4-5", "messages": [', "not a valid JSON object"),
        (b'{"model": "claude-sonnet-4-5", "messages": "hello", "max_tokens": 5}', "messages"),
        (
            b'{"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "x"}]}',
            "max_tokens",
        ),
        (
            b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": '
            b'[{"type": "video", "url": "x"}]}]}',
            "'video'",
        ),
        (b"", "empty"),
    ],
)
def test_a_malformed_body_is_an_invalid_request_error(
    proxy: ServerThread, payload: bytes, named: str
) -> None:
    headers = {"x-api-key": CLIENT_KEY, "content-type": "application/json"}
    reply = call("POST", f"{proxy.url}/v1/messages", payload, headers)
    assert reply.status == 400, reply.body
    body = reply.json()
    sdk.error(body)
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert named in body["error"]["message"]


def test_an_sdk_bad_request_names_the_problem(claude: Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=10,
            messages=[{"role": "user", "content": "x"}],
            tools=[{"type": "code_execution_20250825", "name": "code_execution"}],
        )
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "invalid_request_error"
    assert "code_execution_20250825" in body["error"]["message"]


def test_unknown_paths_and_methods_under_messages_are_anthropic_errors(proxy: ServerThread) -> None:
    headers = {"x-api-key": CLIENT_KEY}
    missing = call("GET", f"{proxy.url}/v1/messages/batches", headers=headers)
    assert missing.status == 404
    assert sdk.error(missing.json()).error.type == "not_found_error"
    wrong_method = call("GET", f"{proxy.url}/v1/messages", headers=headers)
    assert wrong_method.status == 405
    assert sdk.error(wrong_method.json()).error.type == "invalid_request_error"
    unauthenticated = call("POST", f"{proxy.url}/v1/messages/count_tokens", b"{}")
    assert unauthenticated.status == 401
    assert sdk.error(unauthenticated.json()).error.type == "authentication_error"


def test_an_unknown_gemini_model_is_not_found(claude: Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        claude.messages.create(model="gemini-0-nonexistent", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]


def test_a_rate_limited_pool_is_a_429_with_retry_after(claude: Anthropic, fake: FakeGemini) -> None:
    fake.fault({"type": "rate_limit_minute", "retry_delay": "30s"})
    with pytest.raises(anthropic.RateLimitError) as caught:
        claude.messages.create(model="gemini-2.5-flash", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 429
    assert sdk.error(caught.value.body).error.type == "rate_limit_error"  # type: ignore[arg-type]
    assert 25 <= int(caught.value.response.headers["retry-after"]) <= 30


def test_google_down_is_overloaded_529(claude: Anthropic, fake: FakeGemini) -> None:
    fake.fault("unavailable")
    with pytest.raises(anthropic.APIStatusError) as caught:
        claude.messages.create(model="gemini-2.5-flash", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 529
    assert sdk.error(caught.value.body).error.type == "overloaded_error"  # type: ignore[arg-type]


def test_a_stream_failing_after_the_first_byte_ends_with_an_error_event(
    claude: Anthropic, fake: FakeGemini
) -> None:
    fake.settings(words_per_event=1)
    fake.fault({"type": "drop_mid_stream", "after_events": 2})
    events = stream(
        claude,
        model="gemini-2.5-flash",
        max_tokens=100,
        messages=[{"role": "user", "content": "a b c d e f g h"}],
    )
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-1] == "error"
    assert "message_stop" not in names
    assert events[-1][1]["error"]["type"] in ("api_error", "overloaded_error")


def test_a_stream_failing_before_the_first_byte_fails_over(
    claude: Anthropic, fake: FakeGemini
) -> None:
    fake.fault("empty_stream", times=2)
    events = stream(claude, model="gemini-2.5-flash", max_tokens=100, messages=HELLO)
    assert sdk.assemble(events)["content"][0]["text"] == "Echo: Hello there"
    assert len(fake.served_by()) == 3


# --- content ------------------------------------------------------------------------------------


def test_images_and_documents_reach_gemini_inline(claude: Anthropic, fake: FakeGemini) -> None:
    png = base64.b64encode(PNG).decode()
    pdf = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()
    body = create(
        claude,
        model="gemini-2.5-flash",
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look:"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": png},
                    },
                    {
                        "type": "document",
                        "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
                        "cache_control": {"type": "ephemeral"},
                    },
                    {
                        "type": "document",
                        "title": "Notes",
                        "source": {"type": "text", "media_type": "text/plain", "data": "plain"},
                    },
                ],
            }
        ],
    )
    text = body["content"][0]["text"]
    assert text.startswith("Echo: Look: [inlineData image/png, ")
    assert "[inlineData application/pdf, 15 bytes]" in text and "Notes\n\nplain" in text


def test_image_urls_go_through_the_ssrf_safe_fetcher(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    with MediaServer() as media:
        image = {"type": "image", "source": {"type": "url", "url": f"{media.url}/x.png"}}
        messages = [{"role": "user", "content": [image]}]
        guarded = start_proxy(client_keys=[CLIENT_KEY])
        client = Anthropic(base_url=guarded.url, api_key=CLIENT_KEY, max_retries=0)
        with pytest.raises(anthropic.BadRequestError) as caught:
            client.messages.create(model="gemini-2.5-flash", max_tokens=10, messages=messages)
        assert "private, loopback or link-local" in caught.value.message
        assert media.hits == []
        trusting = start_proxy(
            client_keys=[CLIENT_KEY],
            config=proxy_config(fake, media=MediaConfig(allowed_private_networks=["127.0.0.1/32"])),
        )
        client = Anthropic(base_url=trusting.url, api_key=CLIENT_KEY, max_retries=0)
        body = create(client, model="gemini-2.5-flash", max_tokens=10, messages=messages)
    assert body["content"][0]["text"] == f"Echo: [inlineData image/png, {len(PNG)} bytes]"


# --- tools and thinking -------------------------------------------------------------------------


def one_key_claude(start_proxy: ProxyFactory) -> Anthropic:
    # One key: the follow-up goes back to the credential that issued the signature.
    proxy = start_proxy(keys=[KEYS[0]], client_keys=[CLIENT_KEY])
    return Anthropic(base_url=proxy.url, api_key=CLIENT_KEY, max_retries=0, timeout=30)


def ask(client: Anthropic, streamed: bool, **request: Any) -> dict[str, Any]:
    if streamed:
        message = sdk.assemble(stream(client, **request))
        sdk.message(message)
        return message
    return create(client, **request)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_thinking_and_tool_use_loop_on_gemini_3_sends_google_its_own_signature(
    start_proxy: ProxyFactory, fake: FakeGemini, streamed: bool
) -> None:
    client = one_key_claude(start_proxy)
    model = "gemini-3-flash-preview"
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": 4000,
        "tools": [WEATHER],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather in Lisbon? call:get_weather"}
    ]
    first = ask(client, streamed, **request, messages=messages)

    assert first["stop_reason"] == "tool_use"
    thinking, tool_use = first["content"]
    assert thinking["type"] == "thinking" and "get_weather" in thinking["thinking"]
    assert tool_use["type"] == "tool_use" and tool_use["name"] == "get_weather"
    assert tool_use["input"] == {"city": "sample"}
    assert re.fullmatch(sdk.TOOL_USE_ID, tool_use["id"])
    sent = generate_bodies(fake)[0]["generationConfig"]["thinkingConfig"]
    assert sent == {"thinkingLevel": "low", "includeThoughts": True}

    messages += [
        {"role": "assistant", "content": first["content"]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool_use["id"], "content": "sunny"},
                {"type": "text", "text": "Thanks."},
            ],
        },
    ]
    second = ask(client, streamed, **request, messages=messages)

    assert second["stop_reason"] == "end_turn"
    assert second["content"][-1]["text"] == 'Results: get_weather={"result":"sunny"}'
    log = fake.requests()
    assert [r["status"] for r in log] == [200, 200]
    history = log[-1]["body"]["contents"]
    assert [turn["role"] for turn in history] == ["user", "model", "user"]
    (call_part,) = history[1]["parts"]  # the unsigned thinking block was dropped
    token = tool_use["id"][tool_use["id"].index("gts1_") :]
    issued = signatures.release(token, Credential("ai_studio", KEYS[0]), model)
    assert issued and call_part["thoughtSignature"] == issued  # Google's own signature
    assert call_part["functionCall"] == {"name": "get_weather", "args": {"city": "sample"}}
    assert history[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
        {"text": "Thanks."},
    ]


def test_a_tool_use_the_client_built_gets_the_skip_signature_on_gemini_3(
    claude: Anthropic, fake: FakeGemini
) -> None:
    messages = [
        {"role": "user", "content": "Weather? call:get_weather"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I'll check.", "signature": "EqQBCkYIAhgC..."},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy..."},
                {
                    "type": "tool_use",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                    "content": [{"type": "text", "text": "rain"}],
                    "is_error": True,
                }
            ],
        },
    ]
    body = create(
        claude, model="gemini-3-flash-preview", max_tokens=100, tools=[WEATHER], messages=messages
    )
    assert body["content"][-1]["text"] == 'Results: get_weather={"error":"rain"}'
    model_turn = generate_bodies(fake)[-1]["contents"][1]["parts"]
    # Another provider's thinking is dropped, never given a signature; the call gets Google's
    # documented skip value.
    assert model_turn == [
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
            "thoughtSignature": signatures.SKIP,
        }
    ]


def test_tool_choice_reaches_gemini(claude: Anthropic, fake: FakeGemini) -> None:
    time_tool = {**WEATHER, "name": "get_time"}
    for choice, expected in (
        ({"type": "auto"}, {"mode": "AUTO"}),
        ({"type": "any"}, {"mode": "ANY"}),
        ({"type": "none"}, {"mode": "NONE"}),
        (
            {"type": "tool", "name": "get_time"},
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
        ),
    ):
        fake.reset()
        create(
            claude,
            model="gemini-2.5-flash",
            max_tokens=100,
            tools=[WEATHER, time_tool],
            tool_choice=choice,
            messages=HELLO,
        )
        assert generate_bodies(fake)[0]["toolConfig"] == {"functionCallingConfig": expected}


def test_disable_parallel_tool_use_keeps_one_call(claude: Anthropic) -> None:
    time_tool = {**WEATHER, "name": "get_time"}
    body = create(
        claude,
        model="gemini-2.5-flash",
        max_tokens=100,
        tools=[WEATHER, time_tool],
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": "call:get_weather call:get_time"}],
    )
    assert [block["name"] for block in body["content"]] == ["get_weather"]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_web_search_is_google_search_grounding(
    claude: Anthropic, fake: FakeGemini, streamed: bool
) -> None:
    body = ask(
        claude,
        streamed,
        model="gemini-2.5-flash",
        max_tokens=100,
        tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
        messages=[{"role": "user", "content": "News today?"}],
    )
    assert generate_bodies(fake)[0]["tools"] == [{"googleSearch": {}}]
    blocks = {block["type"]: block for block in body["content"]}
    # Whole answers put the search first; a stream learns of it at the end and sends it last.
    assert len(body["content"]) == 3
    search, results = blocks["server_tool_use"], blocks["web_search_tool_result"]
    assert search["name"] == "web_search" and search["input"] == {"query": "News today?"}
    assert results["tool_use_id"] == search["id"]
    assert [r["title"] for r in results["content"]] == ["example.com", "wikipedia.org"]
    assert blocks["text"]["text"] == "Echo: News today?"
    assert body["usage"]["server_tool_use"] == {"web_search_requests": 1, "web_fetch_requests": 0}


# --- models -------------------------------------------------------------------------------------


def test_models_show_the_claude_mapping_to_anthropic_clients(
    claude: Anthropic, proxy: ServerThread
) -> None:
    page = claude.models.with_raw_response.list()
    cards = {card["id"]: card["display_name"] for card in json.loads(page.text())["data"]}
    assert cards["claude-*haiku*"] == "claude-*haiku* -> gemini-2.5-flash"
    assert cards["claude-*opus*"] == "claude-*opus* -> gemini-2.5-pro"
    assert "gemini-2.5-flash" in cards
    one = claude.models.retrieve("claude-haiku-4-5")
    assert one.display_name == "claude-haiku-4-5 -> gemini-2.5-flash"
    # An OpenAI client on the same path still gets OpenAI's list.
    openai_list = call(
        "GET", f"{proxy.url}/v1/models", headers={"authorization": f"Bearer {CLIENT_KEY}"}
    )
    assert openai_list.json()["object"] == "list"


def test_the_model_map_is_configurable(start_proxy: ProxyFactory, fake: FakeGemini) -> None:
    config = proxy_config(
        fake,
        anthropic={"model_map": {"claude-*": "gemini-3-flash-preview", "best": "gemini-2.5-pro"}},
    )
    proxy = start_proxy(client_keys=[CLIENT_KEY], config=config)
    client = Anthropic(base_url=proxy.url, api_key=CLIENT_KEY, max_retries=0)
    create(client, model="claude-haiku-4-5", max_tokens=10, messages=HELLO)
    create(client, model="best", max_tokens=10, messages=HELLO)
    create(client, model="gpt-4o-mini", max_tokens=10, messages=HELLO)  # an alias still works
    assert [r["model"] for r in fake.requests()] == [
        "gemini-3-flash-preview",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
    ]
