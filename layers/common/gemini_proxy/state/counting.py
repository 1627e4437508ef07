"""A store wrapper that counts calls, so tests and benchmarks can prove how often state is hit.

The proxy promises no state-store call on a steady request; this is how that is measured.
"""

from collections import Counter
from typing import Any

from gemini_proxy.state.base import Record, StateStore, change_marker


class CountingStore:
    def __init__(self, inner: StateStore) -> None:
        self.inner = inner
        self.counts: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> None:
        self.counts.clear()

    def change_marker(self) -> object | None:
        # Not counted: it is a local read, not a call to the store.
        return change_marker(self.inner)

    async def get(self, namespace: str, key: str) -> Record | None:
        self.counts["get"] += 1
        return await self.inner.get(namespace, key)

    async def query(self, namespace: str) -> list[Record]:
        self.counts["query"] += 1
        return await self.inner.query(namespace)

    async def put(
        self,
        namespace: str,
        key: str,
        data: dict[str, Any],
        expected_version: int,
        expires_at: float | None = None,
    ) -> Record | None:
        self.counts["put"] += 1
        return await self.inner.put(namespace, key, data, expected_version, expires_at)

    async def delete(self, namespace: str, key: str, expected_version: int) -> bool:
        self.counts["delete"] += 1
        return await self.inner.delete(namespace, key, expected_version)

    async def close(self) -> None:
        self.counts["close"] += 1
        await self.inner.close()
