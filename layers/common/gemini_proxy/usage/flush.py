"""Usage to the state store in batches: never a store call on a request's path.

Each process writes one record per (day, credential, instance): at most once per credential every
`interval` seconds, only when it changed, and once more at shutdown. A background task does it
every interval; a finished request also starts a flush when one is due (on Lambda the process
is frozen between invocations, and its timer with it), without waiting for it. Only this process
writes its records, so a write never conflicts; records expire after `retention` seconds.
"""

import asyncio
import contextlib
import math
import time
from collections.abc import Callable

from gemini_proxy.logs import logger
from gemini_proxy.state.base import StateStore
from gemini_proxy.usage.book import SheetKey, UsageBook

NAMESPACE = "usage"


def record_key(day: str, credential: str, instance: str) -> str:
    return f"{day}#{credential}#{instance}"


class UsageFlusher:
    def __init__(
        self,
        book: UsageBook,
        store: StateStore,
        interval: float,
        retention: float,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.book = book
        self.store = store
        self.interval = interval
        self.retention = retention
        self._clock = clock
        self._monotonic = monotonic
        self._written_at: dict[SheetKey, float] = {}
        self._versions: dict[SheetKey, int] = {}
        self._lock = asyncio.Lock()
        self._last = monotonic()
        self._timer: asyncio.Task[None] | None = None
        self._nudged: asyncio.Task[int] | None = None
        self.writes = 0  # records written by this process, for tests and figures

    def start(self) -> None:
        """The periodic flush; call from the running event loop (the app's lifespan)."""
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the timer and write whatever is left, however recent."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        await self.flush(final=True)

    def nudge(self) -> None:
        """After a request: start a flush if one is due; the request does not wait for it."""
        if not self.book.dirty or self._monotonic() - self._last < self.interval:
            return
        if self._lock.locked() or (self._nudged is not None and not self._nudged.done()):
            return
        self._nudged = asyncio.get_running_loop().create_task(self.flush())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:
                logger.exception("could not write usage")

    async def flush(self, final: bool = False) -> int:
        """Write the changed records whose last write is `interval` old (all when `final`)."""
        async with self._lock:
            now = self._monotonic()
            self._last = now
            written = 0
            for key in sorted(self.book.dirty):
                if not final and now - self._written_at.get(key, -math.inf) < self.interval:
                    continue
                # Taken before the write: what changes meanwhile makes the key dirty again.
                self.book.dirty.discard(key)
                data = {
                    "day": key[0],
                    "credential": key[1],
                    "instance": self.book.instance,
                    **self.book.snapshot(key),
                }
                try:
                    await self._write(key, data)
                except Exception as exc:
                    self.book.dirty.add(key)
                    logger.warning(
                        "could not write usage; kept for the next flush",
                        extra={"credential": key[1], "error": type(exc).__name__},
                    )
                    continue
                self._written_at[key] = self._monotonic()
                written += 1
            self.book.drop_written_days()
            today = self.book.today()
            for stale in [k for k in self._written_at if k[0] != today]:
                self._written_at.pop(stale, None)
                self._versions.pop(stale, None)
            self.writes += written
            return written

    async def _write(self, key: SheetKey, data: dict[str, object]) -> None:
        name = record_key(key[0], key[1], self.book.instance)
        expires_at = self._clock() + self.retention
        version = self._versions.get(key, 0)
        for _ in range(2):
            stored = await self.store.put(NAMESPACE, name, data, version, expires_at)
            if stored is not None:
                self._versions[key] = stored.version
                return
            # Only this process writes this record; a stale version means the store lost or
            # expired it: start again from what is there.
            found = await self.store.get(NAMESPACE, name)
            version = found.version if found is not None else 0
        raise RuntimeError("the usage record changed under its only writer")
