"""Doctor's checks about the credentials themselves: what Google's 2026 changes mean for Gemini CLI
OAuth accounts, and each credential the shared state has benched as INVALID, with its reason.

The state is read as `gemini-proxy status` reads it (never written); without a state file yet
there is nothing to report.
"""

import asyncio
from typing import Any

from gemini_proxy.cli.check import Check
from gemini_proxy.cli.status import collect
from gemini_proxy.config import Config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.upstream.classify import UNSUPPORTED_CLIENT

OAUTH_NOTICE = (
    "{count} Gemini CLI OAuth account(s). Since 2026-06-18 Google serves Gemini CLI accounts "
    "through Code Assist only with a Gemini Code Assist Standard or Enterprise licence (free "
    "Code Assist for individuals, Google AI Pro and Ultra accounts are refused), and Gemini "
    "CLI's terms say that using its OAuth login from third-party software such as this proxy "
    "violates them and may get the account suspended"
)
OAUTH_FIX = (
    "prefer AI Studio API keys (https://aistudio.google.com/apikey); keep an account only if it "
    "has such a licence, and at your own risk (docs/OAUTH_CREDENTIALS_GUIDE.md)"
)


def check_oauth_accounts(credentials: list[Credential]) -> list[Check]:
    count = sum(c.kind == "oauth" for c in credentials)
    if not count:
        return []
    return [Check("oauth accounts", "warn", OAUTH_NOTICE.format(count=count), OAUTH_FIX)]


def check_credential_states(config: Config, credentials: list[Credential]) -> list[Check]:
    try:
        report = asyncio.run(collect(config, credentials))
    except Exception:  # the store check above already says what is wrong with the store
        return []
    if report["note"]:
        return []  # no state yet (or only inside a running proxy)
    rows = report["credentials"]
    invalid = [row for row in rows if row["state"].get("status") == "invalid"]
    if not invalid:
        return [Check("credential states", "ok", f"{len(rows)} credential(s), none invalid")]
    return [_invalid(row) for row in invalid]


def _invalid(row: dict[str, Any]) -> Check:
    state = row["state"]
    reason = str(state.get("reason") or "unknown")
    where = f" ({row['source']})" if row.get("source") else ""
    message = f"{row['kind']} {row['fingerprint']}{where} is invalid: {reason}"
    if state.get("message"):
        message += f" — {state['message']}"
    if reason.endswith(UNSUPPORTED_CLIENT):
        fix = (
            "use an AI Studio API key (https://aistudio.google.com/apikey) or an account with a "
            "Gemini Code Assist Standard or Enterprise licence, and remove this account"
        )
    elif row["kind"] == "oauth":
        fix = "docs/OAUTH_CREDENTIALS_GUIDE.md section 6 says what each reason needs"
    else:
        fix = "replace the key; `gemini-proxy recheck` probes it again once its recheck is due"
    return Check("credential state", "warn", message, fix)
