"""The health of a credential, per model, and how a failure changes it. Pure.

An entry describes one (credential, model) pair, or the whole credential under the model
`ANY_MODEL` when the failure is the credential's own (a dead key, a revoked grant). Entries
live in the state store's `health` namespace; these functions compute the next entry from the
current one, so the pool can write it with a compare-and-set.
"""

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from gemini_proxy.upstream.classify import Failure, FailureKind

ANY_MODEL = "*"
NAMESPACE = "health"
# How long a record outlives its bench, so repeated limits can still escalate.
MEMORY_SECONDS = 6 * 3600


class Status(StrEnum):
    AVAILABLE = "available"
    RATE_LIMITED = "rate_limited"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Entry:
    status: Status = Status.AVAILABLE
    cooldown_until: float = 0.0  # RATE_LIMITED: usable again from then (epoch seconds)
    recheck_after: float = 0.0  # INVALID: a probe may try it from then
    reason: str | None = None  # failure kind and Google's reason, for people
    message: str | None = None  # Google's message (secrets redacted)
    failures: int = 0  # unexplained failures in a row (credential-wide entry)
    strikes: int = 0  # escalation level of back-to-back rate limits
    changed_at: float = 0.0

    def to_data(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, 0, 0.0)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Entry":
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        if "status" in known:
            known["status"] = Status(known["status"])
        return cls(**known)

    def usable(self, now: float) -> bool:
        if self.status is Status.INVALID:
            return False
        return self.status is Status.AVAILABLE or self.cooldown_until <= now


def key(fingerprint: str, model: str) -> str:
    return f"{fingerprint}#{model}"


@dataclass(frozen=True)
class Rules:
    default_cooldown: float  # seconds, for a 429 without a hint
    max_cooldown: float
    consecutive_failures: int
    recheck_interval: float


_BENCHES = {FailureKind.RATE_LIMITED, FailureKind.DAILY_QUOTA, FailureKind.QUOTA_EXHAUSTED}
_DEAD = {FailureKind.INVALID_CREDENTIAL, FailureKind.NOT_PROVISIONED}
# What counts towards `consecutive_failures`: failures nobody explained (an unreadable or empty
# answer, an odd status) - and only those the pool found pointing at the credential, i.e. while
# another credential answered the same model (see CredentialPool.record_failure). Google's own
# trouble (5xx, capacity, network: UNAVAILABLE) never counts: a burst of 500s during an incident
# is no reason to bench a key, and benching every key on one would turn it into an outage.
UNEXPLAINED = frozenset({FailureKind.UNKNOWN, FailureKind.BAD_ANSWER})


def scope(failure: Failure) -> str | None:
    """Which entry a failure changes: the model's, the credential's (ANY_MODEL), or none."""
    if failure.kind in _BENCHES:
        return "model"
    if failure.kind in _DEAD or failure.kind in UNEXPLAINED:
        return ANY_MODEL
    return None


def after_failure(current: Entry, failure: Failure, rules: Rules, now: float) -> Entry | None:
    """The entry after `failure`, or None when nothing changes."""
    if failure.kind in _BENCHES:
        return _benched(current, failure, rules, now)
    if failure.kind in _DEAD:
        return _invalid(failure, rules, now, f"{failure.kind.value}: {failure.reason or ''}")
    if failure.kind in UNEXPLAINED:
        failures = current.failures + 1
        if failures >= rules.consecutive_failures:
            reason = f"{failures} unexplained failures in a row (last: {failure.kind.value})"
            return replace(_invalid(failure, rules, now, reason), failures=failures)
        return replace(current, failures=failures, message=failure.message, changed_at=now)
    return None


def _benched(current: Entry, failure: Failure, rules: Rules, now: float) -> Entry | None:
    seconds = failure.cooldown_seconds or rules.default_cooldown
    strikes = current.strikes
    if current.status is Status.RATE_LIMITED and current.cooldown_until > now:
        # Same window (another request, another instance): extend, never shorten, and do
        # not escalate twice for one window. Any later end is Google's word: requests in flight
        # when a key hits its limit each bring a hint counted from their own answer, and the
        # last one is honoured even if that costs a write for a few milliseconds more.
        if now + seconds <= current.cooldown_until:
            return None
        until = now + seconds
    else:
        if failure.kind is FailureKind.RATE_LIMITED:
            recent = current.cooldown_until and now - current.cooldown_until < seconds
            strikes = strikes + 1 if recent else 0
            seconds = min(seconds * 2**strikes, max(rules.max_cooldown, seconds))
        until = now + seconds
    return Entry(
        status=Status.RATE_LIMITED,
        cooldown_until=until,
        reason=f"{failure.kind.value}: {failure.reason or ''}".rstrip(": "),
        message=failure.message,
        strikes=strikes,
        changed_at=now,
    )


def _invalid(failure: Failure, rules: Rules, now: float, reason: str) -> Entry:
    return Entry(
        status=Status.INVALID,
        recheck_after=now + rules.recheck_interval,
        reason=reason.rstrip(": "),
        message=failure.message,
        changed_at=now,
    )


def restored(now: float) -> Entry:
    return Entry(status=Status.AVAILABLE, changed_at=now)
