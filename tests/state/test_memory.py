"""The memory store forgets expired records, so a long-running process does not grow."""

import time

import pytest

from gemini_proxy.state import memory
from gemini_proxy.state.memory import MemoryStore


@pytest.mark.anyio
async def test_expired_records_are_dropped_by_a_later_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStore()
    now = time.time()
    for n in range(100):
        await store.put("responses", f"r{n}", {"n": n}, 0, expires_at=now + 10)
    await store.put("health", "kept", {}, 0)
    assert len(await store.query("responses")) == 100
    monkeypatch.setattr(memory.time, "time", lambda: now + memory.SWEEP_SECONDS + 11)
    await store.put("health", "another", {}, 0)
    assert store._spaces["responses"] == {}
    assert {r.key for r in await store.query("health")} == {"kept", "another"}
