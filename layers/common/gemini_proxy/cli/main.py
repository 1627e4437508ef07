"""`gemini-proxy`: the command line."""

import argparse
import sys
from typing import Any

from gemini_proxy import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gemini-proxy", description="OpenAI-compatible gateway in front of Google Gemini."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the proxy on this machine")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787)
    serve.add_argument("--config", default=None, help="YAML file (default: ./config.yaml if any)")
    serve.add_argument("--creds-dir", default="oauth creds", help="folder with credentials")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="also start the fake Gemini upstream and use it, to try the proxy without keys",
    )

    imports = commands.add_parser(
        "import-gemini-cli",
        help="copy Gemini CLI's login (~/.gemini/oauth_creds.json) into the credentials folder",
    )
    imports.add_argument(
        "--from",
        dest="source",
        default="~/.gemini/oauth_creds.json",
        help="the oauth_creds.json to import (default: Gemini CLI's)",
    )
    imports.add_argument("--creds-dir", default="oauth creds", help="folder with credentials")

    for module in _modular_commands().values():
        module.add_parser(commands)

    fake = commands.add_parser("fake-gemini", help="run the fake Gemini upstream (for tests)")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=8788)
    fake.add_argument("--latency-ms", type=float, default=0.0)
    fake.add_argument("--chunk-delay-ms", type=float, default=0.0)
    return parser


def _modular_commands() -> dict[str, Any]:
    """Commands that live in a module of their own, with `add_parser` and `run`."""
    from gemini_proxy.cli import doctor, import_secrets, recheck, setup, status

    return {
        "setup": setup,
        "status": status,
        "recheck": recheck,
        "doctor": doctor,
        "import-secrets": import_secrets,
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    modular = _modular_commands()
    if args.command in modular:
        result: int = modular[args.command].run(args)
        return result
    if args.command == "serve":
        from gemini_proxy.cli.serve import serve

        return serve(args)
    if args.command == "import-gemini-cli":
        from gemini_proxy.cli.accounts import import_gemini_cli

        return import_gemini_cli(args)
    if args.command == "fake-gemini":
        from gemini_proxy.cli.fake import run_fake

        return run_fake(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
