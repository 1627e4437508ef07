"""The one HTTP seam to Google: post JSON, get JSON back or a stream of SSE payloads.

aiohttp sits behind it because it measured cheapest per request on these machines (see the
README); nothing outside this module imports aiohttp. One pooled session per process.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from gemini_proxy.upstream.classify import UpstreamError, bad_answer, classify_http, network_failure
from gemini_proxy.upstream.sse import DEFAULT_MAX_EVENT_BYTES, EventTooLarge, SSEDecoder

# Error bodies are small; a larger one is not worth holding in memory to classify.
MAX_ERROR_BODY = 64 * 1024
_NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


class HttpClient:
    def __init__(
        self,
        connect_timeout: float,
        read_timeout: float,
        total_timeout: float | None = None,
        *,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        # total bounds a whole call, a streamed answer included; read bounds each silence.
        self._timeout = aiohttp.ClientTimeout(
            total=total_timeout, sock_connect=connect_timeout, sock_read=read_timeout
        )
        # An SSE event is held whole until it ends: this bounds the memory one answer can take.
        self._max_event_bytes = max_event_bytes
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use so that it binds to the running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, raise_for_status=False
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(self, url: str, headers: dict[str, str]) -> bytes:
        try:
            async with self._client().get(url, headers=headers) as response:
                return await _body_or_raise(response)
        except _NETWORK_ERRORS as exc:
            raise UpstreamError(network_failure(type(exc).__name__)) from None

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> bytes:
        try:
            async with self._client().post(url, headers=headers, data=body) as response:
                return await _body_or_raise(response)
        except _NETWORK_ERRORS as exc:
            raise UpstreamError(network_failure(type(exc).__name__)) from None

    async def post_raw(self, url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """Status and body, errors included: for endpoints whose errors are not Google's API
        shape (the OAuth token endpoint answers `{"error": "invalid_grant"}`)."""
        try:
            async with self._client().post(url, headers=headers, data=body) as response:
                if response.status < 300:
                    return response.status, await response.read()
                return response.status, await response.content.read(MAX_ERROR_BODY)
        except _NETWORK_ERRORS as exc:
            raise UpstreamError(network_failure(type(exc).__name__)) from None

    @asynccontextmanager
    async def post_sse(
        self, url: str, headers: dict[str, str], body: bytes
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Open a streamed POST; yields an iterator of SSE `data` payloads as they arrive.

        Leaving the block closes the connection, so a client that hangs up stops Google too.
        """
        try:
            response = await self._client().post(url, headers=headers, data=body)
        except _NETWORK_ERRORS as exc:
            raise UpstreamError(network_failure(type(exc).__name__)) from None
        try:
            if response.status >= 300:
                await _body_or_raise(response)
            yield _payloads(response, SSEDecoder(self._max_event_bytes))
        finally:
            response.close()


async def _body_or_raise(response: aiohttp.ClientResponse) -> bytes:
    if response.status < 300:
        return await response.read()
    body = await response.content.read(MAX_ERROR_BODY)
    raise UpstreamError(classify_http(response.status, body))


async def _payloads(response: aiohttp.ClientResponse, decoder: SSEDecoder) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.content.iter_any():
            for payload in decoder.feed(chunk):
                yield payload
    except _NETWORK_ERRORS as exc:
        raise UpstreamError(network_failure(f"stream interrupted ({type(exc).__name__})")) from None
    except EventTooLarge as exc:
        raise UpstreamError(
            bad_answer(f"Gemini's answer was cut short: {exc} (upstream.max_event_bytes)")
        ) from None
    for payload in decoder.close():
        yield payload
