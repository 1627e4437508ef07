"""REPLAY: a near-free upstream that answers with bytes recorded from the fake Gemini.

The faithful fake validates every request and builds every answer, which costs it ~0.2 ms of CPU
per request; sharing a core with the load client it tops out near 5k req/s, below what the FLOOR
forwarder can carry. Throughput is therefore also measured against this replay server: raw
asyncio with httptools' parser, it answers a generateContent (or streamGenerateContent) POST with
the answer the fake gave to the same request, recorded when the harness starts, at a few
microseconds per request. Latency, streaming and the large cases use the faithful fake.

    python -m bench.replay --port 9000 --answers answers.json
"""

import argparse
import asyncio
import json
from pathlib import Path
from typing import cast

import httptools
import uvloop


def _response(status: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\nconnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Answers:
    def __init__(self, generate: bytes, stream_events: list[bytes], latency_ms: float) -> None:
        self.generate = _response("200 OK", "application/json; charset=UTF-8", generate)
        self.stream_head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"
        )
        self.stream_body = b"".join(_chunk(e) for e in stream_events) + b"0\r\n\r\n"
        self.health = _response("200 OK", "application/json", b'{"status":"ok"}')
        self.not_found = _response("404 Not Found", "application/json", b'{"error":{}}')
        self.latency = latency_ms / 1000


class _Server(asyncio.Protocol):
    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_message_complete(self) -> None:
        url, self.url = self.url, b""
        answers = self.answers
        if b":streamGenerateContent" in url:
            reply = answers.stream_head + answers.stream_body
        elif b":generateContent" in url:
            reply = answers.generate
        elif url.startswith(b"/health"):
            reply = answers.health
        else:
            reply = answers.not_found
        if answers.latency and url.startswith(b"/v1beta"):
            asyncio.get_running_loop().call_later(answers.latency, self._write, reply)
        else:
            self._write(reply)

    def _write(self, reply: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(reply)


def load_answers(path: Path, latency_ms: float) -> Answers:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Answers(
        data["generate"].encode(), [e.encode() for e in data["stream_events"]], latency_ms
    )


async def serve(host: str, port: int, answers: Answers) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Server(answers), host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answers", type=Path, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port, load_answers(args.answers, args.latency_ms)))


if __name__ == "__main__":
    main()
