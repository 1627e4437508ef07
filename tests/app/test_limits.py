"""Per-client limits: a minute's budget that refills, stream slots, and no state left behind."""

import pytest

from gemini_proxy.app.limits import IDLE_SECONDS, Limits
from gemini_proxy.errors import ProxyError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_minutes_budget_then_429_with_retry_after() -> None:
    clock = Clock()
    limits = Limits(requests_per_minute=3, max_concurrent_streams=0, clock=clock)
    for _ in range(3):
        limits.take_request("key:a")
    with pytest.raises(ProxyError) as caught:
        limits.take_request("key:a")
    assert caught.value.status == 429 and caught.value.headers["retry-after"] == "20"
    limits.take_request("key:b")  # another client has its own budget
    clock.now += 20
    limits.take_request("key:a")  # one request's worth came back


def test_idle_buckets_are_dropped() -> None:
    clock = Clock()
    limits = Limits(requests_per_minute=10, max_concurrent_streams=0, clock=clock)
    for n in range(50):
        limits.take_request(f"addr:10.0.0.{n}")
    assert limits.tracked_clients() == 50
    clock.now += IDLE_SECONDS + 1
    limits.take_request("addr:10.0.0.200")
    assert limits.tracked_clients() == 1


def test_stream_slots_are_given_back_once() -> None:
    limits = Limits(requests_per_minute=0, max_concurrent_streams=2)
    first = limits.open_stream("key:a")
    limits.open_stream("key:a")
    with pytest.raises(ProxyError) as caught:
        limits.open_stream("key:a")
    assert caught.value.code == "client_rate_limited"
    first()
    first()  # a second release must not free a slot someone else holds
    third = limits.open_stream("key:a")
    with pytest.raises(ProxyError):
        limits.open_stream("key:a")
    third()
    assert limits.tracked_clients() == 1


def test_off_means_no_state() -> None:
    limits = Limits(requests_per_minute=0, max_concurrent_streams=0)
    for n in range(100):
        limits.take_request(f"key:{n}")
        limits.open_stream(f"key:{n}")()
    assert limits.tracked_clients() == 0
