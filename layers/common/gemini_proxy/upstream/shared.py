"""A value that many proxy instances share and at most one of them produces at a time.

An OAuth account's access token and its Code Assist project live in one state-store record each.
When the record is missing or stale, an instance *claims* it: it replaces the record with a
"pending" marker through a compare-and-set on the version it read, so exactly one instance wins
the claim; it produces the value and writes it over its own marker (again by version). The others
see the marker and poll the record until the value appears, instead of producing it again.

The marker is the lease: it expires after `lease_seconds`, so an instance that died mid-way only
delays the others that long. Keeping claim and value in one record (rather than a separate lease
record that is deleted afterwards) means correctness never depends on a read seeing the latest
write: the conditional write is what decides, and DynamoDB reads may be eventually consistent.

A definitive failure (a revoked grant, an account Google refuses) is stored too, for a short
while, so the other instances report it without asking Google again.
"""

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from gemini_proxy.state.base import StateStore
from gemini_proxy.upstream.classify import Failure, FailureKind, UpstreamError

T = TypeVar("T")

PENDING = "pending"
FAILURE = "failure"


@dataclass(frozen=True)
class Produced:
    """What the producer hands back: the record's data and when the record expires."""

    data: dict[str, Any]
    expires_at: float


def failure_data(failure: Failure) -> dict[str, Any]:
    return {
        FAILURE: {
            "kind": failure.kind.value,
            "status": failure.status,
            "message": failure.message,
            "reason": failure.reason,
        }
    }


def raise_stored_failure(data: dict[str, Any]) -> None:
    """Raise the UpstreamError a record stands for, if it stands for one."""
    stored = data.get(FAILURE)
    if not isinstance(stored, dict):
        return
    try:
        kind = FailureKind(str(stored.get("kind")))
    except ValueError:
        kind = FailureKind.UNKNOWN
    failure = Failure(
        kind, int(stored.get("status") or 0), str(stored.get("message") or ""), stored.get("reason")
    )
    raise UpstreamError(failure)


class SharedValues:
    def __init__(
        self,
        store: StateStore,
        lease_seconds: float,
        poll_seconds: float = 0.05,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._clock = clock
        # Names this instance in its markers: only for people reading the store.
        self._holder = secrets.token_hex(4)

    async def get_or_produce(
        self,
        namespace: str,
        key: str,
        usable: Callable[[dict[str, Any]], T | None],
        produce: Callable[[], Awaitable[Produced]],
    ) -> T:
        """The stored value if `usable` accepts it, else one produced here or by another instance.

        `usable` returns None for a value that must be replaced (stale), and may raise for a
        stored failure (see `raise_stored_failure`).
        """
        # A claim that outlives its lease is taken over, so waiting twice as long means
        # something is wrong with the store itself: fail over rather than hang the request.
        deadline = time.monotonic() + 2 * self._lease + 1
        while True:
            record = await self._store.get(namespace, key)
            if record is not None and record.data.get(PENDING):
                await self._wait(deadline, namespace)
                continue
            if record is not None:
                value = usable(record.data)
                if value is not None:
                    return value
            now = self._clock()
            claim = await self._store.put(
                namespace,
                key,
                {PENDING: True, "holder": self._holder},
                record.version if record is not None else 0,
                expires_at=now + self._lease,
            )
            if claim is None:
                # Another instance claimed or wrote first: look again.
                await self._wait(deadline, namespace)
                continue
            try:
                produced = await produce()
            except BaseException:
                # Hand the claim back so another instance (or the next request) may try now.
                with anyio.CancelScope(shield=True):
                    await self._store.delete(namespace, key, claim.version)
                raise
            # Over our own marker only: if the lease ran out and someone took over, their
            # record stands; ours is still a good value for this request.
            await self._store.put(namespace, key, produced.data, claim.version, produced.expires_at)
            value = usable(produced.data)
            if value is None:
                raise UpstreamError(
                    Failure(FailureKind.UNKNOWN, 0, f"{namespace}: produced an unusable value")
                )
            return value

    async def forget(self, namespace: str, key: str) -> None:
        record = await self._store.get(namespace, key)
        if record is not None and not record.data.get(PENDING):
            await self._store.delete(namespace, key, record.version)

    async def _wait(self, deadline: float, namespace: str) -> None:
        if time.monotonic() > deadline:
            raise UpstreamError(
                Failure(
                    FailureKind.UNAVAILABLE,
                    0,
                    f"timed out waiting for another proxy instance ({namespace})",
                    "SHARED_STATE_TIMEOUT",
                )
            )
        await asyncio.sleep(self._poll)
