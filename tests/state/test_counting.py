import pytest

from gemini_proxy.state.base import Record
from gemini_proxy.state.counting import CountingStore
from gemini_proxy.state.memory import MemoryStore

pytestmark = pytest.mark.anyio


async def test_counts_every_call_and_passes_results_through() -> None:
    store = CountingStore(MemoryStore())
    assert store.total == 0

    created = await store.put("ns", "k", {"n": 1}, 0, expires_at=None)
    assert created == Record("ns", "k", {"n": 1}, 1)
    assert await store.put("ns", "k", {"n": 2}, 0) is None
    assert await store.get("ns", "k") == created
    assert await store.query("ns") == [created]
    assert await store.delete("ns", "k", 1)
    assert await store.get("ns", "k") is None
    await store.close()

    assert store.counts == {"put": 2, "get": 2, "query": 1, "delete": 1, "close": 1}
    assert store.total == 7


async def test_reset_starts_a_new_measurement() -> None:
    store = CountingStore(MemoryStore())
    await store.get("ns", "k")
    store.reset()
    assert store.total == 0
    await store.query("ns")
    assert store.counts == {"query": 1}
