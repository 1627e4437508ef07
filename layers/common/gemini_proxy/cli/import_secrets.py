"""`gemini-proxy import-secrets`: put the credentials folder into the deployment's secret.

Shows what it will write by fingerprint first (and what changes against the current secret),
then creates or updates the secret. Values never reach the terminal.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from gemini_proxy.config import ConfigError, load_config
from gemini_proxy.credentials.files import JSON_KEY_FILE, load_ai_studio_keys
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.runtime import client_keys_from_env


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "import-secrets", help="create or update the AWS secret from the credentials folder"
    )
    parser.add_argument("--secret-name", default="gemini-proxy/credentials")
    parser.add_argument("--creds-dir", default="oauth creds")
    parser.add_argument("--config", default=None)
    parser.add_argument("--region", default=None, help="AWS region (default: your AWS config)")
    parser.add_argument("--yes", action="store_true", help="write without asking")
    parser.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")


def build_secret(creds_dir: Path, config_path: str | None, environ: Any) -> dict[str, Any]:
    config = load_config(config_path)
    oauth_accounts = []
    for path in sorted(creds_dir.glob("*.json")):
        if path.name == JSON_KEY_FILE:
            continue
        try:
            account = json.loads(path.read_text(encoding="utf-8-sig"))
        except ValueError:
            print(f"skipping {path.name}: not valid JSON", file=sys.stderr)
            continue
        if isinstance(account, dict) and account.get("refresh_token"):
            oauth_accounts.append(account)
        else:
            print(f"skipping {path.name}: no refresh_token", file=sys.stderr)
    return {
        "ai_studio_keys": [c.secret for c in load_ai_studio_keys(creds_dir)]
        + list(config.fallback_keys),
        "primary_keys": list(config.primary_keys),
        "oauth_accounts": oauth_accounts,
        "client_api_keys": client_keys_from_env(environ),
    }


def fingerprints(secret: dict[str, Any]) -> dict[str, set[str]]:
    return {
        "ai_studio_keys": {fingerprint(k) for k in secret.get("ai_studio_keys", [])},
        "primary_keys": {fingerprint(k) for k in secret.get("primary_keys", [])},
        "oauth_accounts": {
            fingerprint(a["refresh_token"])
            for a in secret.get("oauth_accounts", [])
            if isinstance(a, dict) and a.get("refresh_token")
        },
        "client_api_keys": {fingerprint(k) for k in secret.get("client_api_keys", [])},
    }


def describe(new: dict[str, Any], old: dict[str, Any] | None) -> list[str]:
    lines = []
    before = fingerprints(old or {})
    for field, now in fingerprints(new).items():
        added, removed = now - before[field], before[field] - now
        kept = now & before[field]
        line = f"  {field}: {len(now)}"
        if added:
            line += f"  + {', '.join(sorted(added))}"
        if removed:
            line += f"  - {', '.join(sorted(removed))}"
        if kept and old is not None:
            line += f"  (unchanged: {len(kept)})"
        lines.append(line)
    return lines


def run(args: argparse.Namespace, client: Any = None) -> int:
    try:
        secret = build_secret(Path(args.creds_dir), args.config, os.environ)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not (secret["ai_studio_keys"] or secret["primary_keys"] or secret["oauth_accounts"]):
        print(f"error: no credentials found in '{args.creds_dir}'", file=sys.stderr)
        return 2
    if client is None:
        import boto3  # type: ignore[import-untyped]

        client = boto3.client("secretsmanager", region_name=args.region)
    current = _current(client, args.secret_name)
    action = "update" if current is not None else "create"
    print(f"secret {args.secret_name} ({action}), by fingerprint:")
    print("\n".join(describe(secret, current)))
    if not secret["client_api_keys"]:
        print("warning: GEMINI_PROXY_API_KEYS is empty: the deployed proxy will refuse to start")
    if args.dry_run:
        return 0
    if not args.yes and input("write it? [y/N] ").strip().lower() not in ("y", "yes"):
        print("nothing written")
        return 1
    body = json.dumps(secret)
    if current is None:
        client.create_secret(Name=args.secret_name, SecretString=body)
    else:
        client.put_secret_value(SecretId=args.secret_name, SecretString=body)
    print("written")
    return 0


def _current(client: Any, name: str) -> dict[str, Any] | None:
    try:
        value = client.get_secret_value(SecretId=name)
    except client.exceptions.ResourceNotFoundException:
        return None
    data = json.loads(value.get("SecretString") or "{}")
    return data if isinstance(data, dict) else {}
