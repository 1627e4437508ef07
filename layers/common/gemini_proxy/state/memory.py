"""In-process state: for tests and single-process runs that need nothing to survive."""

import asyncio
from typing import Any

from pydantic_core import from_json, to_json

from gemini_proxy.state.base import Record


class MemoryStore:
    def __init__(self) -> None:
        self._records: dict[tuple[str, str], Record] = {}
        self._lock = asyncio.Lock()

    def _live(self, namespace: str, key: str) -> Record | None:
        record = self._records.get((namespace, key))
        return None if record is None or record.expired() else record

    async def get(self, namespace: str, key: str) -> Record | None:
        return self._live(namespace, key)

    async def query(self, namespace: str) -> list[Record]:
        return [
            record
            for (space, key) in list(self._records)
            if space == namespace and (record := self._live(space, key)) is not None
        ]

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
            self._records[(namespace, key)] = record
            return record

    async def delete(self, namespace: str, key: str, expected_version: int) -> bool:
        async with self._lock:
            current = self._live(namespace, key)
            if current is None or current.version != expected_version:
                return False
            del self._records[(namespace, key)]
            return True

    async def close(self) -> None:
        return None
