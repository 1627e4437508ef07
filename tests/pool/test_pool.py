"""The pool: selection order, benching through the store, and sharing state between instances."""

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gemini_proxy.credentials.models import Credential
from gemini_proxy.pool.health import ANY_MODEL, Rules, Status
from gemini_proxy.pool.pool import CredentialPool, Ordering
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.upstream.classify import Failure, FailureKind

pytestmark = pytest.mark.anyio

RULES = Rules(default_cooldown=60, max_cooldown=3600, consecutive_failures=3, recheck_interval=300)
MODEL = "gemini-2.5-flash"


class Clock:
    """Starts at the real time: the store checks record expiry against the real clock."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def keys(count: int, pool: str = "fallback", kind: str = "ai_studio") -> list[Credential]:
    return [Credential(kind, f"{pool}-{kind}-{n}", pool=pool) for n in range(count)]  # type: ignore[arg-type]


def make_pool(
    credentials: list[Credential],
    store: MemoryStore | None = None,
    clock: Clock | None = None,
    ordering: Ordering | None = None,
    cache_seconds: float = 0.0,
) -> CredentialPool:
    return CredentialPool(
        credentials,
        store or MemoryStore(),
        RULES,
        ordering or Ordering(),
        cache_seconds,
        clock=clock or Clock(),
    )


def rate_limit(seconds: float) -> Failure:
    return Failure(FailureKind.RATE_LIMITED, 429, "slow down", "PerMinute", seconds)


async def test_round_robin_spreads_first_choices_evenly() -> None:
    pool = make_pool(keys(4))
    firsts = Counter([(await pool.select(MODEL)).candidates[0].fingerprint for _ in range(400)])
    assert len(firsts) == 4 and set(firsts.values()) == {100}


async def test_benched_credential_is_skipped_for_that_model_only() -> None:
    clock = Clock()
    credentials = keys(2)
    pool = make_pool(credentials, clock=clock)
    await pool.record_failure(credentials[0], MODEL, rate_limit(30))
    for _ in range(5):
        assert (await pool.select(MODEL)).candidates == [credentials[1]]
    assert len((await pool.select("gemini-2.5-pro")).candidates) == 2
    clock.now += 30
    assert len((await pool.select(MODEL)).candidates) == 2


async def test_all_benched_reports_the_earliest_recovery() -> None:
    clock = Clock()
    credentials = keys(2)
    pool = make_pool(credentials, clock=clock)
    await pool.record_failure(credentials[0], MODEL, rate_limit(30))
    await pool.record_failure(credentials[1], MODEL, rate_limit(12))
    selection = await pool.select(MODEL)
    assert selection.candidates == [] and selection.retry_after == pytest.approx(12)


async def test_invalid_key_is_out_for_every_model_and_probed_once_per_interval() -> None:
    clock = Clock()
    credentials = keys(2)
    store = MemoryStore()
    first, second = make_pool(credentials, store, clock), make_pool(credentials, store, clock)
    dead = Failure(FailureKind.INVALID_CREDENTIAL, 400, "API key not valid", "API_KEY_INVALID")
    await first.record_failure(credentials[0], MODEL, dead)
    for pool in (first, second):
        for model in (MODEL, "gemini-2.5-pro"):
            selection = await pool.select(model)
            assert selection.candidates == [credentials[1]] and selection.probes == []
    clock.now += 300
    assert (await first.select(MODEL)).probes == [credentials[0]]
    # Two instances see the probe due; only one may send it.
    claims = await asyncio.gather(
        first.claim_probe(credentials[0]), second.claim_probe(credentials[0])
    )
    assert sorted(claims) == [False, True]
    assert (await second.select(MODEL)).probes == []
    # A successful probe restores the key everywhere.
    await first.record_success(credentials[0], MODEL)
    assert len((await second.select(MODEL)).candidates) == 2


async def test_fallback_mode_orders_primary_before_fallback() -> None:
    primary, fallback = keys(2, "primary", "oauth"), keys(2, "fallback")
    pool = make_pool(primary + fallback)
    for _ in range(4):
        order = (await pool.select(MODEL)).candidates
        assert set(order[:2]) == set(primary) and set(order[2:]) == set(fallback)


async def test_combined_mode_mixes_pools_and_disabled_drops_ai_studio_keys() -> None:
    primary, fallback = keys(2, "primary", "oauth"), keys(2, "fallback")
    combined = make_pool(primary + fallback, ordering=Ordering(mode="combined"))
    firsts = {(await combined.select(MODEL)).candidates[0] for _ in range(8)}
    assert firsts == set(primary + fallback)
    disabled = make_pool(primary + fallback, ordering=Ordering(mode="disabled"))
    assert set((await disabled.select(MODEL)).candidates) == set(primary)


async def test_prefer_ai_studio_for_pro_models() -> None:
    accounts, studio = keys(2, "primary", "oauth"), keys(2, "fallback")
    pool = make_pool(accounts + studio, ordering=Ordering(prefer_ai_studio_for_pro=True))
    pro = (await pool.select("gemini-2.5-pro")).candidates
    assert set(pro[:2]) == set(studio)
    flash = (await pool.select(MODEL)).candidates
    assert set(flash[:2]) == set(accounts)


async def test_concurrent_instances_lose_no_transition() -> None:
    store = MemoryStore()
    credentials = keys(2)
    clock = Clock()
    pools = [make_pool(credentials, store, clock) for _ in range(5)]
    for pool in pools:
        await pool.record_success(credentials[1], MODEL)  # so the failures point at the first
    unexplained = Failure(FailureKind.UNKNOWN, 200, "odd", None)
    await asyncio.gather(*(p.record_failure(credentials[0], MODEL, unexplained) for p in pools[:3]))
    # Three unexplained failures from three instances: the threshold is reached, not lost.
    record = await store.get("health", f"{credentials[0].fingerprint}#{ANY_MODEL}")
    assert record is not None and record.data["status"] == Status.INVALID.value
    assert record.data["failures"] == 3


async def test_steady_requests_make_no_store_calls() -> None:
    class Counting(MemoryStore):
        calls = 0

        async def query(self, namespace: str) -> list:  # type: ignore[type-arg]
            Counting.calls += 1
            return await super().query(namespace)

    credentials = keys(3)
    pool = make_pool(credentials, Counting(), cache_seconds=60)
    for _ in range(200):
        chosen = (await pool.select(MODEL)).candidates[0]
        await pool.record_success(chosen, MODEL)
    assert Counting.calls == 1


async def test_sqlite_processes_see_each_others_benches_at_once(tmp_path: Path) -> None:
    """Another process's write shows at the next request, without a query per request."""
    from gemini_proxy.state.counting import CountingStore
    from gemini_proxy.state.sqlite import SqliteStore

    path = str(tmp_path / "state.sqlite3")
    credentials = keys(2)
    writer = make_pool(credentials, SqliteStore(path), cache_seconds=3600)
    counting = CountingStore(SqliteStore(path))
    reader = make_pool(credentials, counting, cache_seconds=3600)  # type: ignore[arg-type]
    for _ in range(50):
        await reader.select(MODEL)
    assert counting.counts["query"] == 1  # steady: the first load only
    await writer.record_failure(credentials[0], MODEL, rate_limit(30))
    assert (await reader.select(MODEL)).candidates == [credentials[1]]
    assert counting.counts["query"] == 2


# --- what counts towards consecutive_failures ---------------------------------------------

INTERNAL = Failure(FailureKind.UNAVAILABLE, 500, "An internal error has occurred.", "INTERNAL")
EMPTY = Failure(FailureKind.BAD_ANSWER, 200, "Gemini's answer was empty")


async def states(pool: CredentialPool) -> list[str]:
    return [str(row["state"]["status"]) for row in await pool.report()]  # type: ignore[index]


async def test_a_burst_of_500s_across_all_keys_benches_none() -> None:
    credentials = keys(4)
    pool = make_pool(credentials)
    await pool.record_success(credentials[0], MODEL)  # others answering changes nothing
    for _ in range(10):
        for credential in credentials:
            await pool.record_failure(credential, MODEL, INTERNAL)
    assert await states(pool) == ["available"] * 4
    assert len((await pool.select(MODEL)).candidates) == 4


async def test_unexplained_failures_everywhere_bench_no_key() -> None:
    # Google answering badly for everyone (nobody answers in between): not the keys' fault.
    credentials = keys(3)
    clock = Clock()
    pool = make_pool(credentials, clock=clock)
    for credential in credentials:
        await pool.record_success(credential, MODEL)
    clock.now += 1
    for _ in range(5):
        for credential in credentials:
            await pool.record_failure(credential, MODEL, EMPTY)
    assert await states(pool) == ["available"] * 3


async def test_unexplained_failures_while_others_answer_bench_the_key() -> None:
    credentials = keys(2)
    clock = Clock()
    pool = make_pool(credentials, clock=clock)
    broken, healthy = credentials
    for _ in range(3):  # RULES.consecutive_failures
        clock.now += 1
        await pool.record_success(healthy, MODEL)
        clock.now += 1
        await pool.record_failure(broken, MODEL, EMPTY)
    assert await states(pool) == ["invalid", "available"]
    assert pool.entry(broken, ANY_MODEL).status is Status.INVALID


async def test_old_answers_are_no_evidence() -> None:
    credentials = keys(2)
    clock = Clock()
    pool = make_pool(credentials, clock=clock)
    await pool.record_success(credentials[1], MODEL)
    clock.now += 61  # EVIDENCE_SECONDS later
    for _ in range(3):
        await pool.record_failure(credentials[0], MODEL, EMPTY)
    assert await states(pool) == ["available", "available"]


async def test_google_failing_needs_a_streak_without_answers() -> None:
    credentials = keys(2)
    pool = make_pool(credentials)
    for _ in range(11):
        await pool.record_failure(credentials[0], MODEL, INTERNAL)
    assert not pool.google_failing(MODEL)
    await pool.record_failure(credentials[1], MODEL, INTERNAL)
    assert pool.google_failing(MODEL) and not pool.google_failing("gemini-2.5-pro")
    await pool.record_success(credentials[1], MODEL)
    assert not pool.google_failing(MODEL)
    # "Overloaded" is never retried on the same credential within a request: no streak.
    overloaded = Failure(FailureKind.UNAVAILABLE, 503, "The model is overloaded.", "UNAVAILABLE")
    for _ in range(20):
        await pool.record_failure(credentials[0], MODEL, overloaded)
    assert not pool.google_failing(MODEL)


async def test_a_bench_counts_in_this_process_before_the_store_has_it() -> None:
    class SlowStore(MemoryStore):
        async def put(self, *args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0.2)  # SQLite in a busy worker thread, DynamoDB far away
            return await super().put(*args, **kwargs)

    credentials = keys(2)
    pool = make_pool(credentials, SlowStore())
    writing = asyncio.create_task(pool.record_failure(credentials[0], MODEL, rate_limit(30)))
    await asyncio.sleep(0.01)
    assert not writing.done()
    assert not pool.acquire(credentials[0], MODEL)
    assert (await pool.select(MODEL)).candidates == [credentials[1]]
    await writing
    assert not pool.acquire(credentials[0], MODEL)  # and still once it is written
