"""Fetching `http(s)` media URLs for the client, without becoming an SSRF hole.

A URL in a chat message is chosen by whoever writes the prompt, so the proxy must never let it
reach what only the proxy can reach: loopback, private networks, link-local addresses (cloud
metadata at 169.254.169.254 among them). Every address is checked *after* DNS resolution, and the
connection goes to the checked address, so a name cannot resolve one way for the check and
another for the connection. Redirects are followed by hand, each hop checked again.

One request's URLs are bounded together too: how many, how many bytes in all, and how many are
downloaded at once, so a single prompt cannot make the proxy download without end.
"""

import asyncio
import ipaddress
import mimetypes
import socket
from base64 import b64encode
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from gemini_proxy.config import MediaConfig
from gemini_proxy.errors import InvalidRequest
from gemini_proxy.upstream.wire import Blob

MAX_REDIRECTS = 5
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddress(Exception):
    pass


# IPv6 prefixes that carry an IPv4 address a gateway will connect to (RFC 6052 NAT64, as AWS
# DNS64 hands out), so `64:ff9b::a9fe:a9fe` is 169.254.169.254 to whoever routes it.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    # `::` and `::1` sit in the IPv4-compatible range but are plain IPv6 (and never allowed).
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: IPAddress, trusted: list[IPNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # Judge the IPv4 address the packets will reach.
        address = _embedded_ipv4(address) or address
    if any(address in network for network in trusted):
        return True
    return address.is_global and not address.is_multicast


def _literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, in any spelling the C library would connect to."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host.replace(".", "").isalnum() and not host.replace(".", "").isalpha():
        # Legacy IPv4 forms (`2130706433`, `127.1`, `0x7f.0.0.1`, `0177.0.0.1`) that
        # getaddrinfo accepts and `ipaddress` does not.
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


class _CheckingResolver(AbstractResolver):
    """Resolves like the default resolver, then refuses any non-public answer."""

    def __init__(self, trusted: list[IPNetwork]) -> None:
        self._inner = DefaultResolver()
        self._trusted = trusted

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if not address_allowed(ipaddress.ip_address(result["host"]), self._trusted):
                # One bad answer taints the name: fail closed rather than pick the good ones.
                raise RefusedAddress(host)
        return results

    async def close(self) -> None:
        await self._inner.close()


class _Budget:
    """The bytes that all the downloads of one request may still take, together."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def check(self, size: int, param: str) -> None:
        if self.used + size > self.limit:
            raise InvalidRequest(
                f"The media URLs were not fetched: together they are larger than {self.limit} "
                "bytes (media.max_total_bytes)",
                param=param,
                code="invalid_image_url",
            )

    def take(self, size: int, param: str) -> None:
        self.check(size, param)
        self.used += size


class MediaFetcher:
    def __init__(self, config: MediaConfig) -> None:
        self._config = config
        self._trusted: list[IPNetwork] = [
            ipaddress.ip_network(net, strict=False) for net in config.allowed_private_networks
        ]
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(resolver=_CheckingResolver(self._trusted))
            timeout = aiohttp.ClientTimeout(total=self._config.timeout_seconds)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch_all(self, wanted: list[tuple[str, str]]) -> dict[str, Blob]:
        """Each distinct URL of `wanted`, (url, param) pairs in request order, fetched once.

        Up to `max_concurrent_fetches` at a time; the first refusal cancels the others.
        """
        if not wanted:
            return {}  # most requests: no task group, no semaphore
        params: dict[str, str] = {}
        for url, param in wanted:
            params.setdefault(url, param)  # a repeated URL answers to where it first appeared
        self._check_wanted(params)
        budget = _Budget(self._config.max_total_bytes)
        gate = asyncio.Semaphore(self._config.max_concurrent_fetches)

        async def one(url: str, param: str) -> Blob:
            async with gate:
                return await self._fetch_within(url, param, budget)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = {url: group.create_task(one(url, param)) for url, param in params.items()}
        except ExceptionGroup as failed:
            refusal = next((e for e in failed.exceptions if isinstance(e, InvalidRequest)), None)
            if refusal is None:
                raise
            raise refusal from None
        return {url: task.result() for url, task in tasks.items()}

    def _check_wanted(self, params: dict[str, str]) -> None:
        if not params:
            return
        if not self._config.fetch_urls:
            raise _not_fetching(next(iter(params.values())))
        limit = self._config.max_urls
        if len(params) > limit:
            first_over = list(params.values())[limit]
            raise InvalidRequest(
                f"A request may carry at most {limit} media URLs (media.max_urls); this one "
                f"has {len(params)}",
                param=first_over,
                code="invalid_image_url",
            )

    async def fetch(self, url: str, param: str) -> Blob:
        return await self._fetch_within(url, param, _Budget(self._config.max_total_bytes))

    async def _fetch_within(self, url: str, param: str, budget: _Budget) -> Blob:
        if not self._config.fetch_urls:
            raise _not_fetching(param)
        try:
            return await self._fetch(url, param, budget)
        except RefusedAddress:
            why = "it points to a private, loopback or link-local address"
            raise _refused(param, why) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _refused(param, f"it could not be downloaded ({type(exc).__name__})") from None
        except ValueError:
            # urlsplit on a broken IPv6 literal, IDNA on an empty or over-long label, ...
            raise _refused(param, "it is not a valid URL") from None

    async def _fetch(self, url: str, param: str, budget: _Budget) -> Blob:
        for _ in range(MAX_REDIRECTS + 1):
            self._check_url(url, param)
            async with self._client().get(url, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308) and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status != 200:
                    raise _refused(param, f"it answered HTTP {response.status}")
                data = await self._read_capped(response, param, budget)
                return Blob(mime_type=_mime_type(response, url), data=b64encode(data).decode())
        raise _refused(param, f"it redirected more than {MAX_REDIRECTS} times")

    def _check_url(self, url: str, param: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _refused(param, "only http and https URLs are fetched")
        host = parts.hostname
        allowed_hosts = self._config.allowed_hosts
        if allowed_hosts and not any(host == h or host.endswith("." + h) for h in allowed_hosts):
            raise _refused(param, f"the host '{host}' is not in media.allowed_hosts")
        literal = _literal_address(host)
        if literal is None:
            return  # a name: checked by the resolver at connection time
        if not address_allowed(literal, self._trusted):
            raise RefusedAddress(host)

    async def _read_capped(
        self, response: aiohttp.ClientResponse, param: str, budget: _Budget
    ) -> bytes:
        limit = self._config.max_bytes
        declared = response.content_length or 0
        if declared > limit:
            raise _refused(param, f"it is larger than {limit} bytes")
        budget.check(declared, param)  # refused before downloading what cannot fit anyway
        # `read(n)` returns whatever is buffered, not n bytes: gather pieces until the end.
        pieces: list[bytes] = []
        size = 0
        async for piece in response.content.iter_any():
            size += len(piece)
            if size > limit:
                raise _refused(param, f"it is larger than {limit} bytes")
            budget.take(len(piece), param)
            pieces.append(piece)
        return b"".join(pieces)


def _mime_type(response: aiohttp.ClientResponse, url: str) -> str:
    declared = response.content_type
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed or "application/octet-stream"


def _not_fetching(param: str) -> InvalidRequest:
    return InvalidRequest(
        "This proxy does not fetch media URLs; send the file inline as a base64 data: URL",
        param=param,
        code="invalid_image_url",
    )


def _refused(param: str, why: str) -> InvalidRequest:
    return InvalidRequest(
        f"The media URL was not fetched: {why}", param=param, code="invalid_image_url"
    )
