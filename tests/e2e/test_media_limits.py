"""One request's media URLs are bounded together: how many, and how many bytes in all.

A refusal is an OpenAI-shaped 400 that comes before anything reaches Gemini.
"""

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai import OpenAI

from gemini_proxy.config import MediaConfig
from tests.e2e.chat_helpers import stream
from tests.e2e.conftest import ProxyFactory, proxy_config
from tests.media.image_server import PNG, MediaServer
from tests.support.fake import FakeGemini
from tests.support.openai_schema import validate

TRUST_LOOPBACK = ["127.0.0.1/32"]


@pytest.fixture
def media() -> Iterator[MediaServer]:
    with MediaServer() as server:
        yield server


def client_for(start_proxy: ProxyFactory, fake: FakeGemini, **media: Any) -> OpenAI:
    proxy = start_proxy(config=proxy_config(fake, media=MediaConfig(**media)))
    return OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0, timeout=20)


def images(urls: list[str]) -> Any:  # the SDK's TypedDicts, built as plain dicts
    parts: list[dict[str, Any]] = [{"type": "text", "text": "Compare these."}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    return [{"role": "user", "content": parts}]


def refused(client: OpenAI, urls: list[str], streamed: bool) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        if streamed:
            stream(client, model="gemini-2.5-flash", messages=images(urls))
        else:
            client.chat.completions.create(model="gemini-2.5-flash", messages=images(urls))
    validate("ErrorResponse", caught.value.response.json())
    assert caught.value.code == "invalid_image_url"
    return caught.value


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_too_many_urls_are_a_400_before_any_fetch(
    start_proxy: ProxyFactory, fake: FakeGemini, media: MediaServer, streamed: bool
) -> None:
    client = client_for(start_proxy, fake, max_urls=3, allowed_private_networks=TRUST_LOOPBACK)
    urls = [f"{media.url}/x.png?n={n}" for n in range(5)]
    error = refused(client, urls, streamed)
    assert "at most 3 media URLs" in error.message and "media.max_urls" in error.message
    assert error.param == "messages[0].content[4].image_url"  # the fourth URL (part 0 is text)
    assert media.hits == []
    assert fake.served_by() == []


def test_the_default_is_16_urls(client: OpenAI, fake: FakeGemini, media: MediaServer) -> None:
    # Loopback is not trusted by default: counting comes first, so no URL is even looked at.
    error = refused(client, [f"{media.url}/x.png?n={n}" for n in range(17)], streamed=False)
    assert "at most 16 media URLs" in error.message
    assert error.param == "messages[0].content[17].image_url"
    assert media.hits == []
    assert fake.served_by() == []


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_urls_over_the_total_size_are_a_400(
    start_proxy: ProxyFactory, fake: FakeGemini, media: MediaServer, streamed: bool
) -> None:
    client = client_for(
        start_proxy, fake, max_total_bytes=100_000, allowed_private_networks=TRUST_LOOPBACK
    )
    # Each is well under the per-URL cap; together they are not.
    urls = [f"{media.url}/big?size=40000&chunked=1&n={n}" for n in range(3)]
    error = refused(client, urls, streamed)
    assert "larger than 100000 bytes (media.max_total_bytes)" in error.message
    assert fake.served_by() == []
    # Two of them fit.
    reply = client.chat.completions.create(model="gemini-2.5-flash", messages=images(urls[:2]))
    assert reply.choices[0].message.content is not None
    assert reply.choices[0].message.content.count("[inlineData image/png, 40000 bytes]") == 2


def test_a_repeated_url_is_fetched_once_and_counted_once(
    start_proxy: ProxyFactory, fake: FakeGemini, media: MediaServer
) -> None:
    client = client_for(start_proxy, fake, max_urls=1, allowed_private_networks=TRUST_LOOPBACK)
    reply = client.chat.completions.create(
        model="gemini-2.5-flash", messages=images([f"{media.url}/x.png"] * 5)
    )
    assert reply.choices[0].message.content is not None
    assert reply.choices[0].message.content.count(f"[inlineData image/png, {len(PNG)} bytes]") == 5
    assert media.hits == ["/x.png"]
