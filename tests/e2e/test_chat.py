"""Chat completions end to end: the official openai SDK -> the proxy -> the fake Gemini."""

import itertools
import json
import time

import openai
import pytest
from openai import OpenAI

from gemini_proxy.credentials.fingerprint import fingerprint
from tests.e2e.conftest import KEYS, ProxyFactory
from tests.support.fake import FakeGemini
from tests.support.openai_schema import validate
from tests.support.servers import ServerThread

HELLO = [{"role": "user", "content": "Hello there, how is the weather in Lisbon today?"}]


def sse_payloads(lines: list[str]) -> list[str]:
    return [line[len("data: ") :] for line in lines if line.startswith("data: ")]


def test_non_streamed_answer_matches_openai_schema(client: OpenAI, fake: FakeGemini) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gemini-2.5-flash",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Answer in English."},
            *HELLO,
        ],
        temperature=0.3,
        max_tokens=50,
    )
    body = json.loads(raw.text)
    validate("CreateChatCompletionResponse", body)
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.model == "gemini-2.5-flash"
    assert "Hello there" in (completion.choices[0].message.content or "")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens >= completion.usage.completion_tokens > 0

    sent = fake.requests()[-1]
    assert sent["kind"] == "generate"
    assert sent["body"]["systemInstruction"] == {
        "parts": [{"text": "Be brief."}, {"text": "Answer in English."}]
    }
    assert sent["body"]["contents"] == [{"role": "user", "parts": [{"text": HELLO[0]["content"]}]}]
    assert sent["body"]["generationConfig"] == {"temperature": 0.3, "maxOutputTokens": 50}
    assert raw.headers["x-gemini-proxy-credential"] == sent["credential"]
    assert raw.headers["x-gemini-proxy-attempts"] == "1"


def test_stream_chunks_match_schema_and_end_with_done(client: OpenAI, fake: FakeGemini) -> None:
    whole = client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
    with client.chat.completions.with_streaming_response.create(
        model="gemini-2.5-flash",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        payloads = sse_payloads(list(response.iter_lines()))
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)
    assert len({chunk["id"] for chunk in chunks}) == 1
    text_chunks = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(text_chunks) > 1, "the fake streams several events; each must pass through"
    assert text_chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    streamed = "".join(c["choices"][0]["delta"]["content"] for c in text_chunks)
    assert streamed == whole.choices[0].message.content
    finish = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert [c["choices"][0]["finish_reason"] for c in finish] == ["stop"]
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] > 0
    assert all("usage" not in c for c in chunks[:-1])
    assert fake.requests()[-1]["kind"] == "stream"


def test_stream_without_include_usage_has_no_usage_chunk(client: OpenAI) -> None:
    stream = client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO, stream=True)
    chunks = list(stream)
    assert chunks and all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Hello there" in text


def test_n_choices_and_stop_sequences_reach_gemini(client: OpenAI, fake: FakeGemini) -> None:
    completion = client.chat.completions.create(
        model="gemini-2.5-flash", messages=HELLO, n=2, stop=["zzz"], seed=7
    )
    assert [choice.index for choice in completion.choices] == [0, 1]
    config = fake.requests()[-1]["body"]["generationConfig"]
    assert config == {"candidateCount": 2, "stopSequences": ["zzz"], "seed": 7}


def test_first_chunk_arrives_before_upstream_finishes(client: OpenAI, fake: FakeGemini) -> None:
    fake.settings(chunk_delay_ms=200)
    started = time.monotonic()
    arrivals = []
    stream = client.chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "one two three four five six seven eight nine"}],
        stream=True,
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - started)
    finished = time.monotonic() - started
    assert len(arrivals) >= 3
    # Events are 200 ms apart upstream; a buffering proxy would deliver them all at the end.
    assert arrivals[0] < finished - 0.35
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert max(gaps) > 0.1


def test_client_keys_are_required_when_configured(start_proxy: ProxyFactory) -> None:
    proxy = start_proxy(client_keys=["client-key-1", "client-key-2"])
    for api_key in ("wrong-key", "client-key-"):
        bad = OpenAI(base_url=f"{proxy.url}/v1", api_key=api_key, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            bad.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
        assert caught.value.status_code == 401
        validate("ErrorResponse", caught.value.response.json())
        assert caught.value.code == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
    good = OpenAI(base_url=f"{proxy.url}/v1", api_key="client-key-2", max_retries=0)
    assert good.chat.completions.create(model="gemini-2.5-flash", messages=HELLO).choices


def test_bad_requests_get_openai_shaped_4xx(client: OpenAI, proxy: ServerThread) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gemini-2.5-flash", messages=[])
    assert caught.value.param == "messages"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO, temperature=3)
    assert caught.value.param == "temperature"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gemini-2.5-flash",
            messages=HELLO,
            logit_bias={"50256": -100},
        )
    assert caught.value.code == "unsupported_parameter"
    assert caught.value.param == "logit_bias"
    validate("ErrorResponse", caught.value.response.json())


def test_blocked_prompt_is_an_error_not_an_empty_answer(client: OpenAI, fake: FakeGemini) -> None:
    fake.fault({"type": "blocked_prompt"})
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
    assert caught.value.code == "content_policy_violation"
    # The prompt is the problem, not the key: no other key is tried.
    assert len(fake.served_by()) == 1


def test_unknown_model_is_404(client: OpenAI, fake: FakeGemini) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gemini-0-nonexistent", messages=HELLO)
    assert caught.value.code == "model_not_found"
    validate("ErrorResponse", caught.value.response.json())
    assert len(fake.served_by()) == 1


def test_gemini_payload_rejection_returns_400_without_rotating(
    client: OpenAI, fake: FakeGemini
) -> None:
    fake.fault({"type": "payload"})
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
    assert len(fake.served_by()) == 1


def test_rate_limited_key_fails_over_to_the_next(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    proxy = start_proxy(keys=KEYS[:2])
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    fake.fault({"type": "rate_limit_minute", "retry_delay": "15s"}, key=KEYS[0])
    for _ in range(2):
        raw = client.chat.completions.with_raw_response.create(
            model="gemini-2.5-flash", messages=HELLO
        )
        assert raw.headers["x-gemini-proxy-credential"] == fingerprint(KEYS[1])
    # One request went straight to bravo, the other tried alpha first and failed over.
    assert sorted(fake.served_by()) == sorted([fingerprint(KEYS[0])] + [fingerprint(KEYS[1])] * 2)


def test_all_keys_rate_limited_gives_429_with_retry_after(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    proxy = start_proxy(keys=KEYS[:2])
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    fake.fault({"type": "rate_limit_minute", "retry_delay": "7.5s"})
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
    assert caught.value.response.headers["retry-after"] == "8"
    validate("ErrorResponse", caught.value.response.json())


@pytest.mark.parametrize(
    "fault", [{"type": "empty_stream"}, {"type": "unavailable"}, {"type": "reset"}]
)
def test_stream_fails_over_before_the_first_byte(
    start_proxy: ProxyFactory, fake: FakeGemini, fault: dict[str, str]
) -> None:
    proxy = start_proxy(keys=KEYS[:2])
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    fake.fault(fault, times=1)  # whichever key goes first fails, once
    with client.chat.completions.with_streaming_response.create(
        model="gemini-2.5-flash", messages=HELLO, stream=True
    ) as response:
        payloads = sse_payloads(list(response.iter_lines()))
    served = fake.served_by()
    assert len(served) == 2 and served[0] != served[1]
    assert response.headers["x-gemini-proxy-credential"] == served[1]
    assert response.headers["x-gemini-proxy-attempts"] == "2"
    assert payloads[-1] == "[DONE]"
    text = "".join(
        json.loads(p)["choices"][0]["delta"].get("content", "")
        for p in payloads[:-1]
        if json.loads(p)["choices"]
    )
    assert text.count("Hello there") == 1


def test_stream_cut_after_first_byte_ends_in_band_without_replay(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    proxy = start_proxy(keys=KEYS[:2])
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    fake.fault({"type": "drop_mid_stream", "after_events": 2})
    with client.chat.completions.with_streaming_response.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "alpha beta gamma delta epsilon zeta eta theta"}],
        stream=True,
    ) as response:
        payloads = sse_payloads(list(response.iter_lines()))
    assert payloads[-1] == "[DONE]"
    events = [json.loads(p) for p in payloads[:-1]]
    assert "error" in events[-1]
    validate("ErrorResponse", events[-1])
    texts = [e["choices"][0]["delta"].get("content", "") for e in events[:-1]]
    assert texts and all(texts)
    # Only one upstream request: no failover (and no replayed text) after the first byte.
    assert len(fake.served_by()) == 1


def test_no_credentials_answers_503_with_the_fix(start_proxy: ProxyFactory) -> None:
    proxy = start_proxy(keys=[])
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
    assert caught.value.status_code == 503
    assert "ai_studio_keys.txt" in caught.value.message
    validate("ErrorResponse", caught.value.response.json())
