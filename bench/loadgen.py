"""The load client: raw HTTP/1.1 over asyncio (uvloop), keep-alive, no pipelining.

Why not httpx or aiohttp: the client shares a core with the fake upstream, and whatever it spends
per request is taken from the upstream's share. A Protocol that writes prebuilt request bytes and
parses answers with httptools' C parser costs a few microseconds per request, so the targets, not
the client, are what the figures show.

Closed loop: each of `concurrency` connections sends its next request as soon as the previous
answer is complete. Every answer is timed (send -> last byte); for streamed answers the arrival
time of the first body byte and of each SSE event is kept too.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import httptools

Clock = Callable[[], int]
_now: Clock = time.perf_counter_ns


def build_request(
    method: str, path: str, body: bytes, host: str, headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}", "connection: keep-alive"]
    if body or method == "POST":
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Sample:
    """One answered request, times in nanoseconds from the moment it was sent."""

    status: int
    total_ns: int
    first_byte_ns: int = 0  # first body byte
    events_ns: list[int] = field(default_factory=list)  # each complete SSE event
    body_bytes: int = 0


@dataclass
class LoadResult:
    samples: list[Sample]
    wall_s: float  # length of the measured window
    errors: int  # connection failures and non-2xx answers
    first_error: str = ""
    answered: int = 0  # every answer, warm-up included (for CPU per request)
    completed: int = 0  # good answers completed inside the window

    @property
    def rps(self) -> float:
        return self.completed / self.wall_s if self.wall_s else 0.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection running requests back to back."""

    def __init__(self, run: "_Run") -> None:
        self.run = run
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = asyncio.get_running_loop().create_future()
        self.sent_at = 0
        self.first_byte = 0
        self.events: list[int] = []
        self.tail = b""  # end of the previous body piece, to find event breaks across reads
        self.body_bytes = 0
        self.keep_alive = True

    # --- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, only alike.
        self.transport = cast(asyncio.Transport, transport)
        self._send()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.run.fail(f"bad HTTP answer: {exc}")
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    # --- httptools callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.first_byte = 0
        self.events = []
        self.tail = b""
        self.body_bytes = 0

    def on_body(self, body: bytes) -> None:
        now = _now()
        if not self.first_byte:
            self.first_byte = now
        self.body_bytes += len(body)
        if self.run.streaming:
            text = self.tail + body
            count = text.count(b"\n\n") + text.count(b"\r\n\r\n")
            before = self.tail.count(b"\n\n") + self.tail.count(b"\r\n\r\n")
            self.events.extend([now] * (count - before))
            self.tail = text[-3:]

    def on_message_complete(self) -> None:
        now = _now()
        status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        sent = self.sent_at
        self.run.record(
            Sample(
                status,
                now - sent,
                (self.first_byte - sent) if self.first_byte else 0,
                [t - sent for t in self.events],
                self.body_bytes,
            ),
            sent,
        )
        if not self.keep_alive:
            self._close()
        elif self.run.running:
            self._send()
        else:
            self._close()

    # --- helpers ---------------------------------------------------------------------------

    def _send(self) -> None:
        assert self.transport is not None
        if _now() >= self.run.measure_until:
            self.run.running = False
            self._close()
            return
        self.sent_at = _now()
        self.transport.write(self.run.request)

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Run:
    def __init__(
        self,
        request: bytes,
        streaming: bool,
        measure_from: int,
        measure_until: int,
        limit: int | None = None,
    ) -> None:
        self.request = request
        self.limit = limit
        self.streaming = streaming
        self.measure_from = measure_from
        self.measure_until = measure_until
        self.samples: list[Sample] = []
        self.errors = 0
        self.first_error = ""
        self.running = True
        self.answered = 0
        self.completed = 0  # answers completed inside the window
        self.last: Sample | None = None

    def record(self, sample: Sample, sent: int) -> None:
        """Latency: every request sent inside the window, however long it takes to answer
        (no survivor bias against slow answers). Throughput: answers completed inside it."""
        self.last = sample
        self.answered += 1
        if self.limit is not None and self.answered >= self.limit:
            self.running = False
        ok = 200 <= sample.status < 300
        done = sent + sample.total_ns
        if ok and self.measure_from <= done < self.measure_until:
            self.completed += 1
        if sent < self.measure_from or sent >= self.measure_until:
            return  # warm-up, or sent after the window closed
        if not ok:
            self.fail(f"HTTP {sample.status}")
            return
        self.samples.append(sample)

    def fail(self, message: str) -> None:
        self.errors += 1
        if not self.first_error:
            self.first_error = message


async def run_load(
    host: str,
    port: int,
    request: bytes,
    concurrency: int,
    duration_s: float,
    warmup_s: float = 0.3,
    streaming: bool = False,
    drain_s: float = 10.0,
) -> LoadResult:
    """Drive `concurrency` connections for `warmup_s + duration_s`; measure the last part.

    No request is sent after the window; those in flight when it closes are awaited (up to
    `drain_s`) so that their latency counts."""
    loop = asyncio.get_running_loop()
    start = _now()
    measure_from = start + int(warmup_s * 1e9)
    measure_until = measure_from + int(duration_s * 1e9)
    run = _Run(request, streaming, measure_from, measure_until)

    async def connection() -> None:
        # Reconnect whenever the server closes the connection (or refuses it) until time is up.
        while run.running and _now() < measure_until:
            try:
                _, protocol = await loop.create_connection(lambda: _Connection(run), host, port)
            except OSError as exc:
                run.fail(f"connect: {exc}")
                await asyncio.sleep(0.01)
                continue
            try:
                await asyncio.wait_for(
                    protocol.closed, timeout=max(0.05, (measure_until - _now()) / 1e9 + drain_s)
                )
            except TimeoutError:
                protocol._close()
                run.fail("answer timed out")
                return

    async def stopper() -> None:
        await asyncio.sleep(max(0.0, (measure_until - _now()) / 1e9))
        run.running = False

    stop = asyncio.ensure_future(stopper())
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    stop.cancel()
    wall = (min(_now(), measure_until) - measure_from) / 1e9
    return LoadResult(
        run.samples, max(wall, 1e-9), run.errors, run.first_error, run.answered, run.completed
    )


async def one_request(host: str, port: int, request: bytes, wait_s: float = 10.0) -> Sample | None:
    """One request on a fresh connection, whatever its status; None when no answer came."""
    loop = asyncio.get_running_loop()
    start = _now()
    run = _Run(request, True, start, start + int(wait_s * 1e9), limit=1)
    try:
        _, protocol = await loop.create_connection(lambda: _Connection(run), host, port)
        await asyncio.wait_for(protocol.closed, wait_s)
    except (OSError, TimeoutError):
        return None
    return run.last


class _Collector:
    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.done = False

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True


async def fetch(host: str, port: int, request: bytes, wait_s: float = 30.0) -> tuple[int, bytes]:
    """Status and whole body of one request (for setup and checks, not for timing)."""

    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(host, port)
        collector = _Collector()
        parser = httptools.HttpResponseParser(collector)
        try:
            writer.write(request)
            while not collector.done:
                data = await reader.read(65536)
                if not data:
                    break
                parser.feed_data(data)
        finally:
            writer.close()
        return parser.get_status_code(), b"".join(collector.body)

    return await asyncio.wait_for(go(), wait_s)
