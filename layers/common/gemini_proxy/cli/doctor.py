"""`gemini-proxy doctor`: check what the proxy needs, and say how to fix what is wrong.

Besides config, files, upstream, AWS and the state store, it says what Google's 2026 changes
mean for Gemini CLI OAuth accounts and lists each credential the state has benched as INVALID,
with its reason (`doctor_pool`).

Each check prints ok, warn or FAIL with the fix; the exit code is 1 when any check fails. It
reads, it never writes: a missing SQLite state file is reported as "will be created", not
created, and the AWS identity is only asked of STS with `--aws`.
"""

import argparse
import asyncio
import os
import stat
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gemini_proxy.cli.check import Check, Level
from gemini_proxy.cli.doctor_pool import check_credential_states, check_oauth_accounts
from gemini_proxy.cli.messages_en import MESSAGES as ENGLISH
from gemini_proxy.cli.setup_checks import oauth_file_problems
from gemini_proxy.cli.status import quiet_logs
from gemini_proxy.config import Config, ConfigError, load_config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.credentials.sources import load_credentials
from gemini_proxy.pool.health import NAMESPACE
from gemini_proxy.runtime import DEFAULT_CREDS_DIR, client_keys_from_env
from gemini_proxy.state.factory import create_store
from gemini_proxy.upstream.classify import UpstreamError
from gemini_proxy.upstream.http import HttpClient

LABELS: dict[Level, str] = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]"}
# Client keys shorter than this are guessable; `secrets.token_urlsafe(32)` gives 43 characters.
MIN_CLIENT_KEY_LENGTH = 20


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "doctor", help="check config, credentials, upstream, AWS and state store; say what to fix"
    )
    parser.add_argument("--config", default=None, help="YAML file (default: ./config.yaml if any)")
    parser.add_argument("--creds-dir", default=DEFAULT_CREDS_DIR, help="credentials folder")
    parser.add_argument(
        "--aws", action="store_true", help="also ask AWS STS who the credentials belong to"
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="seconds allowed for each network check"
    )


# --- checks ------------------------------------------------------------------------------


def check_config(path: str | None) -> tuple[Check, Config]:
    source = path or ("CONFIG_YAML" if os.environ.get("CONFIG_YAML") else "config.yaml")
    try:
        config = load_config(path)
    except ConfigError as exc:
        fix = "correct it (README.md lists every key), or run `gemini-proxy setup`"
        return Check("config", "fail", f"{exc}; the checks below use the defaults", fix), Config()
    if path is None and source == "config.yaml" and not Path(source).is_file():
        return Check("config", "ok", "no config.yaml: the defaults apply"), config
    return Check("config", "ok", f"{source} is valid"), config


def check_folder(folder: Path, credentials: list[Credential]) -> list[Check]:
    if not folder.is_dir():
        level: Level = "warn" if credentials else "fail"
        fix = (
            f"mkdir '{folder}' and put AI Studio keys in '{folder}/ai_studio_keys.txt' (one a "
            "line) or Gemini CLI accounts (oauth_creds.json files) in it; or run "
            "`gemini-proxy setup`"
        )
        return [Check("credentials folder", level, f"'{folder}' does not exist", fix)]
    checks = []
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for path in files:
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            fix = f"chmod u+r '{path}' (or run the proxy as the file's owner)"
            checks.append(Check("credentials file", "fail", f"{path}: {exc.strerror}", fix))
            continue
        if os.name == "posix" and path.stat().st_mode & stat.S_IROTH:
            fix = f"chmod 600 '{path}'"
            message = f"{path} is readable by every user of this machine (it holds secrets)"
            checks.append(Check("permissions", "warn", message, fix))
    for problem in oauth_file_problems(folder):
        reason = ENGLISH[f"problem.{problem.reason}"]
        fix = "replace it with a Gemini CLI oauth_creds.json, or move it out of the folder"
        checks.append(Check("credentials file", "warn", f"{problem.name}: {reason}", fix))
    checks.insert(0, Check("credentials folder", "ok", f"'{folder}': {len(files)} file(s)"))
    return checks


def check_credentials(credentials: list[Credential]) -> Check:
    if not credentials:
        fix = "add credentials (see the credentials folder check) or run `gemini-proxy setup`"
        return Check("credentials", "fail", "no credentials found: the proxy would answer 503", fix)
    kinds = Counter(c.kind for c in credentials)
    text = f"{kinds['ai_studio']} AI Studio key(s), {kinds['oauth']} OAuth account(s)"
    return Check("credentials", "ok", text)


def check_client_keys(environ: Mapping[str, str]) -> Check:
    keys = client_keys_from_env(environ)
    if not keys:
        fix = (
            "set GEMINI_PROXY_API_KEYS=key1,key2 (`gemini-proxy setup` generates strong ones "
            "into .env) to serve other machines"
        )
        message = "GEMINI_PROXY_API_KEYS is not set: `serve` listens on loopback only"
        return Check("client keys", "warn", message, fix)
    short = sum(len(key) < MIN_CLIENT_KEY_LENGTH for key in keys)
    if short:
        fix = "use long random keys: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        message = f"{short} of {len(keys)} client key(s) shorter than {MIN_CLIENT_KEY_LENGTH}"
        return Check("client keys", "warn", message, fix)
    return Check("client keys", "ok", f"{len(keys)} client key(s) set")


async def check_upstream(
    config: Config, credentials: list[Credential], seconds: float
) -> list[Check]:
    """A GET to each base URL the credentials need: any HTTP answer means it is reachable."""
    upstream = config.upstream
    urls = [("AI Studio", upstream.ai_studio_base_url)]
    if any(c.kind == "oauth" for c in credentials):
        urls += [("Code Assist", upstream.code_assist_base_url)]
        urls += [("OAuth token endpoint", upstream.oauth_token_url)]
    http = HttpClient(seconds, seconds)

    async def reach(name: str, url: str) -> Check:
        try:
            async with asyncio.timeout(seconds * 2):
                await http.get(url, {})
        except UpstreamError as exc:
            if exc.failure.status == 0:
                fix = "check the network, a proxy or firewall, and upstream URLs in the config"
                return Check("upstream", "fail", f"{name} {url}: {exc.failure.message}", fix)
        except TimeoutError:
            fix = "check the network, a proxy or firewall, and upstream URLs in the config"
            return Check("upstream", "fail", f"{name} {url}: no answer in time", fix)
        return Check("upstream", "ok", f"{name} {url} is reachable")

    try:
        return list(await asyncio.gather(*(reach(name, url) for name, url in urls)))
    finally:
        await http.close()


def check_aws(config: Config, ask_sts: bool) -> list[Check]:
    # Needed only for DynamoDB state and deployment, so mostly a warning, not a failure.
    needed: Level = "fail" if config.state.backend == "dynamodb" else "warn"
    try:
        import boto3  # type: ignore[import-untyped]
    except ModuleNotFoundError:
        fix = "pip install 'gemini-cli-proxy[aws]' (needed for DynamoDB state and deployment)"
        return [Check("aws", needed, "boto3 is not installed", fix)]
    session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        fix = "run `aws configure` or set AWS_PROFILE (needed for DynamoDB state and deployment)"
        return [Check("aws", needed, "no AWS credentials found", fix)]
    region = session.region_name or "not set"
    checks = [Check("aws", "ok", f"credentials found ({credentials.method}), region {region}")]
    if ask_sts:
        try:
            identity = session.client("sts").get_caller_identity()
        except Exception as exc:  # botocore's many errors all mean the same here
            fix = "refresh or replace the AWS credentials (`aws sts get-caller-identity` to retry)"
            checks.append(Check("aws identity", "fail", f"{type(exc).__name__}: {exc}", fix))
        else:
            text = f"account {identity.get('Account')}, {identity.get('Arn')}"
            checks.append(Check("aws identity", "ok", text))
    return checks


def check_store(config: Config) -> Check:
    state = config.state
    if state.backend == "memory":
        return Check("state store", "ok", "memory: nothing survives a restart")
    if state.backend == "sqlite":
        path = Path(state.sqlite_path)
        if not path.exists():
            parent = next((p for p in path.absolute().parents if p.exists()), Path("/"))
            if os.access(parent, os.W_OK | os.X_OK):
                return Check("state store", "ok", f"{path} will be created on first use")
            fix = f"make {parent} writable, or set state.sqlite_path in the config"
            return Check("state store", "fail", f"cannot create {path}: {parent} is read-only", fix)
    try:
        asyncio.run(_open_store(config))
    except Exception as exc:  # sqlite3, botocore...: each says what went wrong
        fix = (
            "deploy the stack or check state.dynamodb_table, AWS credentials and region"
            if state.backend == "dynamodb"
            else f"check {state.sqlite_path} (permissions, or delete it if corrupt)"
        )
        return Check("state store", "fail", f"{state.backend}: {type(exc).__name__}: {exc}", fix)
    where = state.sqlite_path if state.backend == "sqlite" else state.dynamodb_table
    return Check("state store", "ok", f"{state.backend} {where} opens")


async def _open_store(config: Config) -> None:
    store = create_store(config.state)
    try:
        await store.query(NAMESPACE)
    finally:
        await store.close()


# --- running -----------------------------------------------------------------------------


def diagnose(args: argparse.Namespace) -> list[Check]:
    config_check, config = check_config(args.config)
    folder = Path(args.creds_dir)
    credentials = load_credentials(config, folder, os.environ)
    checks = [config_check, *check_folder(folder, credentials), check_credentials(credentials)]
    checks += check_oauth_accounts(credentials)
    checks.append(check_client_keys(os.environ))
    checks += asyncio.run(check_upstream(config, credentials, args.timeout))
    checks += check_aws(config, args.aws)
    store = check_store(config)
    checks.append(store)
    if store.level == "ok":
        checks += check_credential_states(config, credentials)
    return checks


def render(check: Check) -> str:
    line = f"{LABELS[check.level]} {check.name}: {check.message}"
    return line + (f"\n       fix: {check.fix}" if check.fix and check.level != "ok" else "")


def run(args: argparse.Namespace) -> int:
    with quiet_logs():
        checks = diagnose(args)
    for check in checks:
        print(render(check))
    levels = Counter(check.level for check in checks)
    print(f"\n{levels['ok']} ok, {levels['warn']} warning(s), {levels['fail']} failure(s)")
    sys.stdout.flush()
    return 1 if levels["fail"] else 0
