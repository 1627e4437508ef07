"""TokenManager against the fake token endpoint: freshness, one refresh across instances that
share a store, waiting for another instance's claim, and what a refused refresh means."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from gemini_proxy.config import GEMINI_CLI_CLIENT_ID, GEMINI_CLI_CLIENT_SECRET
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential, OAuthSeed
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.upstream import oauth
from gemini_proxy.upstream.classify import FailureKind, UpstreamError
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.oauth import NAMESPACE, OAuthClient, TokenManager, token_record
from gemini_proxy.upstream.sealing import seal, unseal
from gemini_proxy.upstream.shared import PENDING, SharedValues
from tests.support.fake import FakeGemini
from tests.support.http import call, post_json

pytestmark = pytest.mark.anyio

REFRESH = "1//token-manager-refresh"
ACCOUNT = Credential("oauth", REFRESH, source="alice.json", pool="primary")
FP = fingerprint(REFRESH)


def manager(
    fake: FakeGemini,
    store: MemoryStore,
    http: HttpClient,
    lease: float = 5.0,
    client_id: str = GEMINI_CLI_CLIENT_ID,
) -> TokenManager:
    shared = SharedValues(store, lease, poll_seconds=0.02)
    client = OAuthClient(f"{fake.url}/token", client_id, GEMINI_CLI_CLIENT_SECRET)
    return TokenManager(http, shared, client, margin_seconds=300)


@asynccontextmanager
async def http_client() -> AsyncIterator[HttpClient]:
    http = HttpClient(5, 5)
    try:
        yield http
    finally:
        await http.close()


def refreshes(fake: FakeGemini) -> int:
    counted: dict[str, int] = call("GET", f"{fake.url}/_control/stats").json()["token_refreshes"]
    return counted.get(FP, 0)


def live_tokens(fake: FakeGemini) -> set[str]:
    accounts = call("GET", f"{fake.url}/_control/accounts").json()["accounts"]
    return {
        token["fingerprint"]
        for found in accounts
        if found["refresh_token_fingerprint"] == FP
        for token in found["access_tokens"]
    }


async def test_one_refresh_for_many_requests_of_two_instances(fake: FakeGemini) -> None:
    store = MemoryStore()
    async with http_client() as http:
        first, second = manager(fake, store, http), manager(fake, store, http)
        tokens = await asyncio.gather(*(m.access_token(ACCOUNT) for m in [first, second] * 10))
        again = await second.access_token(ACCOUNT)
    assert len(set(tokens)) == 1 and again == tokens[0]
    assert refreshes(fake) == 1
    assert fingerprint(tokens[0]) in live_tokens(fake)
    sent = next(e for e in fake.requests() if e["kind"] == "token")["body"]
    assert sent["grant_type"] == "refresh_token" and sent["client_id"] == GEMINI_CLI_CLIENT_ID
    assert sent["refresh_token"] == FP  # the fake logs it as a fingerprint


async def test_the_stored_token_is_sealed_and_expires_with_the_token(fake: FakeGemini) -> None:
    store = MemoryStore()
    async with http_client() as http:
        token = await manager(fake, store, http).access_token(ACCOUNT)
    record = await store.get(NAMESPACE, FP)
    assert record is not None and record.expires_at is not None
    assert token not in json.dumps(record.data)
    assert record.expires_at == pytest.approx(time.time() + 3600, abs=5)
    assert record.data["refresh_at"] == pytest.approx(record.expires_at - 300)


async def test_the_stored_token_opens_only_for_its_own_record(fake: FakeGemini) -> None:
    store = MemoryStore()
    async with http_client() as http:
        token = await manager(fake, store, http).access_token(ACCOUNT)
    record = await store.get(NAMESPACE, FP)
    assert record is not None
    sealed = record.data["sealed"]
    assert sealed.startswith("v2.")
    assert unseal(sealed, REFRESH, token_record(FP)) == token
    assert unseal(sealed, REFRESH, token_record("another-account")) is None


async def test_a_token_sealed_for_another_record_is_not_used(fake: FakeGemini) -> None:
    # Someone with write access to the store copies a sealed token into this account's record:
    # it does not open there, so a refresh happens instead of using it.
    store = MemoryStore()
    far = time.time() + 3600
    sealed = seal("ya29.copied", REFRESH, token_record("another-account"))
    await store.put(NAMESPACE, FP, {"sealed": sealed, "refresh_at": far - 300}, 0, far)
    async with http_client() as http:
        token = await manager(fake, store, http).access_token(ACCOUNT)
    assert token != "ya29.copied"
    assert refreshes(fake) == 1


# Sealed with REFRESH by the v1 code, before AES-GCM replaced it.
V1_SEALED = (
    "v1.yEyCU3QRxRDkRVVsl2AlYp9WSVzbzdU9FRdb6M8CPsOYrvTXNGaai-87xvjFX966Ln5i"
    "eeM1ClmeIcdt6n6R1dweZ7yT"
)


async def test_a_token_sealed_before_the_upgrade_is_still_used(fake: FakeGemini) -> None:
    store = MemoryStore()
    far = time.time() + 3600
    await store.put(NAMESPACE, FP, {"sealed": V1_SEALED, "refresh_at": far - 300}, 0, far)
    async with http_client() as http:
        token = await manager(fake, store, http).access_token(ACCOUNT)
    assert token == "ya29.sealed-before-v2"
    assert refreshes(fake) == 0


async def test_short_lived_tokens_are_used_for_half_their_life(fake: FakeGemini) -> None:
    fake.settings(access_token_ttl_seconds=120)
    store = MemoryStore()
    async with http_client() as http:
        await manager(fake, store, http).access_token(ACCOUNT)
    record = await store.get(NAMESPACE, FP)
    assert record is not None and record.expires_at is not None
    assert record.data["refresh_at"] == pytest.approx(record.expires_at - 60)


async def test_seed_token_is_used_while_fresh_and_refreshed_when_near_expiry(
    fake: FakeGemini,
) -> None:
    in_an_hour = int((time.time() + 3600) * 1000)
    in_four_minutes = int((time.time() + 240) * 1000)
    fresh = Credential("oauth", REFRESH, seed=OAuthSeed("ya29.seeded", in_an_hour))
    near = Credential("oauth", REFRESH, seed=OAuthSeed("ya29.seeded", in_four_minutes))
    async with http_client() as http:
        assert await manager(fake, MemoryStore(), http).access_token(fresh) == "ya29.seeded"
        assert refreshes(fake) == 0
        assert await manager(fake, MemoryStore(), http).access_token(near) != "ya29.seeded"
        assert refreshes(fake) == 1


async def test_stale_token_forces_a_refresh_unless_another_instance_did_one(
    fake: FakeGemini,
) -> None:
    store = MemoryStore()
    async with http_client() as http:
        first, second = manager(fake, store, http), manager(fake, store, http)
        old = await first.access_token(ACCOUNT)
        assert await second.access_token(ACCOUNT) == old
        new = await first.access_token(ACCOUNT, stale=old)
        assert new != old and refreshes(fake) == 2
        # The second instance's copy was refused too: it finds the first one's new token.
        assert await second.access_token(ACCOUNT, stale=old) == new
    assert refreshes(fake) == 2


async def test_waits_for_another_instances_claim_instead_of_refreshing(fake: FakeGemini) -> None:
    store = MemoryStore()
    claim = await store.put(NAMESPACE, FP, {PENDING: True}, 0, time.time() + 10)
    assert claim is not None
    far = time.time() + 3600
    sealed = seal("ya29.from-elsewhere", REFRESH, token_record(FP))
    data = {"sealed": sealed, "refresh_at": far - 300}

    async def other_instance_finishes() -> None:
        await asyncio.sleep(0.3)
        assert await store.put(NAMESPACE, FP, data, claim.version, far) is not None

    async with http_client() as http:
        task = asyncio.create_task(other_instance_finishes())
        token = await manager(fake, store, http).access_token(ACCOUNT)
        await task
    assert token == "ya29.from-elsewhere"
    assert refreshes(fake) == 0


async def test_a_claim_whose_holder_died_is_taken_over_after_its_lease(fake: FakeGemini) -> None:
    store = MemoryStore()
    await store.put(NAMESPACE, FP, {PENDING: True}, 0, time.time() + 0.3)
    started = time.monotonic()
    async with http_client() as http:
        await manager(fake, store, http).access_token(ACCOUNT)
    assert 0.25 < time.monotonic() - started < 3
    assert refreshes(fake) == 1


async def test_invalid_grant_is_final_and_shared_without_a_second_call(fake: FakeGemini) -> None:
    post_json(f"{fake.url}/_control/accounts", {"refresh_token": REFRESH, "revoked": True})
    store = MemoryStore()
    async with http_client() as http:
        with pytest.raises(UpstreamError) as first:
            await manager(fake, store, http).access_token(ACCOUNT)
        with pytest.raises(UpstreamError) as second:
            await manager(fake, store, http).access_token(ACCOUNT)
    for caught in (first, second):
        failure = caught.value.failure
        assert failure.kind is FailureKind.INVALID_CREDENTIAL
        assert failure.reason == "invalid_grant"
        assert "Log in again with Gemini CLI" in failure.message
        assert "'alice.json'" in failure.message
    assert [e["status"] for e in fake.requests() if e["kind"] == "token"] == [400]


async def test_a_refused_client_is_reported_as_configuration(fake: FakeGemini) -> None:
    async with http_client() as http:
        with pytest.raises(UpstreamError) as caught:
            await manager(fake, MemoryStore(), http, client_id="someone-else").access_token(ACCOUNT)
    assert caught.value.failure.kind is FailureKind.INVALID_CREDENTIAL
    assert "oauth.client_id" in caught.value.failure.message


async def test_a_google_outage_releases_the_claim_for_the_next_try(fake: FakeGemini) -> None:
    rule = {"fault": "unavailable", "api": "oauth", "kinds": ["token"], "times": 1}
    assert post_json(f"{fake.url}/_control/faults", rule).status == 200
    store = MemoryStore()
    async with http_client() as http:
        tokens = manager(fake, store, http)
        with pytest.raises(UpstreamError) as caught:
            await tokens.access_token(ACCOUNT)
        assert caught.value.failure.kind is FailureKind.UNAVAILABLE
        assert await store.get(NAMESPACE, FP) is None  # nothing left to wait for
        await tokens.access_token(ACCOUNT)
    assert refreshes(fake) == 1


async def test_tokens_never_reach_the_log(
    fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[str] = []

    class Recorder:
        def _record(self, message: object, *args: object, **kwargs: Any) -> None:
            logged.append(f"{message} {kwargs}")

        info = warning = _record

    monkeypatch.setattr(oauth, "logger", Recorder())
    async with http_client() as http:
        token = await manager(fake, MemoryStore(), http).access_token(ACCOUNT)
    assert logged and all(token not in line and REFRESH not in line for line in logged)
    assert any(FP in line for line in logged)
