"""Optional abuse limits per verified client: requests per minute and concurrent streams.

Keyed on the client the edge verified (a key's fingerprint, or an address when the proxy has no
client keys), never on what an unauthenticated request sends, so guessing keys neither spends
nor creates limit state. Both limits answer 429 with Retry-After before any upstream call.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from gemini_proxy.errors import ProxyError

# A bucket idle this long has refilled completely: it is the same as no bucket, so it goes.
IDLE_SECONDS = 60.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Limits:
    def __init__(
        self,
        requests_per_minute: int,
        max_concurrent_streams: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpm = requests_per_minute
        self.max_streams = max_concurrent_streams
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._streams: dict[str, int] = {}
        self._swept = clock()

    def take_request(self, client: str) -> None:
        """Spend one request from the client's minute; 429 when there is none left."""
        if not self.rpm:
            return
        now = self._clock()
        self._sweep(now)
        rate = self.rpm / 60.0
        bucket = self._buckets.setdefault(client, _Bucket(float(self.rpm), now))
        bucket.tokens = min(float(self.rpm), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1:
            raise _over("requests per minute", (1 - bucket.tokens) / rate)
        bucket.tokens -= 1

    def open_stream(self, client: str) -> Callable[[], None]:
        """Take one of the client's stream slots; call the result when the stream ends."""
        if not self.max_streams:
            return _nothing
        held = self._streams.get(client, 0)
        if held >= self.max_streams:
            raise _over("concurrent streams", 1.0)
        self._streams[client] = held + 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            left = self._streams[client] - 1
            if left:
                self._streams[client] = left
            else:
                del self._streams[client]

        return release

    def tracked_clients(self) -> int:
        return len(self._buckets) + len(self._streams)

    def _sweep(self, now: float) -> None:
        if now - self._swept < IDLE_SECONDS:
            return
        self._swept = now
        self._buckets = {
            client: bucket
            for client, bucket in self._buckets.items()
            if now - bucket.updated < IDLE_SECONDS
        }


def _nothing() -> None:
    return None


def _over(limit: str, wait: float) -> ProxyError:
    return ProxyError(
        f"Too many requests: this client is over its {limit} limit",
        status=429,
        type="rate_limit_error",
        code="client_rate_limited",
        headers={"retry-after": str(max(1, math.ceil(wait)))},
    )
