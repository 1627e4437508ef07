"""Timeouts and cancellation: a client that hangs up stops the upstream call too."""

import socket
import time

from openai import OpenAI

from tests.e2e.conftest import ProxyFactory, proxy_config
from tests.support.fake import FakeGemini


def test_client_disconnect_mid_stream_closes_the_upstream_call(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    fake.settings(chunk_delay_ms=200)
    proxy = start_proxy()
    host, port = proxy.url.removeprefix("http://").split(":")
    body = (
        b'{"model": "gemini-2.5-flash", "stream": true, "messages": [{"role": "user", '
        b'"content": "' + b" ".join([b"word"] * 60) + b'"}]}'
    )
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection((host, int(port))) as client:
        client.sendall(request)
        received = b""
        while received.count(b"data: ") < 2:
            received += client.recv(65536)
    hung_up = time.time()
    # The fake sees its connection closed well before the answer would have ended (~3 s).
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        streams = [r for r in fake.requests() if r["kind"] == "stream"]
        if streams and streams[-1]["client_disconnected"]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the upstream call was not cancelled: {streams[-1:]}")
    assert streams[-1]["ended_at"] - hung_up < 1.0


def test_a_stream_longer_than_the_deadline_ends_in_band(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    fake.settings(chunk_delay_ms=150)
    config = proxy_config(fake)
    config = config.model_copy(
        update={"upstream": config.upstream.model_copy(update={"request_deadline_seconds": 0.6})}
    )
    proxy = start_proxy(config=config)
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    prompt = [{"role": "user", "content": " ".join(["word"] * 60)}]
    started = time.monotonic()
    with client.chat.completions.with_streaming_response.create(
        model="gemini-2.5-flash", messages=prompt, stream=True
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert time.monotonic() - started < 3
    assert lines[-1] == "data: [DONE]"
    assert '"error"' in lines[-2]
