"""`gemini-proxy status`: the pool's state by fingerprint, read from the state store.

The store is the one the config names (local SQLite by default), or a deployed DynamoDB table
with `--table NAME --region R` (`DYNAMODB_ENDPOINT_URL` is honoured, for DynamoDB Local). The
credentials are the local ones (credentials folder, config, env), or the deployment's secret with
`--secret-name`. The table is `CredentialPool.report()`, the same view as GET /admin/credentials,
without this process's request counters (a CLI run serves no request). Entries in the store for
credentials not loaded here are listed by fingerprint so nothing in the store goes unseen.

Under each credential: today's usage summed over every instance's records in the store, and
what is left of its quota, as the dashboard shows them: Google's figures for a Code Assist
account (retrieveUserQuota, one call per account; `--no-quota` skips them), configured daily
limits for an AI Studio key.
"""

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini_proxy.config import Config, ConfigError, load_config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.credentials.sources import load_credentials
from gemini_proxy.dashboard.view import state_json
from gemini_proxy.logs import logger
from gemini_proxy.pool.health import ANY_MODEL, NAMESPACE, Status
from gemini_proxy.pool.pool import CredentialPool, Ordering
from gemini_proxy.runtime import DEFAULT_CREDS_DIR, oauth_credentials
from gemini_proxy.state.base import StateStore
from gemini_proxy.state.factory import create_store
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.usage.quota import QuotaReader, QuotaView
from gemini_proxy.usage.read import read_day


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "status", help="show each credential's state (available, rate-limited, invalid)"
    )
    add_pool_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--no-quota", action="store_true", help="do not ask Google for the accounts' quota"
    )


def add_pool_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the pool's credentials and state come from (shared by status and recheck)."""
    parser.add_argument("--config", default=None, help="YAML file (default: ./config.yaml if any)")
    parser.add_argument("--creds-dir", default=DEFAULT_CREDS_DIR, help="credentials folder")
    parser.add_argument("--table", default=None, help="a deployed DynamoDB state table")
    parser.add_argument("--region", default=None, help="AWS region of --table / --secret-name")
    parser.add_argument(
        "--secret-name", default=None, help="read credentials from this deployment secret"
    )


@dataclass
class PoolSource:
    config: Config
    credentials: list[Credential]


class SourceError(Exception):
    """The pool cannot be loaded; the message says what to fix."""


def load_source(args: argparse.Namespace) -> PoolSource:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise SourceError(str(exc)) from None
    if args.table:
        state = config.state.model_copy(
            update={"backend": "dynamodb", "dynamodb_table": args.table}
        )
        config = config.model_copy(update={"state": state})
    if args.secret_name:
        credentials = _secret_credentials(args.secret_name, args.region)
    else:
        credentials = load_credentials(config, Path(args.creds_dir), os.environ)
    return PoolSource(config, credentials)


def _secret_credentials(name: str, region: str | None) -> list[Credential]:
    try:
        import boto3  # type: ignore[import-untyped]

        from gemini_proxy.aws.secrets import parse_secret, read_secret
    except ModuleNotFoundError:
        raise SourceError(
            "--secret-name needs boto3: pip install 'gemini-cli-proxy[aws]'"
        ) from None
    try:
        client = boto3.client("secretsmanager", region_name=region)
        contents = parse_secret(read_secret(name, client=client))
    except Exception as exc:  # no AWS credentials, no such secret, access denied...
        raise SourceError(
            f"could not read the secret {name}: {type(exc).__name__}: {exc}"
        ) from None
    return contents.credentials + oauth_credentials(contents.oauth_accounts)


@contextlib.contextmanager
def aws_region(region: str | None) -> Iterator[None]:
    """`--region` for the store factory, which reads the region from the environment."""
    if not region:
        yield
        return
    before = os.environ.get("AWS_REGION")
    os.environ["AWS_REGION"] = region
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("AWS_REGION", None)
        else:
            os.environ["AWS_REGION"] = before


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Errors only. The package logs JSON lines to stdout, which would break `--json` and
    bury the table; the commands report what matters (skipped files, failures) themselves."""
    level = logger.log_level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def store_description(config: Config) -> str:
    state = config.state
    if state.backend == "sqlite":
        return f"sqlite {state.sqlite_path}"
    if state.backend == "dynamodb":
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "default"
        return f"dynamodb {state.dynamodb_table} ({region})"
    return "memory"


def open_store(config: Config) -> tuple[StateStore, str | None]:
    """The configured store, and a note when it cannot hold anything yet.

    A SQLite file that does not exist yet means no credential has ever changed state; opening
    it would create it, and a status command should not leave files behind.
    """
    state = config.state
    if state.backend == "sqlite" and not Path(state.sqlite_path).is_file():
        return MemoryStore(), f"no state file at {state.sqlite_path} yet: nothing benched so far"
    if state.backend == "memory":
        return MemoryStore(), (
            "state.backend is memory: state lives inside the running proxy only "
            "(see GET /admin/credentials)"
        )
    return create_store(state), None


def build_pool(config: Config, credentials: list[Credential], store: StateStore) -> CredentialPool:
    from gemini_proxy.app.services import rules_for_kind

    return CredentialPool(
        credentials,
        store,
        rules_for_kind(config, "ai_studio"),
        Ordering(config.ai_studio.fallback_mode, config.ai_studio.prefer_ai_studio_for_pro),
        cache_seconds=0,
        rules_for=lambda credential: rules_for_kind(config, credential.kind),
    )


async def collect(
    config: Config, credentials: list[Credential], quota: bool = False
) -> dict[str, Any]:
    """The pool's state and today's usage from the store; with `quota`, the accounts' quota
    from Google too (never INVALID ones: Google would refuse them)."""
    store, note = open_store(config)
    try:
        pool = build_pool(config, credentials, store)
        rows = await pool.report()
        records = await store.query(NAMESPACE)
        usage = await read_day(store)
        asked = [
            c
            for c in credentials
            if quota and c.kind == "oauth" and pool.entry(c, ANY_MODEL).status is not Status.INVALID
        ]
        quotas = await _quotas(config, store, asked) if asked else {}
    finally:
        await store.close()
    loaded = {c.fingerprint for c in credentials}
    others = sorted({r.key.partition("#")[0] for r in records} - loaded)
    view = state_json(config, rows, usage, quotas, credentials, None, None)
    for row, shown in zip(rows, view["credentials"], strict=True):
        # Per-process counters mean nothing for a one-off CLI run; the store's usage does.
        for name in ("requests", "failures", "last_error"):
            row.pop(name, None)
        row["usage"] = shown["usage"]
        row["last_failure"] = shown["last_failure"]
        row["quota"] = shown["quota"] if quota or row["kind"] != "oauth" else None
    return {
        "store": store_description(config),
        "note": note,
        "credentials": rows,
        "not_loaded_here": others,
        "usage": {
            "day": usage.day,
            "instances": usage.instances,
            "totals": view["totals"],
            "models": view["models"],
            "note": view["notes"]["ai_studio_limits"],
        },
    }


async def _quotas(
    config: Config, store: StateStore, accounts: list[Credential]
) -> dict[str, QuotaView]:
    from gemini_proxy.app.services import code_assist_client
    from gemini_proxy.upstream.http import HttpClient

    http = HttpClient(config.upstream.connect_timeout_seconds, 30.0)
    try:
        client = code_assist_client(config, http, store)
        return await QuotaReader(client.retrieve_user_quota, ttl=0).quotas(accounts)
    finally:
        await http.close()


def skipped_files(folder: Path) -> list[str]:
    """OAuth files the loader skipped, with why (its warnings are silenced here)."""
    from gemini_proxy.cli.messages_en import MESSAGES
    from gemini_proxy.cli.setup_checks import oauth_file_problems

    return [f"{p.name}: {MESSAGES[f'problem.{p.reason}']}" for p in oauth_file_problems(folder)]


def describe_state(state: dict[str, Any]) -> str:
    status = str(state.get("status", "available"))
    if status == "rate_limited":
        text = f"rate_limited ({state.get('cooldown_remaining_seconds', 0):g} s left)"
    elif status == "invalid":
        text = f"invalid (recheck in {state.get('recheck_in_seconds', 0):g} s)"
    else:
        text = status
    if state.get("reason"):
        text += f": {state['reason']}"
    if state.get("message"):
        text += f" — {state['message']}"
    if state.get("consecutive_failures"):
        text += f" [{state['consecutive_failures']} unexplained failures]"
    return text


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} m"
    return f"{minutes // 60} h {minutes % 60:02d} m"


def describe_usage(usage: dict[str, Any]) -> str:
    return (
        f"today: {usage['requests']:,} requests, {usage['errors']:,} failed attempts, "
        f"{usage['input_tokens']:,} tokens in, {usage['output_tokens']:,} out"
    )


def describe_quota(quota: dict[str, Any] | None) -> str | None:
    if quota is None:
        return None
    if quota["source"] == "configured":
        parts = [
            f"{m['model']} {m['remaining']:,} of {m['limit']:,} left"
            for m in quota["models"]
            if m["limit"] is not None
        ]
        return "quota (configured limits): " + ("; ".join(parts) or "none configured")
    if quota.get("error"):
        return f"quota: {quota['error']}"
    parts = []
    for bucket in quota["buckets"]:
        text = str(bucket["model"] or bucket["token_type"] or "quota")
        if bucket["remaining_fraction"] is not None:
            text += f" {bucket['remaining_fraction']:.0%} left"
        if bucket["remaining"] is not None and bucket["limit"] is not None:
            text += f" ({bucket['remaining']:,} of {bucket['limit']:,})"
        if bucket["reset_in_seconds"] is not None:
            text += f", resets in {_duration(bucket['reset_in_seconds'])}"
        parts.append(text)
    return "quota (Google): " + ("; ".join(parts) or "no buckets")


def render_table(report: dict[str, Any]) -> str:
    rows = report["credentials"]
    lines = [f"state store: {report['store']}"]
    if report.get("note"):
        lines.append(f"note: {report['note']}")
    if not rows:
        lines.append("no credentials loaded (see `gemini-proxy doctor`)")
    else:
        cells = [("FINGERPRINT", "KIND", "POOL", "SOURCE")] + [
            (r["fingerprint"], r["kind"], r["pool"], r["source"]) for r in rows
        ]
        widths = [max(len(str(c[i])) for c in cells) for i in range(4)]

        def line(first: tuple[str, ...], state: str) -> str:
            padded = [str(cell).ljust(width) for cell, width in zip(first, widths, strict=True)]
            return "  ".join([*padded, state]).rstrip()

        lines.append(line(cells[0], "STATE"))
        indent = " " * (widths[0] + 4)
        for row, first in zip(rows, cells[1:], strict=True):
            lines.append(line(first, describe_state(row["state"])))
            for model, state in sorted(row["models"].items()):
                lines.append(f"{indent}{model}: {describe_state(state)}")
            if "usage" in row:
                lines.append(f"{indent}{describe_usage(row['usage'])}")
            quota = describe_quota(row.get("quota"))
            if quota:
                lines.append(f"{indent}{quota}")
    usage = report.get("usage")
    if usage:
        totals = usage["totals"]
        lines.append(
            f"usage on {usage['day']} (US Pacific day), {usage['instances']} instance(s): "
            f"{totals['requests']:,} requests, {totals['errors']:,} failed attempts"
        )
        lines.append(f"note: {usage['note']}")
    for skipped in report.get("skipped_files", []):
        lines.append(f"skipped {skipped}")
    if report["not_loaded_here"]:
        lines.append("in the store but not loaded here: " + ", ".join(report["not_loaded_here"]))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with quiet_logs(), aws_region(args.region):
        try:
            source = load_source(args)
            report = asyncio.run(
                collect(source.config, source.credentials, not getattr(args, "no_quota", False))
            )
            if not args.secret_name:
                report["skipped_files"] = skipped_files(Path(args.creds_dir))
        except SourceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except Exception as exc:  # the store's own errors: no AWS credentials, no table...
            print(
                f"error: could not read the state store: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render_table(report))
    return 0
