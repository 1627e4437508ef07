"""The orchestrator keeps serving when something unexpected breaks on one attempt."""

from typing import Any

import pytest

from gemini_proxy.credentials.models import Credential
from gemini_proxy.pool.health import Rules
from gemini_proxy.pool.orchestrator import Orchestrator
from gemini_proxy.pool.pool import CredentialPool, Ordering
from gemini_proxy.state.memory import MemoryStore

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
