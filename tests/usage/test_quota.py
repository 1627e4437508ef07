"""Quota views: Code Assist's buckets read defensively, cached so a polling page costs Google
one call per account per period, failures shown and never raised; configured limits for keys."""

import asyncio

import pytest

from gemini_proxy.credentials.models import Credential
from gemini_proxy.upstream.classify import Failure, FailureKind, UpstreamError
from gemini_proxy.upstream.code_assist import QuotaBucket, quota_buckets
from gemini_proxy.usage.quota import QuotaReader, daily_limit

ACCOUNT = Credential("oauth", "1//quota-account")
OTHER = Credential("oauth", "1//quota-other")
BUCKET = QuotaBucket("gemini-2.5-pro", "REQUESTS", 0.25, 375, "2026-01-01T08:00:00Z")


def test_buckets_as_google_sends_them() -> None:
    body = (
        b'{"buckets": [{"remainingAmount": "375", "remainingFraction": 0.25, '
        b'"resetTime": "2026-01-01T08:00:00Z", "tokenType": "REQUESTS", '
        b'"modelId": "gemini-2.5-pro"}, {"remainingFraction": 1}]}'
    )
    first, second = quota_buckets(body)
    assert first == BUCKET and first.limit == 1500
    assert second.model is None and second.remaining_fraction == 1.0 and second.limit is None


def test_fields_of_the_wrong_type_are_left_out() -> None:
    body = (
        b'{"buckets": [{"remainingAmount": "-3", "remainingFraction": "half", '
        b'"modelId": 7, "resetTime": "' + b"x" * 500 + b'"}, "junk"]}'
    )
    (bucket,) = quota_buckets(body)
    assert bucket.remaining_amount is None and bucket.remaining_fraction is None
    assert bucket.model is None and bucket.reset_time is not None and len(bucket.reset_time) == 120
    assert quota_buckets(b"{}") == []
    with pytest.raises(UpstreamError):
        quota_buckets(b'{"buckets": 5}')


def test_an_exhausted_bucket_has_no_limit_to_derive() -> None:
    assert QuotaBucket("m", None, 0.0, 0, None).limit is None


@pytest.mark.anyio
async def test_answers_are_cached_and_concurrent_readers_share_one_call() -> None:
    calls: list[str] = []
    now = [1000.0]

    async def fetch(credential: Credential) -> list[QuotaBucket]:
        calls.append(credential.fingerprint)
        await asyncio.sleep(0.01)
        return [BUCKET]

    reader = QuotaReader(fetch, ttl=60, clock=lambda: now[0])
    views = await asyncio.gather(*(reader.quota(ACCOUNT) for _ in range(5)))
    assert calls == [ACCOUNT.fingerprint] and all(v.buckets == [BUCKET] for v in views)
    now[0] += 59
    await reader.quotas([ACCOUNT, OTHER])
    assert calls == [ACCOUNT.fingerprint, OTHER.fingerprint]
    now[0] += 2
    await reader.quota(ACCOUNT)
    assert calls.count(ACCOUNT.fingerprint) == 2


@pytest.mark.anyio
async def test_failures_are_shown_not_raised() -> None:
    async def refused(credential: Credential) -> list[QuotaBucket]:
        raise UpstreamError(Failure(FailureKind.INVALID_CREDENTIAL, 400, "bad key AIza" + "x" * 35))

    async def slow(credential: Credential) -> list[QuotaBucket]:
        await asyncio.sleep(5)
        return []

    async def broken(credential: Credential) -> list[QuotaBucket]:
        raise RuntimeError("bug")

    view = await QuotaReader(refused, ttl=60).quota(ACCOUNT)
    assert view.buckets == [] and view.error is not None
    assert view.error.startswith("invalid_credential: ") and "AIza" not in view.error
    timed_out = await QuotaReader(slow, ttl=60, timeout=0.05).quota(ACCOUNT)
    assert timed_out.error == "Code Assist did not answer in time"
    assert (await QuotaReader(broken, ttl=60).quota(ACCOUNT)).error is not None


def test_configured_limits_exact_name_first_then_the_first_pattern() -> None:
    limits = {"gemini-*flash*": 250, "gemini-2.5-flash-lite": 1000, "*pro*": 100}
    assert daily_limit("gemini-2.5-flash", limits) == 250
    assert daily_limit("gemini-2.5-flash-lite", limits) == 1000
    assert daily_limit("gemini-2.5-pro", limits) == 100
    assert daily_limit("gemma-4", limits) is None
