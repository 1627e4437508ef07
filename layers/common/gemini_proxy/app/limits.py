"""Optional abuse limits per client: requests per minute and concurrent streams.

A client is its API key (by fingerprint) or, when the proxy has no client keys, its address.
Both limits answer 429 with Retry-After, before any upstream call is made. Off by default;
when off, this middleware is not installed at all, so it costs nothing.
"""

import math
import time
from collections import defaultdict
from dataclasses import dataclass

from pydantic_core import from_json, to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.errors import ProxyError

CHAT_PATH = "/v1/chat/completions"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, requests_per_minute: int, max_concurrent_streams: int) -> None:
        self.app = app
        self.rpm = requests_per_minute
        self.max_streams = max_concurrent_streams
        self._buckets: dict[str, _Bucket] = {}
        self._streams: defaultdict[str, int] = defaultdict(int)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        client = _client(scope)
        if self.rpm:
            wait = self._take(client)
            if wait:
                await _reject(send, "requests per minute", wait)
                return
        if self.max_streams and scope["path"] == CHAT_PATH and scope["method"] == "POST":
            receive, streaming = await _peek_stream_flag(receive)
            if streaming:
                await self._stream(client, scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _take(self, client: str) -> float:
        """Take one token from the client's bucket; seconds to wait when it is empty."""
        now = time.monotonic()
        bucket = self._buckets.setdefault(client, _Bucket(float(self.rpm), now))
        rate = self.rpm / 60.0
        bucket.tokens = min(float(self.rpm), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate

    async def _stream(self, client: str, scope: Scope, receive: Receive, send: Send) -> None:
        if self._streams[client] >= self.max_streams:
            await _reject(send, "concurrent streams", 1.0)
            return
        self._streams[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._streams[client] -= 1


def _client(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return "key:" + fingerprint(value.decode("latin-1"))
    host = scope.get("client") or ("unknown", 0)
    return f"addr:{host[0]}"


async def _peek_stream_flag(receive: Receive) -> tuple[Receive, bool]:
    """Read the whole body to learn `stream`, then hand the same body to the app."""
    messages: list[Message] = []
    chunks = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    try:
        body = from_json(b"".join(chunks))
        streaming = isinstance(body, dict) and body.get("stream") is True
    except ValueError:
        streaming = False  # the app will answer the 400

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, streaming


async def _reject(send: Send, limit: str, wait: float) -> None:
    error = ProxyError(
        f"Too many requests: this client is over its {limit} limit",
        status=429,
        type="rate_limit_error",
        code="client_rate_limited",
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(max(1, math.ceil(wait))).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": to_json(error.body())})
