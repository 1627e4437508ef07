"""What the dashboard shows, as JSON: every credential by fingerprint (never a secret, never
where it was loaded from), its state, today's usage and what is left of its quota.

Documented in docs/API_REFERENCE.md ("The dashboard's JSON"); `gemini-proxy status` prints the
same usage and quota figures.
"""

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from gemini_proxy.config import Config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.upstream.code_assist import QuotaBucket
from gemini_proxy.usage.book import FailureNote, Sheet, Tally
from gemini_proxy.usage.day import quota_day
from gemini_proxy.usage.quota import QuotaView, daily_limit
from gemini_proxy.usage.read import DayUsage, total

RECENT_FAILURES = 20
AI_STUDIO_NOTE = (
    "AI Studio keys: today's requests against configured daily limits "
    "(usage.ai_studio_daily_limits), not Google's live figures; Google offers no call for them."
)
INVALID_NOTE = "not asked: the account is invalid (recheck it first)"


def tally_json(tally: Tally) -> dict[str, int]:
    return {
        "requests": tally.requests,
        "errors": tally.errors,
        "input_tokens": tally.input_tokens,
        "output_tokens": tally.output_tokens,
    }


def usage_json(sheet: Sheet) -> dict[str, Any]:
    return {
        **tally_json(total(sheet)),
        "models": {model: tally_json(t) for model, t in sorted(sheet.models.items())},
    }


def failure_json(note: FailureNote) -> dict[str, Any]:
    return {
        "at": note.at,
        "credential": note.credential,
        "model": note.model,
        "kind": note.kind,
        "status": note.status,
        "message": note.message,
    }


def bucket_json(bucket: QuotaBucket, now: float) -> dict[str, Any]:
    reset_in = None
    if bucket.reset_time is not None:
        try:
            moment = datetime.fromisoformat(bucket.reset_time.replace("Z", "+00:00"))
            reset_in = max(0.0, round(moment.timestamp() - now, 1))
        except ValueError:
            pass
    return {
        "model": bucket.model,
        "token_type": bucket.token_type,
        "remaining_fraction": bucket.remaining_fraction,
        "remaining": bucket.remaining_amount,
        "limit": bucket.limit,
        "reset_time": bucket.reset_time,
        "reset_in_seconds": reset_in,
    }


def account_quota(view: QuotaView | None, now: float) -> dict[str, Any]:
    if view is None:
        return {"source": "code_assist", "fetched_at": None, "error": INVALID_NOTE, "buckets": []}
    buckets = sorted(view.buckets, key=lambda b: (b.model or "", b.token_type or ""))
    return {
        "source": "code_assist",
        "fetched_at": view.fetched_at,
        "error": view.error,
        "buckets": [bucket_json(bucket, now) for bucket in buckets],
    }


def key_quota(sheet: Sheet, config: Config) -> dict[str, Any]:
    limits = config.usage.ai_studio_daily_limits
    models = set(sheet.models) | {m for m in config.models if daily_limit(m, limits) is not None}
    rows = []
    for model in sorted(models):
        used = sheet.models[model].requests if model in sheet.models else 0
        limit = daily_limit(model, limits)
        remaining = None if limit is None else max(0, limit - used)
        rows.append({"model": model, "used": used, "limit": limit, "remaining": remaining})
    return {"source": "configured", "models": rows}


def state_json(
    config: Config,
    rows: list[dict[str, object]],
    usage: DayUsage,
    quotas: dict[str, QuotaView],
    credentials: Iterable[Credential],
    client: str | None,
    csrf: str | None,
) -> dict[str, Any]:
    """The whole page's data. `rows` is the pool's report (the same as /admin/credentials)."""
    now = time.time()
    kinds = {c.fingerprint: c.kind for c in credentials}
    shown = []
    for row in rows:
        fingerprint = str(row["fingerprint"])
        sheet = usage.of(fingerprint)
        last = sheet.recent[-1] if sheet.recent else None
        if kinds.get(fingerprint) == "oauth":
            quota = account_quota(quotas.get(fingerprint), now)
        else:
            quota = key_quota(sheet, config)
        shown.append(
            {
                "fingerprint": fingerprint,
                "kind": row["kind"],
                "pool": row["pool"],
                "state": row["state"],
                "models": row["models"],
                "usage": usage_json(sheet),
                "last_failure": failure_json(last) if last else None,
                "quota": quota,
            }
        )
    totals = Tally()
    for sheet in usage.sheets.values():
        totals.add(total(sheet))
    ends = quota_day(now)[1]
    return {
        "object": "dashboard.state",
        "generated_at": now,
        "day": usage.day,
        "day_resets_in_seconds": round(ends - now, 1),
        "refresh_seconds": config.dashboard.refresh_seconds,
        "client": client,
        "csrf": csrf,
        "instances": usage.instances,
        "totals": tally_json(totals),
        "models": {model: tally_json(t) for model, t in usage.by_model().items()},
        "credentials": shown,
        "recent_failures": [failure_json(n) for n in usage.recent_failures(RECENT_FAILURES)],
        "notes": {"ai_studio_limits": AI_STUDIO_NOTE},
    }
