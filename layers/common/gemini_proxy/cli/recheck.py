"""`gemini-proxy recheck`: probe the credentials benched as INVALID now, as the scheduled AWS job
does, over the configured state store (or `--table`), and print what it found.

It is the recheck Lambda's own code (`run_recheck`), run here: a probe is claimed in the store
first, so running this beside a live proxy or the deployed job never probes a credential twice.
Only credentials whose recheck time has come are probed; the rest are listed as not due.
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from gemini_proxy.aws.recheck_handler import run_recheck
from gemini_proxy.cli.status import (
    SourceError,
    add_pool_arguments,
    aws_region,
    load_source,
    quiet_logs,
    store_description,
)
from gemini_proxy.runtime import Runtime

DEFAULT_SECONDS = 60.0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "recheck", help="probe invalid credentials whose recheck is due and restore healthy ones"
    )
    add_pool_arguments(parser)
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help="stop starting new probes after this long (default 60)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def render(report: dict[str, Any], store: str) -> str:
    lines = [f"state store: {store}"]
    restored = report.get("restored") or []
    still = report.get("still_invalid") or {}
    lines.append(f"restored: {', '.join(restored) if restored else 'none'}")
    if still:
        lines.append("still invalid:")
        lines += [f"  {fingerprint}  {reason}" for fingerprint, reason in still.items()]
    for name, label in (
        ("not_due", "not due yet"),
        ("claimed_elsewhere", "being probed by another run"),
        ("out_of_time", "left for the next run (out of time)"),
    ):
        values = report.get(name) or []
        if values:
            lines.append(f"{label}: {', '.join(values)}")
    if (
        not restored
        and not still
        and not any(report.get(n) for n in ("not_due", "claimed_elsewhere", "out_of_time"))
    ):
        lines.append("no credential is benched as invalid: nothing to probe")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with quiet_logs(), aws_region(args.region):
        try:
            source = load_source(args)
        except SourceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        state = source.config.state
        store = store_description(source.config)
        if state.backend == "memory" or (
            state.backend == "sqlite" and not Path(state.sqlite_path).is_file()
        ):
            # Nothing was ever benched in a store that does not exist (or lives only in a
            # running proxy's memory): there is nothing to probe, and no file to create.
            report: dict[str, Any] = {"restored": [], "still_invalid": {}, "not_due": []}
        else:
            runtime = Runtime(source.config, source.credentials, client_keys=[])
            try:
                report = asyncio.run(run_recheck(runtime, max(1.0, args.seconds)))
            except Exception as exc:  # the store's own errors: no AWS credentials, no table...
                print(f"error: recheck failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 1
    print(json.dumps(report, indent=2) if args.json else render(report, store))
    return 0
