"""Gemini CLI OAuth accounts: `oauth_creds.json` documents, from files or environment values.

The shape is what Gemini CLI writes to `~/.gemini/oauth_creds.json`: `refresh_token` (required),
`access_token`, `expiry_date` (epoch milliseconds), plus the optional `project_id` some forks add.
Every `*.json` in the credentials folder is one account, except `keys.json` (AI Studio keys).
A bad file is reported by its name only: its text holds tokens, so no parser message that could
quote it reaches the log.
"""

import json
from pathlib import Path
from typing import Any

from gemini_proxy.credentials.files import JSON_KEY_FILE
from gemini_proxy.credentials.models import Credential, OAuthSeed
from gemini_proxy.logs import logger


class NotOAuthCreds(ValueError):
    """The document is not an oauth_creds.json; the message says why without quoting it."""


def parse_oauth_creds(text: str, source: str) -> Credential:
    """One account from the text of an oauth_creds.json (primary pool, as OAuth accounts are)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise NotOAuthCreds("is not valid JSON") from None
    return oauth_credential(data, source)


def oauth_credential(data: object, source: str) -> Credential:
    """One account from an already parsed oauth_creds.json object."""
    if not isinstance(data, dict):
        raise NotOAuthCreds("should hold a JSON object like Gemini CLI's oauth_creds.json")
    refresh_token = data.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token.strip():
        raise NotOAuthCreds("has no refresh_token (log in with Gemini CLI to get one)")
    seed = OAuthSeed(
        access_token=_text(data, "access_token"),
        expiry_ms=_expiry_ms(data.get("expiry_date")),
        project_id=_text(data, "project_id"),
    )
    return Credential("oauth", refresh_token.strip(), source=source, pool="primary", seed=seed)


def credential_from_json(data: object, source: str) -> Credential | None:
    """`oauth_credential`, or None with a warning naming `source` (for secrets holding a list)."""
    try:
        return oauth_credential(data, source)
    except NotOAuthCreds as exc:
        logger.warning(f"{source} {exc}; it was not loaded as an OAuth account")
        return None


def load_oauth_accounts(folder: Path) -> list[Credential]:
    """Every `*.json` of the folder but `keys.json`, in name order; bad files are skipped."""
    if not folder.is_dir():
        return []
    accounts: list[Credential] = []
    for path in sorted(folder.glob("*.json")):
        if path.name == JSON_KEY_FILE or not path.is_file():
            continue
        try:
            accounts.append(parse_oauth_creds(path.read_text(encoding="utf-8-sig"), path.name))
        except (NotOAuthCreds, UnicodeDecodeError, OSError) as exc:
            reason = exc if isinstance(exc, NotOAuthCreds) else "could not be read"
            logger.warning(f"{path.name} {reason}; it was not loaded as an OAuth account")
    return accounts


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _expiry_ms(value: object) -> int | None:
    # Gemini CLI writes a number; hand-edited files sometimes quote it.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
