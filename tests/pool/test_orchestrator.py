"""The orchestrator: failover when something unexpected breaks, the attempt policy (passes over
the pool, a lost connection retried once, bounds, the deadline) and the status the client gets."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import ProxyError
from gemini_proxy.pool import attempts
from gemini_proxy.pool.health import Rules
from gemini_proxy.pool.orchestrator import Orchestrator, client_error
from gemini_proxy.pool.pool import CredentialPool, Ordering
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.state.sqlite import SqliteStore
from gemini_proxy.upstream.classify import Failure, FailureKind, UpstreamError, network_failure

pytestmark = pytest.mark.anyio
RULES = Rules(default_cooldown=60, max_cooldown=3600, consecutive_failures=3, recheck_interval=300)


class BrokenStore(MemoryStore):
    """A state store that is down: every call fails."""

    async def query(self, namespace: str) -> Any:
        raise OSError("database is locked")

    async def put(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError("database is locked")


def orchestrator(store: MemoryStore, count: int = 2) -> Orchestrator:
    credentials = [Credential("ai_studio", f"orchestrator-key-{n}") for n in range(count)]
    pool = CredentialPool(credentials, store, RULES, Ordering(), cache_seconds=0)
    return Orchestrator(pool, max_attempts=3, deadline_seconds=10)


async def test_an_unexpected_error_on_one_attempt_fails_over() -> None:
    target = orchestrator(MemoryStore())
    calls: list[str] = []

    async def operation(credential: Credential) -> str:
        calls.append(credential.fingerprint)
        if len(calls) == 1:
            raise RuntimeError("a bug on this path")
        return "answer"

    served = await target.run("gemini-2.5-flash", operation)
    assert served.value == "answer" and served.attempts == 2 and len(set(calls)) == 2


async def test_a_broken_state_store_does_not_stop_requests() -> None:
    target = orchestrator(BrokenStore())

    async def operation(credential: Credential) -> str:
        return credential.fingerprint

    for _ in range(5):
        assert (await target.run("gemini-2.5-flash", operation)).value


# --- the attempt policy ----------------------------------------------------------------------

MODEL = "gemini-2.5-flash"
INTERNAL = Failure(FailureKind.UNAVAILABLE, 500, "An internal error has occurred.", "INTERNAL")
RESET = network_failure("ServerDisconnectedError")
OVERLOADED = Failure(FailureKind.UNAVAILABLE, 503, "The model is overloaded.", "UNAVAILABLE")
LIMITED = Failure(FailureKind.RATE_LIMITED, 429, "slow down", "PerMinute", 30.0)
BAD_REQUEST = Failure(FailureKind.CLIENT_ERROR, 400, "Unknown name 'x'")


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attempts, "BACKOFF_SECONDS", 0.001)


def scripted(outcomes: dict[int, Failure], calls: list[str]) -> Callable[[Credential], Any]:
    """An operation whose n-th call (from 0) fails with outcomes[n], else answers."""

    async def operation(credential: Credential) -> str:
        calls.append(credential.fingerprint)
        failure = outcomes.get(len(calls) - 1)
        if failure is not None:
            raise UpstreamError(failure)
        return "answer"

    return operation


async def test_google_side_failures_go_on_past_three_attempts() -> None:
    target = orchestrator(MemoryStore(), count=6)
    calls: list[str] = []
    operation = scripted({n: INTERNAL for n in range(5)}, calls)
    served = await target.run(MODEL, operation)
    # Five credentials failed on Google's side; the sixth answered (the old policy gave up at 3).
    assert served.attempts == 6 and len(set(calls)) == 6


async def test_a_lone_credential_is_retried_after_a_google_side_failure() -> None:
    target = orchestrator(MemoryStore(), count=1)
    calls: list[str] = []
    served = await target.run(MODEL, scripted({0: INTERNAL, 1: INTERNAL}, calls))
    assert served.attempts == 3 and len(set(calls)) == 1


async def test_a_lost_connection_is_retried_once_after_the_others() -> None:
    target = orchestrator(MemoryStore(), count=2)
    calls: list[str] = []
    served = await target.run(MODEL, scripted({0: RESET, 1: INTERNAL}, calls))
    # The other credential first, then the reset one again in the same pass.
    assert calls[0] != calls[1] and calls[2] == calls[0] and served.attempts == 3


async def test_google_side_failures_are_bounded_by_passes_over_the_pool() -> None:
    target = orchestrator(MemoryStore(), count=2)  # max_attempts=3
    calls: list[str] = []
    with pytest.raises(ProxyError) as caught:
        await target.run(MODEL, scripted({n: INTERNAL for n in range(100)}, calls))
    assert len(calls) == 6 and Counter(calls).most_common()[0][1] == 3
    # Google is down: 503, not a 502 "bad answer".
    assert caught.value.status == 503 and caught.value.code == "unavailable"


async def test_an_overloaded_credential_is_not_asked_again_within_the_request() -> None:
    target = orchestrator(MemoryStore(), count=2)
    busy, healthy = target.pool.credentials
    calls: list[str] = []

    async def operation(credential: Credential) -> str:
        calls.append(credential.fingerprint)
        if credential is busy:
            raise UpstreamError(OVERLOADED)
        if calls.count(healthy.fingerprint) <= 3:
            raise UpstreamError(INTERNAL)
        return "answer"

    served = await target.run(MODEL, operation)
    # The budget (3 x 2 usable) goes to the one that fails at random, not the overloaded one.
    assert served.credential is healthy and served.attempts == 5
    assert calls.count(busy.fingerprint) == 1


async def test_a_retry_does_not_wait_for_a_credential_another_request_is_proving() -> None:
    target = orchestrator(MemoryStore(), count=2)
    held, healthy = target.pool.credentials
    assert target.pool.acquire(held, MODEL)  # unproven: another request carries its one slot
    calls: list[str] = []

    async def operation(credential: Credential) -> str:
        calls.append(credential.fingerprint)
        if len(calls) == 1:
            raise UpstreamError(INTERNAL)
        return "answer"

    started = time.monotonic()
    served = await target.run(MODEL, operation)
    # Retried on the healthy one after the backoff, not after the other request's (never).
    assert served.credential is healthy and time.monotonic() - started < 1
    target.pool.release(held)


async def test_a_bench_another_process_writes_mid_request_is_respected(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite3")
    credentials = [Credential("ai_studio", f"shared-key-{n}") for n in range(2)]

    def pool() -> CredentialPool:
        return CredentialPool(credentials, SqliteStore(path), RULES, Ordering(), 3600)

    other, mine = pool(), pool()
    target = Orchestrator(mine, max_attempts=3, deadline_seconds=10)
    calls: list[str] = []

    async def operation(credential: Credential) -> str:
        calls.append(credential.fingerprint)
        if len(calls) == 1:
            # Meanwhile another process meets a 429 on the other key and writes the bench.
            rest = next(c for c in credentials if c is not credential)
            await other.record_failure(rest, MODEL, LIMITED)
            raise UpstreamError(INTERNAL)
        return "answer"

    served = await target.run(MODEL, operation)
    # The benched key was next in this request's order; it was not sent to.
    assert len(set(calls)) == 1 and served.attempts == 2


async def test_when_google_fails_for_everyone_a_request_keeps_to_max_attempts() -> None:
    target = orchestrator(MemoryStore(), count=6)
    for credential in target.pool.credentials * 2:  # an incident: 12 failures, no answer
        await target.pool.record_failure(credential, MODEL, INTERNAL)
    assert target.pool.google_failing(MODEL)
    calls: list[str] = []
    with pytest.raises(ProxyError):
        await target.run(MODEL, scripted({n: INTERNAL for n in range(100)}, calls))
    assert len(calls) == 3  # not 3 x 6
    await target.run(MODEL, scripted({}, calls))
    assert not target.pool.google_failing(MODEL)  # one answer ends it


async def test_the_requests_own_fault_never_rotates() -> None:
    target = orchestrator(MemoryStore(), count=4)
    calls: list[str] = []
    with pytest.raises(ProxyError) as caught:
        await target.run(MODEL, scripted({0: BAD_REQUEST}, calls))
    assert len(calls) == 1 and caught.value.status == 400


async def test_rate_limited_credentials_are_not_tried_again_in_the_request() -> None:
    target = orchestrator(MemoryStore(), count=3)
    calls: list[str] = []
    with pytest.raises(ProxyError) as caught:
        await target.run(MODEL, scripted({0: LIMITED, 1: LIMITED, 2: LIMITED}, calls))
    assert len(calls) == 3 and len(set(calls)) == 3
    assert caught.value.status == 429 and caught.value.headers["retry-after"] == "30"


async def test_no_attempt_starts_after_the_deadline() -> None:
    credentials = [Credential("ai_studio", f"slow-key-{n}") for n in range(20)]
    pool = CredentialPool(credentials, MemoryStore(), RULES, Ordering(), cache_seconds=0)
    target = Orchestrator(pool, max_attempts=3, deadline_seconds=0.3)
    calls: list[str] = []

    async def slow_failure(credential: Credential) -> str:
        calls.append(credential.fingerprint)
        await asyncio.sleep(0.1)
        raise UpstreamError(INTERNAL)

    started = time.monotonic()
    with pytest.raises(ProxyError):
        await target.run(MODEL, slow_failure)
    # Attempts start up to 0.3 s in, each lasting 0.1 s: 4 or 5, never the 60 allowed.
    assert len(calls) <= 5 and time.monotonic() - started < 0.3 + 0.1 + 0.1


async def test_a_stream_reset_after_an_event_is_not_retried_on_the_same_credential() -> None:
    target = orchestrator(MemoryStore(), count=1)
    opened: list[str] = []

    @asynccontextmanager
    async def open_stream(credential: Credential) -> AsyncIterator[AsyncIterator[str]]:
        opened.append(credential.fingerprint)

        async def events() -> AsyncIterator[str]:
            yield ""  # an event that translates to nothing
            raise UpstreamError(network_failure("stream interrupted"))

        yield events()

    class Silent:
        def feed(self, event: str) -> list[str]:
            return [event] if event else []

        def finish(self) -> list[str]:
            return []

    with pytest.raises(ProxyError):
        await target.stream(MODEL, open_stream, lambda credential: Silent())
    # Google had started answering: not "before any byte", so no retry at once; the later
    # passes still come (a Google-side failure), after their backoff.
    assert len(opened) == 3


# --- what the client is told -------------------------------------------------------------


def test_the_status_tells_the_truth() -> None:
    dead = Failure(FailureKind.INVALID_CREDENTIAL, 400, "API key not valid", "API_KEY_INVALID")
    empty = Failure(FailureKind.BAD_ANSWER, 200, "Gemini's answer was empty")
    rate_limited = client_error([LIMITED, dead, LIMITED], retry_after=12.2)
    assert rate_limited.status == 429 and rate_limited.headers["retry-after"] == "13"
    # Limits and Google's errors: rate limited if nothing is usable now, else Google is down.
    assert client_error([LIMITED, INTERNAL], retry_after=5, usable_now=0).status == 429
    assert client_error([LIMITED, INTERNAL], retry_after=5, usable_now=2).status == 503
    assert client_error([INTERNAL, RESET, dead]).status == 503
    assert client_error([dead, dead]).code == "no_usable_credential"
    bad = client_error([INTERNAL, empty, INTERNAL])
    assert bad.status == 502 and bad.code == "bad_answer" and "empty" in bad.message
    assert client_error([INTERNAL, BAD_REQUEST]).status == 400
