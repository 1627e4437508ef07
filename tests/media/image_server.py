"""A small HTTP server on loopback that serves media, redirects, and counts who came.

Paths:
- `/x.png`: `PNG` bytes as image/png; `/photo.jpg` the same bytes with no Content-Type at all;
- `/big?size=N[&chunked=1]`: N bytes, written in 16 KiB pieces with short pauses, so a reader
  that takes the first piece for the whole body is caught; `chunked=1` omits Content-Length;
- `/redirect?to=URL`: 302 to URL; `/loop`: 302 to itself;
- `/status?code=N`: that status; `/slow?ms=N`: waits, then the PNG.

`peak_in_flight` is the most `/slow` requests that were waiting at the same time.

`Tripwire` listens on an address and reports whether anything ever connected to it.
"""

import http.server
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from urllib.parse import parse_qs, urlsplit


def _png() -> bytes:
    """A valid 2x2 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()
PIECE = 16 * 1024


def big_body(size: int) -> bytes:
    return bytes(n % 251 for n in range(size))


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet tests

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        self.server.hits.append(parts.path)
        if parts.path == "/x.png":
            self._send(200, PNG, "image/png")
        elif parts.path == "/photo.jpg":
            self._send(200, PNG, None)
        elif parts.path == "/big":
            self._big(int(query.get("size", "0")), query.get("chunked") == "1")
        elif parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/status":
            self._send(int(query["code"]), b"nope", "text/plain")
        elif parts.path == "/slow":
            # Counted while waiting only: the count drops before the client can see an answer.
            with self.server.in_flight():
                time.sleep(int(query.get("ms", "1000")) / 1000)
            self._send(200, PNG, "image/png")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _big(self, size: int, chunked: bool) -> None:
        body = big_body(size)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if chunked:
            # No length: the body ends when the connection closes.
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            for start in range(0, size, PIECE):
                self.wfile.write(body[start : start + PIECE])
                self.wfile.flush()
                time.sleep(0.002)
        except OSError:
            pass  # the reader hung up (a size cap did its job)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.hits: list[str] = []
        self._lock = threading.Lock()
        self._waiting = 0
        self.peak_in_flight = 0

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._lock:
            self._waiting += 1
            self.peak_in_flight = max(self.peak_in_flight, self._waiting)
        try:
            yield
        finally:
            with self._lock:
                self._waiting -= 1


class MediaServer:
    """`with MediaServer() as media:` serves at `media.url` (http://127.0.0.1:port)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = _Server(host)
        self.port = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def hits(self) -> list[str]:
        return self._server.hits

    @property
    def peak_in_flight(self) -> int:
        return self._server.peak_in_flight

    def __enter__(self) -> "MediaServer":
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


class Tripwire:
    """A listening socket nobody should ever reach; `touched()` says whether someone did."""

    def __init__(self, host: str) -> None:
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._sock.bind((host, 0))
        self._sock.listen(8)
        self._sock.setblocking(False)
        self.port: int = self._sock.getsockname()[1]

    def touched(self) -> bool:
        try:
            conn, _ = self._sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def close(self) -> None:
        self._sock.close()
