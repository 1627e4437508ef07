"""Images, audio and files end to end, and fetching http(s) media without becoming an SSRF hole.

The fake echoes inline media as `[inlineData <mime>, <n> bytes]`, so the answer itself shows what
reached Gemini; the fake's request log shows the exact bytes.
"""

import base64
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import openai
import pytest
from openai import OpenAI

from gemini_proxy.config import MediaConfig
from tests.e2e.chat_helpers import collect, complete, last_body, stream
from tests.e2e.conftest import ProxyFactory, proxy_config
from tests.media.image_server import PNG, MediaServer, Tripwire
from tests.support.fake import FakeGemini
from tests.support.openai_schema import validate

PNG_B64 = base64.b64encode(PNG).decode()
WAV = b"RIFF$\x00\x00\x00WAVEfmt " + bytes(28)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PRIVATE = "private, loopback or link-local"


@pytest.fixture
def media() -> Iterator[MediaServer]:
    with MediaServer() as server:
        yield server


def image_message(url: str, text: str = "What is in this picture?") -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {"type": "image_url", "image_url": {"url": url, "detail": "high"}},
            ],
        }
    ]


def answer(client: OpenAI, streamed: bool, **request: Any) -> str:
    if streamed:
        got = collect(stream(client, **request))
        assert got.finish_reasons == ["stop"]
        return got.content
    text: str = complete(client, **request)["choices"][0]["message"]["content"]
    return text


def client_for(start_proxy: ProxyFactory, fake: FakeGemini, **media: Any) -> OpenAI:
    proxy = start_proxy(config=proxy_config(fake, media=MediaConfig(**media)))
    return OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0, timeout=20)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_data_url_image_becomes_inline_data(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    messages = image_message(f"data:image/png;base64,{PNG_B64}")
    text = answer(client, streamed, model="gemini-2.5-flash", messages=messages)
    assert text == f"Echo: What is in this picture? [inlineData image/png, {len(PNG)} bytes]"
    parts = last_body(fake.requests())["contents"][0]["parts"]
    assert parts == [
        {"text": "What is in this picture?"},
        {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
    ]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_input_audio_and_pdf_file_become_inline_data(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    wav, pdf = base64.b64encode(WAV).decode(), base64.b64encode(PDF).decode()
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Summarise both."},
                {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}},
                {
                    "type": "file",
                    "file": {
                        "filename": "doc.pdf",
                        "file_data": f"data:application/pdf;base64,{pdf}",
                    },
                },
            ],
        }
    ]
    text = answer(client, streamed, model="gemini-2.5-flash", messages=messages)
    assert f"[inlineData audio/wav, {len(WAV)} bytes]" in text
    assert f"[inlineData application/pdf, {len(PDF)} bytes]" in text
    parts = last_body(fake.requests())["contents"][0]["parts"]
    assert parts[1:] == [
        {"inlineData": {"mimeType": "audio/wav", "data": wav}},
        {"inlineData": {"mimeType": "application/pdf", "data": pdf}},
    ]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_http_image_is_fetched_from_a_trusted_network(
    start_proxy: ProxyFactory, fake: FakeGemini, media: MediaServer, streamed: bool
) -> None:
    client = client_for(start_proxy, fake, allowed_private_networks=["127.0.0.1/32"])
    # Through a redirect, and a second URL without Content-Type (guessed from the path).
    messages = image_message(f"{media.url}/redirect?to={quote('/x.png')}")
    messages[0]["content"].append(
        {"type": "image_url", "image_url": {"url": f"{media.url}/photo.jpg"}}
    )
    text = answer(client, streamed, model="gemini-2.5-flash", messages=messages)
    assert f"[inlineData image/png, {len(PNG)} bytes]" in text
    assert f"[inlineData image/jpeg, {len(PNG)} bytes]" in text
    parts = last_body(fake.requests())["contents"][0]["parts"]
    assert parts[1:] == [
        {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
        {"inlineData": {"mimeType": "image/jpeg", "data": PNG_B64}},
    ]


def refusal(client: OpenAI, url: str, streamed: bool = False) -> str:
    """The 400 a media URL gets; nothing reaches Gemini."""
    with pytest.raises(openai.BadRequestError) as caught:
        if streamed:
            stream(client, model="gemini-2.5-flash", messages=image_message(url))
        else:
            client.chat.completions.create(model="gemini-2.5-flash", messages=image_message(url))
    validate("ErrorResponse", caught.value.response.json())
    assert caught.value.code == "invalid_image_url"
    assert caught.value.param == "messages[0].content[1].image_url"
    message: str = caught.value.message
    return message


def test_ssrf_targets_are_refused_with_the_default_config(
    client: OpenAI, fake: FakeGemini, media: MediaServer
) -> None:
    port = media.port
    targets = [
        f"http://127.0.0.1:{port}/x.png",
        f"http://localhost:{port}/x.png",
        "http://10.0.0.1/x.png",
        "http://169.254.169.254/latest/meta-data/",
        f"http://[::1]:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/x.png",
        f"http://2130706433:{port}/x.png",
        f"http://0.0.0.0:{port}/x.png",
        "http://[fd00:ec2::254]/latest/meta-data/",
    ]
    for n, url in enumerate(targets):
        started = time.monotonic()
        message = refusal(client, url, streamed=n % 2 == 1)
        assert PRIVATE in message, (url, message)
        # Refused at the address check, not after a connection attempt timed out.
        assert time.monotonic() - started < 1, url
    assert media.hits == []
    assert fake.served_by() == []


def test_redirects_to_private_addresses_are_refused(
    start_proxy: ProxyFactory, fake: FakeGemini, media: MediaServer
) -> None:
    client = client_for(start_proxy, fake, allowed_private_networks=["127.0.0.1/32"])
    tripwire = Tripwire("127.0.0.2")
    try:
        targets = [
            f"http://127.0.0.2:{tripwire.port}/x.png",
            "http://10.0.0.1/x.png",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/x.png",
        ]
        for url in targets:
            started = time.monotonic()
            message = refusal(client, f"{media.url}/redirect?to={quote(url)}")
            assert PRIVATE in message, (url, message)
            assert time.monotonic() - started < 1, url
        assert not tripwire.touched()
    finally:
        tripwire.close()
    assert media.hits == ["/redirect"] * 4
    assert fake.served_by() == []


def test_fetch_urls_off_refuses_every_url(
    start_proxy: ProxyFactory, fake: FakeGemini, media: MediaServer
) -> None:
    client = client_for(
        start_proxy, fake, fetch_urls=False, allowed_private_networks=["127.0.0.1/32"]
    )
    message = refusal(client, f"{media.url}/x.png")
    assert "does not fetch media URLs" in message and "data: URL" in message
    assert media.hits == []


def test_media_over_the_size_cap_is_refused(
    start_proxy: ProxyFactory, fake: FakeGemini, media: MediaServer
) -> None:
    client = client_for(
        start_proxy, fake, max_bytes=100_000, allowed_private_networks=["127.0.0.1/32"]
    )
    for chunked in (0, 1):
        message = refusal(client, f"{media.url}/big?size=400000&chunked={chunked}")
        assert "larger than 100000 bytes" in message
    # Under the cap, a body sent in many pieces arrives whole.
    text = answer(
        client,
        False,
        model="gemini-2.5-flash",
        messages=image_message(f"{media.url}/big?size=90000&chunked=1"),
    )
    assert "[inlineData image/png, 90000 bytes]" in text
    assert len(fake.served_by()) == 1


def test_a_malformed_url_is_a_400_not_a_crash(client: OpenAI, fake: FakeGemini) -> None:
    for url in ("http://[::1/x.png", "http://a..b/x.png", "ftp://example.com/x.png"):
        message = refusal(client, url)
        assert "not a valid URL" in message or "only http and https" in message
    assert fake.served_by() == []
