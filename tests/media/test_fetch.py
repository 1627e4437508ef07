"""The SSRF-safe media fetcher against a real server on loopback.

Every connection the fetcher's event loop attempts is recorded (`connects`), so a refusal can be
shown to happen before any connection, not after a failed one.
"""

import asyncio
import base64
import ipaddress
import time
from collections.abc import Coroutine, Iterator
from typing import Any
from urllib.parse import quote

import pytest

from gemini_proxy.config import MediaConfig
from gemini_proxy.errors import InvalidRequest
from gemini_proxy.media.fetch import MAX_REDIRECTS, MediaFetcher, address_allowed
from gemini_proxy.upstream.wire import Blob
from tests.media.image_server import PNG, MediaServer, Tripwire, big_body

PARAM = "messages[0].content[0].image_url"
TRUST_LOOPBACK = ["127.0.0.1/32"]
PRIVATE = "private, loopback or link-local"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    # A plain selector loop, whatever policy another test (uvicorn) may have installed.
    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        return runner.run(coro)


def fetch(url: str, **config: Any) -> Blob:
    async def go() -> Blob:
        fetcher = MediaFetcher(MediaConfig(**config))
        try:
            return await fetcher.fetch(url, PARAM)
        finally:
            await fetcher.close()

    result: Blob = run(go())
    return result


def refused(url: str, **config: Any) -> str:
    with pytest.raises(InvalidRequest) as caught:
        fetch(url, **config)
    assert caught.value.param == PARAM and caught.value.code == "invalid_image_url"
    assert caught.value.status == 400
    return caught.value.message


@pytest.fixture(scope="module")
def media() -> Iterator[MediaServer]:
    with MediaServer() as server:
        yield server


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Addresses the fetcher's loop tried to connect to."""
    seen: list[str] = []
    loop_class: Any = asyncio.selector_events.BaseSelectorEventLoop
    original = loop_class.sock_connect

    async def recording(self: Any, sock: Any, address: Any) -> Any:
        seen.append(str(address[0]))
        return await original(self, sock, address)

    monkeypatch.setattr(loop_class, "sock_connect", recording)
    return seen


# --- which addresses pass -----------------------------------------------------------------------


@pytest.mark.parametrize("address", ["8.8.8.8", "142.250.74.78", "2001:4860:4860::8888"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(ipaddress.ip_address(address), [])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # reaches the local host on Linux
        "255.255.255.255",
        "224.0.0.1",  # multicast
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "::7f00:1",  # IPv4-compatible 127.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not address_allowed(ipaddress.ip_address(address), [])


def test_trusted_networks_open_exactly_what_they_name() -> None:
    trusted = [ipaddress.ip_network("127.0.0.1/32")]
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), trusted)
    assert address_allowed(ipaddress.ip_address("::ffff:127.0.0.1"), trusted)
    assert not address_allowed(ipaddress.ip_address("127.0.0.2"), trusted)
    assert not address_allowed(ipaddress.ip_address("10.0.0.1"), trusted)


# --- fetching -----------------------------------------------------------------------------------


def test_fetches_bytes_and_mime_type(media: MediaServer, connects: list[str]) -> None:
    blob = fetch(f"{media.url}/x.png", allowed_private_networks=TRUST_LOOPBACK)
    assert blob.mime_type == "image/png"
    assert base64.b64decode(blob.data) == PNG
    assert connects == ["127.0.0.1"]  # the recorder works, so its silence elsewhere means something


def test_missing_content_type_is_guessed_from_the_path(media: MediaServer) -> None:
    blob = fetch(f"{media.url}/photo.jpg", allowed_private_networks=TRUST_LOOPBACK)
    assert blob.mime_type == "image/jpeg"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "close-delimited"])
def test_a_body_in_many_pieces_arrives_whole(media: MediaServer, chunked: bool) -> None:
    size = 300_000
    url = f"{media.url}/big?size={size}&chunked={int(chunked)}"
    blob = fetch(url, allowed_private_networks=TRUST_LOOPBACK)
    assert base64.b64decode(blob.data) == big_body(size)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "close-delimited"])
def test_size_cap(media: MediaServer, chunked: bool) -> None:
    url = f"{media.url}/big?size=200000&chunked={int(chunked)}"
    message = refused(url, allowed_private_networks=TRUST_LOOPBACK, max_bytes=50_000)
    assert "larger than 50000 bytes" in message
    # Exactly at the cap is fine.
    exact = f"{media.url}/big?size=50000&chunked={int(chunked)}"
    assert (
        len(
            base64.b64decode(
                fetch(exact, allowed_private_networks=TRUST_LOOPBACK, max_bytes=50_000).data
            )
        )
        == 50_000
    )


def test_redirects_are_followed_and_each_hop_checked(media: MediaServer) -> None:
    url = f"{media.url}/redirect?to={quote('/x.png')}"
    assert base64.b64decode(fetch(url, allowed_private_networks=TRUST_LOOPBACK).data) == PNG


def test_redirect_chains_are_followed_but_loops_stop(media: MediaServer) -> None:
    two_hops = f"{media.url}/redirect?to={quote('/redirect?to=/x.png')}"
    assert fetch(two_hops, allowed_private_networks=TRUST_LOOPBACK).mime_type == "image/png"
    before = len(media.hits)
    message = refused(f"{media.url}/loop", allowed_private_networks=TRUST_LOOPBACK)
    assert f"redirected more than {MAX_REDIRECTS} times" in message
    assert len(media.hits) - before == MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.png",
        "http://[::ffff:10.0.0.1]/x.png",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "http://0.0.0.0/x.png",
    ],
)
def test_redirect_to_a_private_address_is_refused_before_connecting(
    media: MediaServer, connects: list[str], target: str
) -> None:
    started = time.monotonic()
    message = refused(
        f"{media.url}/redirect?to={quote(target)}", allowed_private_networks=TRUST_LOOPBACK
    )
    assert PRIVATE in message
    assert connects == ["127.0.0.1"]  # only the redirecting server
    assert time.monotonic() - started < 2


def test_redirect_to_an_untrusted_loopback_address_never_connects(media: MediaServer) -> None:
    tripwire = Tripwire("127.0.0.2")
    try:
        target = f"http://127.0.0.2:{tripwire.port}/x.png"
        message = refused(
            f"{media.url}/redirect?to={quote(target)}", allowed_private_networks=TRUST_LOOPBACK
        )
        assert PRIVATE in message
        assert not tripwire.touched()
        # The tripwire does notice a connection: trusting 127.0.0.2 lets the fetch reach it.
        with pytest.raises(InvalidRequest):
            fetch(target, allowed_private_networks=["127.0.0.2/32"], timeout_seconds=0.5)
        assert tripwire.touched()
    finally:
        tripwire.close()


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
        "2130706433",  # 127.0.0.1 as one decimal number
        "127.1",
        "0x7f.0.0.1",
        "0177.0.0.1",
    ],
)
def test_loopback_in_any_spelling_is_refused_by_default(
    media: MediaServer, connects: list[str], host: str
) -> None:
    hits = len(media.hits)
    message = refused(f"http://{host}:{media.port}/x.png")
    assert PRIVATE in message
    assert connects == [] and len(media.hits) == hits


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.1/x.png", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/"],
)
def test_private_literals_are_refused_before_connecting(connects: list[str], url: str) -> None:
    started = time.monotonic()
    assert PRIVATE in refused(url)
    assert connects == []
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x.png", "gopher://example.com/", "http:///x"]
)
def test_only_http_and_https_urls(url: str) -> None:
    assert "only http and https" in refused(url)


@pytest.mark.parametrize("url", ["http://[::1/x", "http://a..b/x.png", f"http://{'a' * 64}.com/"])
def test_malformed_urls_are_refused_not_a_crash(connects: list[str], url: str) -> None:
    assert "not a valid URL" in refused(url)
    assert connects == []


def test_redirect_to_another_scheme_is_refused(media: MediaServer) -> None:
    message = refused(
        f"{media.url}/redirect?to={quote('file:///etc/passwd')}",
        allowed_private_networks=TRUST_LOOPBACK,
    )
    assert "only http and https" in message


def test_allowed_hosts_limit_the_hosts(media: MediaServer) -> None:
    config = {"allowed_private_networks": TRUST_LOOPBACK, "allowed_hosts": ["example.com"]}
    assert "not in media.allowed_hosts" in refused(f"{media.url}/x.png", **config)
    assert "not in media.allowed_hosts" in refused("http://evil-example.com/x.png", **config)
    allowed = {"allowed_private_networks": TRUST_LOOPBACK, "allowed_hosts": ["127.0.0.1"]}
    assert fetch(f"{media.url}/x.png", **allowed).mime_type == "image/png"


def test_fetch_urls_off_refuses_with_the_alternative() -> None:
    assert "data: URL" in refused("https://example.com/x.png", fetch_urls=False)


def test_error_status_is_refused(media: MediaServer) -> None:
    message = refused(f"{media.url}/status?code=404", allowed_private_networks=TRUST_LOOPBACK)
    assert "HTTP 404" in message


def test_timeout_is_refused(media: MediaServer) -> None:
    started = time.monotonic()
    message = refused(
        f"{media.url}/slow?ms=1500", allowed_private_networks=TRUST_LOOPBACK, timeout_seconds=0.3
    )
    assert "could not be downloaded" in message
    assert time.monotonic() - started < 1.2


# --- one request's URLs together (fetch_all) ----------------------------------------------------


def fetch_all(wanted: list[tuple[str, str]], **config: Any) -> dict[str, Blob]:
    async def go() -> dict[str, Blob]:
        fetcher = MediaFetcher(MediaConfig(**config))
        try:
            return await fetcher.fetch_all(wanted)
        finally:
            await fetcher.close()

    result: dict[str, Blob] = run(go())
    return result


def refused_all(wanted: list[tuple[str, str]], **config: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        fetch_all(wanted, **config)
    assert caught.value.status == 400 and caught.value.code == "invalid_image_url"
    return caught.value


def part(n: int) -> str:
    return f"messages[0].content[{n}].image_url"


def test_fetch_all_fetches_each_url_once_and_keys_the_answer_by_url(media: MediaServer) -> None:
    png, jpg = f"{media.url}/x.png", f"{media.url}/photo.jpg"
    before = len(media.hits)
    wanted = [(png, part(0)), (jpg, part(1)), (png, part(2)), (png, part(3)), (jpg, part(4))]
    blobs = fetch_all(wanted, allowed_private_networks=TRUST_LOOPBACK)
    assert set(blobs) == {png, jpg}
    assert blobs[png].mime_type == "image/png" and blobs[jpg].mime_type == "image/jpeg"
    assert base64.b64decode(blobs[png].data) == PNG
    assert sorted(media.hits[before:]) == ["/photo.jpg", "/x.png"]


def test_fetch_all_of_nothing_is_nothing(connects: list[str]) -> None:
    assert fetch_all([]) == {}
    assert fetch_all([], fetch_urls=False) == {}
    assert connects == []


def test_too_many_urls_are_refused_before_any_fetch(
    media: MediaServer, connects: list[str]
) -> None:
    urls = [f"{media.url}/x.png?n={n}" for n in range(5)]
    # Repeats do not count: the fourth distinct URL is the first one over a limit of 3.
    wanted = [(urls[0], part(0)), (urls[1], part(1)), (urls[0], part(2)), (urls[2], part(3))]
    wanted += [(urls[3], part(4)), (urls[4], part(5))]
    before = len(media.hits)
    error = refused_all(wanted, allowed_private_networks=TRUST_LOOPBACK, max_urls=3)
    assert "at most 3 media URLs" in error.message and "media.max_urls" in error.message
    assert error.param == part(4)
    assert connects == [] and len(media.hits) == before
    # At the limit, everything is fetched.
    assert len(fetch_all(wanted[:4], allowed_private_networks=TRUST_LOOPBACK, max_urls=3)) == 3


def test_the_default_limit_is_16_urls(connects: list[str]) -> None:
    wanted = [(f"https://example.com/{n}.png", part(n)) for n in range(17)]
    assert refused_all(wanted).param == part(16)
    assert connects == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "close-delimited"])
def test_the_total_of_all_downloads_is_capped(media: MediaServer, chunked: bool) -> None:
    urls = [f"{media.url}/big?size=40000&chunked={int(chunked)}&n={n}" for n in range(6)]
    wanted = [(url, part(n)) for n, url in enumerate(urls)]
    config = {
        "allowed_private_networks": TRUST_LOOPBACK,
        "max_total_bytes": 100_000,
        "max_concurrent_fetches": 2,
    }
    before = len(media.hits)
    error = refused_all(wanted, **config)
    assert "larger than 100000 bytes (media.max_total_bytes)" in error.message
    assert error.param in {p for _, p in wanted}
    # The first refusal cancels the rest: the last two URLs were never asked for.
    assert len(media.hits) - before <= 4
    # Each URL is under the per-URL cap, and two of them fit the total.
    assert len(fetch_all(wanted[:2], **config)) == 2


def test_fetches_run_concurrently_up_to_the_limit() -> None:
    with MediaServer() as media:
        wanted = [(f"{media.url}/slow?ms=200&n={n}", part(n)) for n in range(8)]
        started = time.monotonic()
        config = {"allowed_private_networks": TRUST_LOOPBACK, "max_concurrent_fetches": 3}
        assert len(fetch_all(wanted, **config)) == 8
        elapsed = time.monotonic() - started
        assert media.peak_in_flight == 3
    assert elapsed < 8 * 0.2  # not one after another


def test_one_refusal_cancels_the_slow_others(media: MediaServer) -> None:
    slow = f"{media.url}/slow?ms=3000"
    started = time.monotonic()
    wanted = [(slow, part(0)), ("http://10.0.0.1/x.png", part(1))]
    error = refused_all(wanted, allowed_private_networks=TRUST_LOOPBACK)
    assert PRIVATE in error.message and error.param == part(1)
    assert time.monotonic() - started < 2


def test_fetch_all_with_fetching_off_names_the_first_url(connects: list[str]) -> None:
    wanted = [("https://example.com/a.png", part(2)), ("https://example.com/b.png", part(5))]
    error = refused_all(wanted, fetch_urls=False)
    assert "data: URL" in error.message and error.param == part(2)
    assert connects == []
