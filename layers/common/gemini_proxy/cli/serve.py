"""`gemini-proxy serve`: the proxy under uvicorn, optionally beside the fake upstream."""

import argparse
import asyncio
import contextlib
import ipaddress
import os
import socket
import sys
from pathlib import Path

import uvicorn

from gemini_proxy.app.factory import create_app
from gemini_proxy.cli.accounts import gemini_cli_hint
from gemini_proxy.config import Config, ConfigError, load_config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.credentials.sources import load_credentials
from gemini_proxy.runtime import client_keys_from_env

DEMO_KEYS = ["demo-key-one", "demo-key-two"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def serve(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        say(f"error: {exc}")
        return 2
    client_keys = client_keys_from_env(os.environ)
    if not client_keys:
        if not is_loopback(args.host):
            say(
                f"error: refusing to listen on {args.host} without client keys: anyone who can "
                "reach it could spend your Gemini quota. Set GEMINI_PROXY_API_KEYS=key1,key2 "
                "or use --host 127.0.0.1."
            )
            return 2
        say(
            "warning: GEMINI_PROXY_API_KEYS is not set, so no client key is required; "
            "listening on loopback only."
        )

    fake_port = None
    if args.demo:
        fake_port = free_port(args.host)
        base = f"http://{args.host}:{fake_port}"
        config = config.model_copy(
            update={
                "state": config.state.model_copy(update={"backend": "memory"}),
                "upstream": config.upstream.model_copy(
                    update={
                        "ai_studio_base_url": base,
                        "code_assist_base_url": base,
                        "oauth_token_url": f"{base}/token",
                    }
                ),
            }
        )
        credentials = [Credential("ai_studio", key, source="demo") for key in DEMO_KEYS]
    else:
        credentials = load_credentials(config, Path(args.creds_dir), os.environ)
    _announce(args, config, credentials, fake_port)
    app = create_app(config, credentials, client_keys)
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(server, args.host, fake_port))
    return 0


async def _run(server: uvicorn.Server, host: str, fake_port: int | None) -> None:
    if fake_port is None:
        await server.serve()
        return
    from gemini_proxy.fake_gemini import FakeSettings
    from gemini_proxy.fake_gemini.server import serve as serve_fake

    fake = asyncio.create_task(serve_fake(host, fake_port, FakeSettings(chunk_delay_ms=80)))
    try:
        await server.serve()
    finally:
        fake.cancel()


def _announce(
    args: argparse.Namespace, config: Config, credentials: list[Credential], fake_port: int | None
) -> None:
    say(f"Gemini CLI Proxy on http://{args.host}:{args.port}/v1")
    if fake_port is not None:
        say(f"demo mode: answers come from the fake Gemini on port {fake_port}, not Google")
    if credentials:
        listed = ", ".join(str(c) for c in credentials)
        say(f"{len(credentials)} credential(s): {listed}")
    else:
        folder = Path(args.creds_dir).resolve()
        say(
            f"No credentials found. Put AI Studio API keys (https://aistudio.google.com/apikey), "
            f"one a line, in '{folder / 'ai_studio_keys.txt'}' (or Gemini CLI accounts with a "
            f"Code Assist Standard or Enterprise licence, oauth_creds.json files, in '{folder}') "
            "and restart; or try `gemini-proxy serve --demo`."
        )
    if fake_port is None:
        hint = gemini_cli_hint(credentials)
        if hint:
            say(hint)
