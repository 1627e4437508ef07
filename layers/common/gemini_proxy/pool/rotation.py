"""Round-robin order over credentials: each request starts one further along."""

from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class RoundRobin(Generic[T]):
    def __init__(self, items: Sequence[T]) -> None:
        self._items = list(items)
        self._cursor = 0

    def next_order(self) -> list[T]:
        """All items, starting at the cursor; the next call starts at the following one."""
        if not self._items:
            return []
        start = self._cursor % len(self._items)
        self._cursor = start + 1
        return self._items[start:] + self._items[:start]
