"""What an upstream failure means for the credential and for the request.

Classification reads the status *and* the body (Google puts the useful part in `details`), as
tabled in the wire reference §5. Pure functions: the pool decides what to do with the verdict.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic_core import from_json

PACIFIC = ZoneInfo("America/Los_Angeles")
DEFAULT_RATE_LIMIT_SECONDS = 60.0
SHORT_RATE_LIMIT_SECONDS = 10.0
NETWORK = "NETWORK"  # the reason of a failure that got no HTTP answer at all


class FailureKind(StrEnum):
    RATE_LIMITED = "rate_limited"  # per-minute or short limit: cool (credential, model)
    DAILY_QUOTA = "daily_quota"  # per-day quota: cool until midnight US Pacific
    QUOTA_EXHAUSTED = "quota_exhausted"  # Code Assist account quota: cool until its reset time
    INVALID_CREDENTIAL = "invalid_credential"  # dead, leaked, suspended or disabled
    NOT_PROVISIONED = "not_provisioned"  # account/project lacks access until someone fixes it
    UNAUTHENTICATED = "unauthenticated"  # access token expired: refresh, then retry
    UNAVAILABLE = "unavailable"  # Google's side: capacity, 5xx, network; no penalty
    CLIENT_ERROR = "client_error"  # the request itself is wrong: goes back to the client
    MODEL_NOT_FOUND = "model_not_found"
    BAD_ANSWER = "bad_answer"  # 200 but empty, cut short or malformed
    UNKNOWN = "unknown"  # unexplained: counts towards the consecutive-failure threshold


# Kinds where another credential may well succeed with the very same request.
RETRY_ELSEWHERE = frozenset(
    {
        FailureKind.RATE_LIMITED,
        FailureKind.DAILY_QUOTA,
        FailureKind.QUOTA_EXHAUSTED,
        FailureKind.INVALID_CREDENTIAL,
        FailureKind.NOT_PROVISIONED,
        FailureKind.UNAUTHENTICATED,
        FailureKind.UNAVAILABLE,
        FailureKind.BAD_ANSWER,
        FailureKind.UNKNOWN,
    }
)


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    status: int  # upstream HTTP status; 0 when no answer came (network)
    message: str  # Google's message (never holds the key) or ours
    reason: str | None = None  # ErrorInfo reason or quotaId, for logs and the admin view
    cooldown_seconds: float | None = None  # how long the credential should rest, if at all

    @property
    def retry_elsewhere(self) -> bool:
        return self.kind in RETRY_ELSEWHERE

    @property
    def connection_lost(self) -> bool:
        """No HTTP answer at all (reset, refused, timed out): worth one more try at once."""
        return self.kind is FailureKind.UNAVAILABLE and self.reason == NETWORK

    @property
    def busy(self) -> bool:
        """Google's side says "overloaded" or "no capacity" (503, MODEL_CAPACITY_EXHAUSTED):
        another credential may have room; the same one a moment later seldom does."""
        return self.kind is FailureKind.UNAVAILABLE and (
            self.status == 503 or self.reason == "MODEL_CAPACITY_EXHAUSTED"
        )


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float | None:
    """Protobuf-style durations: "15s", "45.837906927s", "900ms", "161h39m41.3s"."""
    parts = _DURATION_PART.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def seconds_until_pacific_midnight(now: datetime) -> float:
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    # Through timestamps: subtracting two datetimes of one zone ignores a DST change between.
    return midnight.timestamp() - now.timestamp()


# Google quotes the caller's key in some messages ("Consumer 'api_key:AIza...' has been
# suspended"); OAuth access tokens start with ya29. Neither may reach a log or a client.
_SECRET_LIKE = re.compile(r"AIza[0-9A-Za-z_-]{20,}|ya29\.[0-9A-Za-z._-]+")


def redact(message: str) -> str:
    return _SECRET_LIKE.sub("[redacted]", message)


def _error_object(body: bytes) -> dict[str, Any]:
    """The `error` object of a Google error body, also when Code Assist wraps it in an array."""
    try:
        data = from_json(body) if body else None
    except ValueError:
        return {}
    if isinstance(data, list) and data:
        data = data[0]
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _details(error: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    details = error.get("details")
    if not isinstance(details, list):
        return []
    suffix = f"google.rpc.{kind}"
    return [d for d in details if isinstance(d, dict) and str(d.get("@type", "")).endswith(suffix)]


def _retry_delay(error: dict[str, Any]) -> float | None:
    for info in _details(error, "RetryInfo"):
        delay = parse_duration(str(info.get("retryDelay", "")))
        if delay is not None:
            return delay
    return None


def _error_reasons(error: dict[str, Any]) -> list[str]:
    return [str(info.get("reason", "")) for info in _details(error, "ErrorInfo")]


def _quota_ids(error: dict[str, Any]) -> list[str]:
    ids = []
    for failure in _details(error, "QuotaFailure"):
        violations = failure.get("violations")
        if isinstance(violations, list):
            ids += [str(v.get("quotaId", "")) for v in violations if isinstance(v, dict)]
    return ids


def _quota_reset(error: dict[str, Any], now: datetime) -> float | None:
    for info in _details(error, "ErrorInfo"):
        metadata = info.get("metadata")
        if not isinstance(metadata, dict):
            continue
        stamp = metadata.get("quotaResetTimeStamp")
        if stamp:
            try:
                reset = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            except ValueError:
                reset = None
            if reset is not None:
                if reset.tzinfo is None:
                    reset = reset.replace(tzinfo=UTC)
                return max(0.0, (reset - now).total_seconds())
        delay = parse_duration(str(metadata.get("quotaResetDelay", "")))
        if delay is not None:
            return delay
    return None


def classify_http(status: int, body: bytes, now: datetime | None = None) -> Failure:
    """Classify a non-2xx upstream answer."""
    now = now or datetime.now(UTC)
    error = _error_object(body)
    message = redact(str(error.get("message") or f"Gemini answered HTTP {status}"))
    reasons = _error_reasons(error)
    text = f"{message} {' '.join(reasons)} {error.get('status', '')}"

    if 400 <= status < 500 and _unsupported_client(message, reasons):
        # Before the status: whatever status the refusal comes with, it is about the account
        # (never the request, which a 400 would otherwise say) and it does not heal by itself.
        return Failure(FailureKind.NOT_PROVISIONED, status, message, UNSUPPORTED_CLIENT)
    if status == 429 and "MODEL_CAPACITY_EXHAUSTED" in reasons:
        # Code Assist reports "no capacity" as a 429: Google's side, not this credential's.
        return Failure(FailureKind.UNAVAILABLE, status, message, "MODEL_CAPACITY_EXHAUSTED")
    if status == 429:
        return _classify_429(error, message, reasons, now)
    if status == 400:
        if "API_KEY_INVALID" in reasons or "API key not valid" in message:
            return Failure(FailureKind.INVALID_CREDENTIAL, status, message, "API_KEY_INVALID")
        return Failure(FailureKind.CLIENT_ERROR, status, message)
    if status == 401:
        return Failure(FailureKind.UNAUTHENTICATED, status, message, "UNAUTHENTICATED")
    if status == 403:
        return _classify_403(message, reasons, text)
    if status == 404:
        return Failure(FailureKind.MODEL_NOT_FOUND, status, message)
    if status == 408 or status >= 500:
        # Every 5xx is Google's side (an HTML 502 page, a 501 or 520 from a front end as much
        # as a 500 INTERNAL): it never points at the credential, so it never counts against it.
        reason = next(iter(reasons), None) or str(error.get("status") or "") or None
        return Failure(FailureKind.UNAVAILABLE, status, message, reason)
    if 400 <= status < 500:
        return Failure(FailureKind.CLIENT_ERROR, status, message)
    return Failure(FailureKind.UNKNOWN, status, message)


def _classify_429(
    error: dict[str, Any], message: str, reasons: list[str], now: datetime
) -> Failure:
    delay = _retry_delay(error)
    quota_ids = _quota_ids(error)
    if any("PerDay" in quota_id for quota_id in quota_ids):
        # A per-day quota may still carry a short retryDelay: the quota, not the hint, decides.
        reason = next(q for q in quota_ids if "PerDay" in q)
        until = seconds_until_pacific_midnight(now)
        return Failure(FailureKind.DAILY_QUOTA, 429, message, reason, until)
    if "QUOTA_EXHAUSTED" in reasons:
        reset = _quota_reset(error, now)
        return Failure(FailureKind.QUOTA_EXHAUSTED, 429, message, "QUOTA_EXHAUSTED", reset or delay)
    if any("PerMinute" in quota_id for quota_id in quota_ids):
        reason = next(q for q in quota_ids if "PerMinute" in q)
        return Failure(
            FailureKind.RATE_LIMITED, 429, message, reason, delay or DEFAULT_RATE_LIMIT_SECONDS
        )
    reason = next(iter(reasons), None) or next(iter(quota_ids), None) or "RESOURCE_EXHAUSTED"
    return Failure(
        FailureKind.RATE_LIMITED, 429, message, reason, delay or SHORT_RATE_LIMIT_SECONDS
    )


# Since 2026-06-18 Code Assist refuses free "Gemini Code Assist for individuals", Google AI Pro
# and Ultra accounts: loadCodeAssist lists the free tier under `ineligibleTiers` with this
# reasonCode, and generation is refused with "This client is no longer supported for Gemini Code
# Assist for individuals. To continue using Gemini, please migrate to the Antigravity suite of
# products" (the text users quote; the rest of that error body is not published, so the reason
# and the text are both read).
UNSUPPORTED_CLIENT = "UNSUPPORTED_CLIENT"
_UNSUPPORTED_TEXT = re.compile(r"no longer supported for Gemini Code Assist", re.IGNORECASE)


def _unsupported_client(message: str, reasons: list[str]) -> bool:
    return UNSUPPORTED_CLIENT in reasons or _UNSUPPORTED_TEXT.search(message) is not None


_NOT_PROVISIONED_MARKERS = ("IAM_PERMISSION_DENIED", "VALIDATION_REQUIRED", "cloudaicompanion")


def _classify_403(message: str, reasons: list[str], text: str) -> Failure:
    # Leaked, suspended, blocked, disabled or any other refusal: all about what this credential
    # may do, never about the request. Only the not-provisioned family can heal by itself.
    reason = next(iter(reasons), None) or "PERMISSION_DENIED"
    if any(marker in text for marker in _NOT_PROVISIONED_MARKERS):
        return Failure(FailureKind.NOT_PROVISIONED, 403, message, reason)
    return Failure(FailureKind.INVALID_CREDENTIAL, 403, message, reason)


def network_failure(what: str) -> Failure:
    return Failure(FailureKind.UNAVAILABLE, 0, f"could not reach Gemini: {what}", NETWORK)


def bad_answer(message: str) -> Failure:
    return Failure(FailureKind.BAD_ANSWER, 200, message)


class UpstreamError(Exception):
    """An upstream call failed; `failure` says what it means."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure
