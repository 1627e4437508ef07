"""Abuse limits and CORS through a real server: off by default, 429 + Retry-After when on."""

import threading
import time

import openai
import pytest
from openai import OpenAI

from tests.e2e.conftest import ProxyFactory, proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import call
from tests.support.openai_schema import validate

HELLO = [{"role": "user", "content": "hello there"}]


def test_requests_per_minute_per_client_key(start_proxy: ProxyFactory, fake: FakeGemini) -> None:
    config = proxy_config(fake, limits={"requests_per_minute": 3})
    proxy = start_proxy(config=config, client_keys=["key-a", "key-b"])
    first = OpenAI(base_url=f"{proxy.url}/v1", api_key="key-a", max_retries=0)
    for _ in range(3):
        first.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
    with pytest.raises(openai.RateLimitError) as caught:
        first.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
    assert caught.value.code == "client_rate_limited"
    assert int(caught.value.response.headers["retry-after"]) >= 1
    validate("ErrorResponse", caught.value.response.json())
    # Another client key has its own budget; Gemini saw only the allowed requests.
    second = OpenAI(base_url=f"{proxy.url}/v1", api_key="key-b", max_retries=0)
    second.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
    assert len(fake.served_by()) == 4


def test_max_concurrent_streams(start_proxy: ProxyFactory, fake: FakeGemini) -> None:
    fake.settings(chunk_delay_ms=150)
    proxy = start_proxy(config=proxy_config(fake, limits={"max_concurrent_streams": 1}))
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    long_prompt = [{"role": "user", "content": " ".join(["word"] * 40)}]
    done = threading.Event()

    def slow_stream() -> None:
        for _ in client.chat.completions.create(
            model="gemini-2.5-flash", messages=long_prompt, stream=True
        ):
            pass
        done.set()

    worker = threading.Thread(target=slow_stream)
    worker.start()
    time.sleep(0.3)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO, stream=True)
    # Non-streamed requests are not streams: they pass.
    assert client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO).choices
    worker.join(timeout=30)
    assert done.is_set()
    # The slot frees once the server has finished the first response (just after [DONE]).
    deadline = time.monotonic() + 5
    while True:
        try:
            chunks = list(
                client.chat.completions.create(
                    model="gemini-2.5-flash", messages=HELLO, stream=True
                )
            )
            break
        except openai.RateLimitError:
            assert time.monotonic() < deadline, "the stream slot was never released"
            time.sleep(0.05)
    assert chunks


def test_cors_is_off_by_default_and_configurable(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    preflight = {
        "origin": "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    plain = start_proxy()
    reply = call("OPTIONS", f"{plain.url}/v1/chat/completions", headers=preflight)
    assert "access-control-allow-origin" not in {k.lower() for k in reply.headers}
    config = proxy_config(fake, server={"cors_origins": ["https://app.example"]})
    open_ = start_proxy(config=config)
    reply = call("OPTIONS", f"{open_.url}/v1/chat/completions", headers=preflight)
    headers = {k.lower(): v for k, v in reply.headers.items()}
    assert reply.status == 200 and headers["access-control-allow-origin"] == "https://app.example"
    other = call(
        "OPTIONS",
        f"{open_.url}/v1/chat/completions",
        headers={**preflight, "origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in {k.lower() for k in other.headers}
