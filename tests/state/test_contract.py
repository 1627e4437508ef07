"""The StateStore contract, run against every backend (see `store` in conftest.py)."""

import asyncio
import multiprocessing
import time
from pathlib import Path

import pytest

from gemini_proxy.state.base import Record, StateStore
from gemini_proxy.state.sqlite import SqliteStore
from tests.state import sqlite_worker

pytestmark = pytest.mark.anyio

NS = "credentials"


async def test_absent_record_reads_as_nothing(store: StateStore) -> None:
    assert await store.get(NS, "missing") is None
    assert await store.query(NS) == []


async def test_create_starts_at_version_one(store: StateStore) -> None:
    created = await store.put(NS, "a", {"state": "ok"}, expected_version=0)
    assert created == Record(NS, "a", {"state": "ok"}, version=1, expires_at=None)
    assert await store.get(NS, "a") == created


async def test_create_over_live_record_is_refused(store: StateStore) -> None:
    await store.put(NS, "a", {"n": 1}, 0)
    assert await store.put(NS, "a", {"n": 2}, 0) is None
    assert await store.get(NS, "a") == Record(NS, "a", {"n": 1}, 1)


async def test_write_with_current_version_bumps_it(store: StateStore) -> None:
    await store.put(NS, "a", {"n": 1}, 0)
    second = await store.put(NS, "a", {"n": 2}, 1)
    third = await store.put(NS, "a", {"n": 3}, 2, expires_at=None)
    assert second == Record(NS, "a", {"n": 2}, 2)
    assert third == Record(NS, "a", {"n": 3}, 3)
    assert await store.get(NS, "a") == third


async def test_write_with_stale_version_changes_nothing(store: StateStore) -> None:
    await store.put(NS, "a", {"n": 1}, 0)
    await store.put(NS, "a", {"n": 2}, 1)
    assert await store.put(NS, "a", {"n": 99}, 1) is None
    assert await store.put(NS, "a", {"n": 99}, 5) is None
    assert await store.get(NS, "a") == Record(NS, "a", {"n": 2}, 2)


async def test_write_to_absent_record_with_nonzero_version_is_refused(store: StateStore) -> None:
    assert await store.put(NS, "a", {"n": 1}, 1) is None
    assert await store.get(NS, "a") is None


async def test_write_replaces_data_and_expiry_entirely(store: StateStore) -> None:
    later = time.time() + 3600
    await store.put(NS, "a", {"old": 1, "gone": True}, 0, expires_at=later)
    await store.put(NS, "a", {"new": 2}, 1)
    assert await store.get(NS, "a") == Record(NS, "a", {"new": 2}, 2, None)


async def test_expired_record_is_invisible_and_can_be_recreated(store: StateStore) -> None:
    past = time.time() - 1
    await store.put(NS, "lease", {"holder": "x"}, 0, expires_at=past)
    assert await store.get(NS, "lease") is None
    assert await store.query(NS) == []
    # Its old version no longer counts: only "absent" (0) may write there now.
    assert await store.put(NS, "lease", {"holder": "y"}, 1) is None
    assert not await store.delete(NS, "lease", 1)
    recreated = await store.put(NS, "lease", {"holder": "z"}, 0)
    assert recreated == Record(NS, "lease", {"holder": "z"}, 1)
    assert await store.get(NS, "lease") == recreated


async def test_record_expires_while_stored(store: StateStore) -> None:
    soon = time.time() + 0.3
    created = await store.put(NS, "token", {"t": "abc"}, 0, expires_at=soon)
    assert created is not None
    assert await store.get(NS, "token") == created
    assert created.expires_at == soon
    await asyncio.sleep(0.35)
    assert await store.get(NS, "token") is None
    assert await store.query(NS) == []
    assert await store.put(NS, "token", {"t": "def"}, 0) is not None


async def test_query_returns_only_its_namespace(store: StateStore) -> None:
    await store.put(NS, "a", {"i": 1}, 0)
    await store.put(NS, "b", {"i": 2}, 0, expires_at=time.time() + 3600)
    await store.put(NS, "expired", {"i": 3}, 0, expires_at=time.time() - 1)
    await store.put("tokens", "a", {"i": 4}, 0)
    await store.put(NS + "-suffix", "c", {"i": 5}, 0)
    found = sorted(await store.query(NS), key=lambda record: record.key)
    assert [(r.namespace, r.key, r.data) for r in found] == [
        (NS, "a", {"i": 1}),
        (NS, "b", {"i": 2}),
    ]
    assert [r.data for r in await store.query("tokens")] == [{"i": 4}]


async def test_query_reads_every_page(store: StateStore) -> None:
    # ~40 KB per record: DynamoDB pages a query at 1 MB, so this needs several pages.
    blob = "x" * 40_000
    for i in range(60):
        await store.put(NS, f"k{i:02d}", {"blob": blob, "i": i}, 0)
    found = await store.query(NS)
    assert sorted(r.data["i"] for r in found) == list(range(60))


async def test_delete_is_conditional(store: StateStore) -> None:
    assert not await store.delete(NS, "a", 1)
    assert not await store.delete(NS, "a", 0)
    await store.put(NS, "a", {"n": 1}, 0)
    await store.put(NS, "a", {"n": 2}, 1)
    assert not await store.delete(NS, "a", 0)
    assert not await store.delete(NS, "a", 1)
    assert await store.get(NS, "a") == Record(NS, "a", {"n": 2}, 2)
    assert await store.delete(NS, "a", 2)
    assert await store.get(NS, "a") is None
    assert not await store.delete(NS, "a", 2)
    assert await store.put(NS, "a", {"n": 3}, 0) == Record(NS, "a", {"n": 3}, 1)


async def test_data_round_trips_exactly(store: StateStore) -> None:
    data = {
        "nested": {"list": [1, 2.5, None, True, {"deep": [0.1, -0.0, 1e-300]}], "empty": {}},
        "float": 0.1 + 0.2,
        "big": 2**62 + 1,
        "huge_float": 1.7976931348623157e308,
        "unicode": "Grüße, 世界 🚀 \u0000 \ud7ff",
        "ключ": "значение",
        "empty_string": "",
    }
    expires_at = 1_900_000_000.123456
    written = await store.put(NS, "ключ/🚀", data, 0, expires_at=expires_at)
    read = await store.get(NS, "ключ/🚀")
    assert written == read == Record(NS, "ключ/🚀", data, 1, expires_at)
    assert read is not None
    assert repr(read.data["float"]) == repr(0.1 + 0.2)
    assert read.expires_at == expires_at
    assert [r.data for r in await store.query(NS)] == [data]


async def _increment(store: StateStore, key: str, times: int) -> int:
    conflicts = 0
    for _ in range(times):
        while True:
            current = await store.get(NS, key)
            value = current.data["n"] if current else 0
            # Yield between read and write, as any real caller does, so tasks interleave.
            await asyncio.sleep(0)
            if await store.put(NS, key, {"n": value + 1}, current.version if current else 0):
                break
            conflicts += 1
    return conflicts


async def test_concurrent_increments_lose_no_update(store: StateStore) -> None:
    tasks, times = 20, 3
    conflicts = await asyncio.gather(*(_increment(store, "counter", times) for _ in range(tasks)))
    final = await store.get(NS, "counter")
    assert final is not None
    assert final.data == {"n": tasks * times}
    assert final.version == tasks * times
    assert sum(conflicts) > 0, "the tasks never raced, so the test proved nothing"


def test_sqlite_processes_lose_no_update(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite3")
    processes, times = 4, 25
    # spawn, not fork: pytest's process has threads, and a forked child must not inherit them.
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=sqlite_worker.increment, args=(path, times, start, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    conflicts = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
        assert worker.exitcode == 0
    final = asyncio.run(SqliteStore(path).get("counter", "shared"))
    assert final is not None
    assert final.data == {"n": processes * times}
    assert final.version == processes * times
    assert sum(conflicts) > 0, "the processes never raced, so the test proved nothing"
