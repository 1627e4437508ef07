"""Usage to the state store in batches, and back summed over instances: at most one write per
credential per interval, only when something changed, everything at shutdown; no store call
while counting."""

import asyncio

import pytest

from gemini_proxy.generation.outcome import Outcome, Tokens
from gemini_proxy.state.counting import CountingStore
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.usage.book import UsageBook
from gemini_proxy.usage.flush import NAMESPACE, UsageFlusher, record_key
from gemini_proxy.usage.read import read_day, total

pytestmark = pytest.mark.anyio
FLASH, PRO = "gemini-2.5-flash", "gemini-2.5-pro"


class Tick:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def served(book: UsageBook, credential: str, model: str = FLASH, n: int = 1) -> None:
    for _ in range(n):
        done = Outcome("req", "POST", "/v1/chat/completions", "openai")
        done.credential, done.served_model, done.tokens = credential, model, Tokens(2, 3)
        book.record(done)


def flusher(book: UsageBook, store: CountingStore, tick: Tick, interval: float = 5) -> UsageFlusher:
    return UsageFlusher(book, store, interval, retention=3 * 86400, monotonic=tick)  # type: ignore[arg-type]


async def test_counting_makes_no_store_call_and_a_flush_one_write_per_credential() -> None:
    store, tick, book = CountingStore(MemoryStore()), Tick(), UsageBook()
    flush = flusher(book, store, tick)
    served(book, "aaa", n=500)
    served(book, "bbb", n=300)
    flush.nudge()  # not due yet: the interval has not passed since the flusher started
    assert store.total == 0
    assert await flush.flush() == 2 and store.counts == {"put": 2}
    record = await store.inner.get(NAMESPACE, record_key(book.today(), "aaa", book.instance))
    assert record is not None and record.data["models"][FLASH] == [500, 0, 1000, 1500]
    assert record.expires_at is not None


async def test_a_credential_is_written_at_most_once_per_interval_and_only_when_changed() -> None:
    store, tick, book = CountingStore(MemoryStore()), Tick(), UsageBook()
    flush = flusher(book, store, tick)
    served(book, "aaa")
    assert await flush.flush() == 1
    served(book, "aaa")
    tick.now += 4.9
    assert await flush.flush() == 0  # changed, but written 4.9 s ago
    tick.now += 0.1
    assert await flush.flush() == 1
    tick.now += 60
    assert await flush.flush() == 0  # nothing changed: nothing written
    assert store.counts == {"put": 2}


async def test_shutdown_writes_everything_however_recent() -> None:
    store, tick, book = CountingStore(MemoryStore()), Tick(), UsageBook()
    flush = flusher(book, store, tick)
    served(book, "aaa")
    await flush.flush()
    served(book, "aaa", n=2)
    await flush.stop()
    usage = await read_day(store.inner)
    assert total(usage.of("aaa")).requests == 3


async def test_a_failed_write_is_kept_for_the_next_flush() -> None:
    class Broken(MemoryStore):
        fail = True

        async def put(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            if self.fail:
                raise OSError("disk full")
            return await super().put(*args, **kwargs)  # type: ignore[arg-type]

    inner, tick, book = Broken(), Tick(), UsageBook()
    flush = flusher(book, CountingStore(inner), tick)
    served(book, "aaa")
    assert await flush.flush() == 0 and book.dirty
    inner.fail = False
    assert await flush.flush() == 1 and not book.dirty


async def test_a_record_lost_from_the_store_is_written_again() -> None:
    store, tick, book = CountingStore(MemoryStore()), Tick(), UsageBook()
    flush = flusher(book, store, tick, interval=0.001)
    served(book, "aaa")
    await flush.flush()
    name = record_key(book.today(), "aaa", book.instance)
    record = await store.inner.get(NAMESPACE, name)
    assert record is not None
    await store.inner.delete(NAMESPACE, name, record.version)  # TTL, or an operator
    served(book, "aaa")
    tick.now += 1
    assert await flush.flush() == 1
    again = await store.inner.get(NAMESPACE, name)
    assert again is not None and again.data["models"][FLASH][0] == 2


async def test_a_nudge_after_the_interval_flushes_without_the_caller_waiting() -> None:
    store, tick, book = CountingStore(MemoryStore()), Tick(), UsageBook()
    flush = flusher(book, store, tick)
    served(book, "aaa")
    tick.now += 5
    flush.nudge()
    assert store.total == 0  # started, not awaited
    await asyncio.sleep(0.01)
    assert store.counts == {"put": 1}
    flush.nudge()  # nothing changed since
    await asyncio.sleep(0.01)
    assert store.counts == {"put": 1}


async def test_the_timer_flushes_an_idle_process() -> None:
    store, book = CountingStore(MemoryStore()), UsageBook()
    flush = UsageFlusher(book, store, 0.05, retention=60)
    flush.start()
    served(book, "aaa")
    await asyncio.sleep(0.3)
    assert store.counts["put"] == 1
    await flush.stop()


async def test_readers_sum_every_instance_and_use_their_own_live_counts() -> None:
    shared = MemoryStore()
    tick = Tick()
    one, two, three = UsageBook(), UsageBook(), UsageBook()
    served(one, "aaa", n=3)
    served(two, "aaa", n=4)
    served(two, "bbb", PRO, n=2)
    served(three, "bbb", n=1)
    for book in (one, two, three):
        await flusher(book, CountingStore(shared), tick).flush()
    served(one, "aaa", n=10)  # not written yet: `one` reads it live, the others cannot yet
    usage = await read_day(shared, one)
    assert total(usage.of("aaa")).requests == 3 + 10 + 4
    assert {m: t.requests for m, t in usage.by_model().items()} == {FLASH: 18, PRO: 2}
    assert usage.instances == 3
    elsewhere = await read_day(shared)  # the CLI: records only
    assert total(elsewhere.of("aaa")).requests == 7


async def test_other_days_are_not_today() -> None:
    shared = MemoryStore()
    await shared.put(
        NAMESPACE,
        "2001-01-01#aaa#old",
        {
            "day": "2001-01-01",
            "credential": "aaa",
            "instance": "old",
            "models": {FLASH: [9, 0, 0, 0]},
        },
        0,
    )
    assert (await read_day(shared)).sheets == {}
