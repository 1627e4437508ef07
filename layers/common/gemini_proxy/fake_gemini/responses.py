"""ASGI answers that can misbehave on purpose: delayed, streamed, cut off, or reset.

Starlette's responses cannot drop a connection, and uvicorn turns an app that sends nothing into a
500, so the fake reaches the connection's transport through uvicorn's `receive` (a bound method of
its request cycle). Under another server the transport is unknown: resets then fail loudly rather
than silently becoming a clean answer.

Each response calls `on_done(status, client_disconnected)` when it is over so the request log
records what the client really saw.
"""

import asyncio
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Done = Callable[[int | None, bool], None]


class Connection:
    """The uvicorn request cycle behind `receive`, when there is one."""

    __slots__ = ("_cycle",)

    def __init__(self, receive: Receive) -> None:
        self._cycle: Any = getattr(receive, "__self__", None)

    @property
    def transport(self) -> asyncio.Transport | None:
        # Duck-typed: uvloop's transports do not derive from asyncio's classes.
        transport = getattr(self._cycle, "transport", None)
        if transport is None or not hasattr(transport, "abort"):
            return None
        found: asyncio.Transport = transport
        return found

    def disconnected(self) -> bool:
        return bool(getattr(self._cycle, "disconnected", False))

    async def reset(self, receive: Receive) -> None:
        """Close with a TCP RST and no response at all."""
        transport = self._require_transport()
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0 makes close() send RST: the client sees "connection reset by peer".
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        await self._wait_closed(receive)

    async def cut(self, receive: Receive) -> None:
        """Close after flushing what was sent, without ending the HTTP body cleanly."""
        transport = self._require_transport()
        transport.close()
        await self._wait_closed(receive)

    def _require_transport(self) -> asyncio.Transport:
        transport = self.transport
        if transport is None:
            raise RuntimeError("connection faults need uvicorn: no transport behind this request")
        return transport

    async def _wait_closed(self, receive: Receive) -> None:
        # Returning before uvicorn notices the closed connection would make it log an error and
        # try to answer; its receive() reports the disconnect once connection_lost has run.
        try:
            async with asyncio.timeout(5):
                while (await receive())["type"] != "http.disconnect":
                    pass
        except TimeoutError:
            pass


class Answer(Response):
    """A complete body, sent after an optional delay; optionally cut off halfway."""

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: str,
        on_done: Done,
        *,
        delay: float = 0.0,
        cut_half: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(body, status, headers, content_type)
        self.on_done = on_done
        self.delay = delay
        self.cut_half = cut_half

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        conn = Connection(receive)
        if self.cut_half:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            half = bytes(self.body[: len(self.body) // 2])
            await send({"type": "http.response.body", "body": half, "more_body": True})
            await conn.cut(receive)
            self.on_done(self.status_code, False)
            return
        await super().__call__(scope, receive, send)
        self.on_done(self.status_code, conn.disconnected())


class Reset(Response):
    """No answer: the connection is reset."""

    def __init__(self, on_done: Done, *, delay: float = 0.0) -> None:
        super().__init__(b"", 500)
        self.on_done = on_done
        self.delay = delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        await Connection(receive).reset(receive)
        self.on_done(None, False)


class EventStream(Response):
    """Streamed events, SSE (`data: ...\\r\\n\\r\\n`) or a JSON array written element by element."""

    def __init__(
        self,
        events: Sequence[bytes],
        sse: bool,
        on_done: Done,
        *,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        drop_after: int | None = None,
    ) -> None:
        content_type = "text/event-stream" if sse else "application/json; charset=UTF-8"
        super().__init__(b"", 200, None, content_type)
        # Drop the content-length Response computed for the empty body: this body is chunked.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.events = events
        self.sse = sse
        self.on_done = on_done
        self.delay = delay
        self.chunk_delay = chunk_delay
        self.drop_after = drop_after

    def _frame(self, index: int, event: bytes) -> bytes:
        if self.sse:
            return b"data: " + event + b"\r\n\r\n"
        return (b"[" if index == 0 else b"\n,\r\n") + event

    def _tail(self) -> bytes:
        if self.sse:
            return b""
        return b"\n]" if self.events else b"[]"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        conn = Connection(receive)
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        disconnected = False
        for index, event in enumerate(self.events):
            if self.drop_after is not None and index >= self.drop_after:
                break
            if index and self.chunk_delay > 0:
                await asyncio.sleep(self.chunk_delay)
            if conn.disconnected():
                disconnected = True
                break
            await send(
                {"type": "http.response.body", "body": self._frame(index, event), "more_body": True}
            )
        if self.drop_after is not None and not disconnected:
            await conn.cut(receive)
            self.on_done(200, False)
            return
        if not disconnected:
            await send({"type": "http.response.body", "body": self._tail(), "more_body": False})
        self.on_done(200, disconnected or conn.disconnected())
