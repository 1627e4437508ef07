"""Runs in a separate process (spawned) to hammer one SQLite record alongside its siblings."""

import asyncio
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from gemini_proxy.state.sqlite import SqliteStore


async def _increment(store: SqliteStore, times: int) -> int:
    conflicts = 0
    for _ in range(times):
        while True:
            current = await store.get("counter", "shared")
            value = current.data["n"] if current else 0
            # Widen the gap between read and write so the processes really interleave.
            await asyncio.sleep(0.001)
            written = await store.put(
                "counter", "shared", {"n": value + 1}, current.version if current else 0
            )
            if written is not None:
                break
            conflicts += 1
    return conflicts


def increment(path: str, times: int, start: Barrier, results: "Queue[int]") -> None:
    start.wait(timeout=30)
    results.put(asyncio.run(_increment(SqliteStore(path), times)))
