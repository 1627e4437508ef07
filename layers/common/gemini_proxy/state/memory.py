"""In-process state: for tests and single-process runs that need nothing to survive."""

import asyncio
import time
from typing import Any

from pydantic_core import from_json, to_json

from gemini_proxy.state.base import Record

SWEEP_SECONDS = 60.0


class MemoryStore:
    def __init__(self) -> None:
        # Per namespace, so the pool's frequent query of its own never walks other records.
        self._spaces: dict[str, dict[str, Record]] = {}
        self._lock = asyncio.Lock()
        self._next_sweep = 0.0

    def _live(self, namespace: str, key: str) -> Record | None:
        record = self._spaces.get(namespace, {}).get(key)
        return None if record is None or record.expired() else record

    async def get(self, namespace: str, key: str) -> Record | None:
        return self._live(namespace, key)

    async def query(self, namespace: str) -> list[Record]:
        now = time.time()
        return [r for r in self._spaces.get(namespace, {}).values() if not r.expired(now)]

    async def put(
        self,
        namespace: str,
        key: str,
        data: dict[str, Any],
        expected_version: int,
        expires_at: float | None = None,
    ) -> Record | None:
        async with self._lock:
            current = self._live(namespace, key)
            if (current.version if current else 0) != expected_version:
                return None
            # A JSON round trip: what comes back is a copy, as from the other backends.
            record = Record(
                namespace, key, from_json(to_json(data)), expected_version + 1, expires_at
            )
            space = self._spaces.setdefault(namespace, {})
            space[key] = record
            self._sweep()
            return record

    def _sweep(self) -> None:
        """Expired records are invisible but would stay forever: drop them now and then, so
        memory follows what is live."""
        now = time.time()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        for space in self._spaces.values():
            for stale in [key for key, record in space.items() if record.expired(now)]:
                del space[stale]

    async def delete(self, namespace: str, key: str, expected_version: int) -> bool:
        async with self._lock:
            current = self._live(namespace, key)
            if current is None or current.version != expected_version:
                return False
            del self._spaces[namespace][key]
            return True

    async def close(self) -> None:
        return None
