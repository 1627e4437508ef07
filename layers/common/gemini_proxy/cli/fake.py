"""`gemini-proxy fake-gemini`: the fake upstream on its own, for tests, benchmarks and demos."""

import argparse
import asyncio
import contextlib
import sys

from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.server import serve


def run_fake(args: argparse.Namespace) -> int:
    settings = FakeSettings(latency_ms=args.latency_ms, chunk_delay_ms=args.chunk_delay_ms)
    print(f"fake Gemini on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, settings))
    return 0
