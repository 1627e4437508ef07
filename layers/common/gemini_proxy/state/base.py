"""The state store seam: a small versioned key-value contract every backend honours.

Everything shared between proxy processes (credential health, OAuth access tokens, refresh
leases) lives in records grouped by namespace. A write names the version it read; it succeeds
only if the stored record still has that version (0: the record must not exist), so two
processes can never both win a transition. Expiry is checked by readers: a backend may delete
expired records late (DynamoDB TTL) or never (SQLite, memory) and still be correct.
"""

import time
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Record:
    namespace: str
    key: str
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    expires_at: float | None = None  # epoch seconds; None: never

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (
            time.time() if now is None else now
        )


class StateStore(Protocol):
    async def get(self, namespace: str, key: str) -> Record | None:
        """The record, or None when absent or expired."""

    async def query(self, namespace: str) -> list[Record]:
        """Every unexpired record of a namespace, in one round trip."""

    async def put(
        self,
        namespace: str,
        key: str,
        data: dict[str, Any],
        expected_version: int,
        expires_at: float | None = None,
    ) -> Record | None:
        """Write if the stored version is `expected_version` (0: absent or expired).

        Returns the stored record (version `expected_version + 1`), or None when another
        writer got there first.
        """

    async def delete(self, namespace: str, key: str, expected_version: int) -> bool:
        """Delete if the stored version is `expected_version`; False otherwise."""

    async def close(self) -> None: ...


def change_marker(store: StateStore) -> object | None:
    """A cheap local token that changes when the store's content may have changed.

    Only stores that can tell without a round trip offer one (SQLite: a stat of its files);
    for the others (DynamoDB), readers fall back to their cache period.
    """
    marker = getattr(store, "change_marker", None)
    return marker() if callable(marker) else None
