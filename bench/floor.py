"""FLOOR: the least a Python gateway can do, a pass-through forwarder with no translation.

aiohttp on both sides (server and pooled client), uvloop, no access log: the fastest Python stack
measured on these machines. It forwards method, path, query, body and the API key header as they
are, and streams answers chunk by chunk as they arrive. What it adds over DIRECT is the price of
one more HTTP hop in Python; what PROXY adds over it is the price of being a real gateway.

    python -m bench.floor --port 9001 --upstream http://127.0.0.1:9000
"""

import argparse
import asyncio

import aiohttp
import uvloop
from aiohttp import web

_FORWARDED = ("content-type", "x-goog-api-key", "authorization")


def make_app(upstream: str) -> web.Application:
    base = upstream.rstrip("/")
    session: aiohttp.ClientSession | None = None

    async def start(_: web.Application) -> None:
        nonlocal session
        # Idle connections are dropped before the upstream's own keep-alive timeout (uvicorn:
        # 5 s) can close one under a request being sent.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=4)
        session = aiohttp.ClientSession(connector=connector, auto_decompress=False)

    async def stop(_: web.Application) -> None:
        if session is not None:
            await session.close()

    async def health(_: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    async def forward(request: web.Request) -> web.StreamResponse:
        assert session is not None
        body = await request.read()
        headers = {k: v for k in _FORWARDED if (v := request.headers.get(k)) is not None}
        async with session.request(
            request.method, base + request.path_qs, data=body, headers=headers
        ) as upstream_response:
            content_type = upstream_response.headers.get("content-type", "application/json")
            if not content_type.startswith("text/event-stream"):
                return web.Response(
                    body=await upstream_response.read(),
                    status=upstream_response.status,
                    headers={"content-type": content_type},
                )
            response = web.StreamResponse(
                status=upstream_response.status, headers={"content-type": content_type}
            )
            await response.prepare(request)
            async for chunk in upstream_response.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app = web.Application()
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_get("/health", health)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(
        make_app(args.upstream),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
        handle_signals=True,
    )


if __name__ == "__main__":
    main()
