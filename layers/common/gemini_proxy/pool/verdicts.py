"""The one error a client sees when no attempt succeeded, with the status that tells the truth.

- 400 / 404: the request's own fault (Gemini refused it, or has no such model).
- 429 with Retry-After: the pool is rate limited. Every attempt met a rate limit (or a dead
  credential), or some did and nothing is usable now while a bench will end.
- 503 `no_usable_credential`: every credential tried is dead, revoked or refused.
- 503 `unavailable`: Google failed on its side (5xx, capacity, no answer) on every attempt
  that was not a rate limit or a dead credential: Google is down, retry later.
- 502: Google answered, but badly (empty, cut short, unreadable).
"""

import math

from gemini_proxy.errors import InvalidRequest, NotFound, ProxyError
from gemini_proxy.upstream.classify import Failure, FailureKind

RATE_LIMITS = frozenset(
    {FailureKind.RATE_LIMITED, FailureKind.DAILY_QUOTA, FailureKind.QUOTA_EXHAUSTED}
)
DEAD = frozenset(
    {FailureKind.INVALID_CREDENTIAL, FailureKind.NOT_PROVISIONED, FailureKind.UNAUTHENTICATED}
)


def client_error(
    failures: list[Failure], retry_after: float | None = None, usable_now: int | None = None
) -> ProxyError:
    """The error for a request whose attempts all failed, `failures` in order.

    `retry_after`: seconds until the first benched credential for the model recovers (None:
    none is benched). `usable_now`: credentials usable for the model right now, when known.
    """
    last = failures[-1]
    if last.kind is FailureKind.CLIENT_ERROR:
        return InvalidRequest(
            f"Gemini rejected the request: {last.message}", code="invalid_request"
        )
    if last.kind is FailureKind.MODEL_NOT_FOUND:
        return NotFound(last.message, param="model", code="model_not_found")
    kinds = {failure.kind for failure in failures}
    if kinds & RATE_LIMITS and (
        kinds <= RATE_LIMITS | DEAD or (usable_now == 0 and retry_after is not None)
    ):
        hints = [f.cooldown_seconds or 1.0 for f in failures if f.kind in RATE_LIMITS]
        return all_benched(retry_after if retry_after is not None else min(hints))
    if kinds <= DEAD:
        return ProxyError(
            "Every credential tried was refused by Gemini (invalid, revoked or not provisioned); "
            "see GET /admin/credentials for the reasons",
            status=503,
            code="no_usable_credential",
        )
    telling = [f for f in failures if f.kind not in RATE_LIMITS | DEAD]
    if all(f.kind is FailureKind.UNAVAILABLE for f in telling):
        return ProxyError(
            f"Gemini is unavailable (failed on Google's side on {len(telling)} attempt(s)); "
            f"retry later. Last: {telling[-1].message}",
            status=503,
            type="upstream_error",
            code=FailureKind.UNAVAILABLE.value,
        )
    bad = next(f for f in reversed(telling) if f.kind is not FailureKind.UNAVAILABLE)
    return ProxyError(
        f"Gemini failed to answer properly after {len(failures)} attempt(s): {bad.message}",
        status=502,
        type="upstream_error",
        code=bad.kind.value,
    )


def all_benched(wait: float) -> ProxyError:
    return ProxyError(
        "Every credential for this model is cooling down after Gemini rate limits; "
        "retry after the time in the Retry-After header",
        status=429,
        type="rate_limit_error",
        code="rate_limit_exceeded",
        headers={"retry-after": str(max(1, math.ceil(wait)))},
    )


def all_invalid() -> ProxyError:
    return ProxyError(
        "No usable credential: every one is marked invalid (dead key, revoked login or "
        "project not provisioned). See GET /admin/credentials for the reasons.",
        status=503,
        code="no_usable_credential",
    )
