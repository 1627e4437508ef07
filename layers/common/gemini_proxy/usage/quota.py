"""What is left of each credential's quota today.

Code Assist accounts: Google's own figures (retrieveUserQuota), reused for `ttl` seconds so a
page polling every few seconds costs Google one call a minute per account; a failure is shown,
never raised. AI Studio keys: Google offers no such call, so today's requests are set against
configured known daily limits (patterns by model), and said to be configured figures.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from gemini_proxy.credentials.models import Credential
from gemini_proxy.logs import logger
from gemini_proxy.upstream.classify import UpstreamError, redact
from gemini_proxy.upstream.code_assist import QuotaBucket

# Longest wait for Google's answer before the page shows the quota as unknown.
FETCH_SECONDS = 10.0
Fetch = Callable[[Credential], Awaitable[list[QuotaBucket]]]


@dataclass(frozen=True)
class QuotaView:
    fetched_at: float  # epoch seconds
    buckets: list[QuotaBucket] = field(default_factory=list)
    error: str | None = None


class QuotaReader:
    def __init__(
        self,
        fetch: Fetch,
        ttl: float,
        clock: Callable[[], float] = time.time,
        timeout: float = FETCH_SECONDS,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._timeout = timeout
        self._cache: dict[str, QuotaView] = {}
        self._running: dict[str, asyncio.Task[QuotaView]] = {}

    async def quota(self, credential: Credential) -> QuotaView:
        """The account's quota, from the cache while it is fresh; one call at a time each."""
        cached = self._cache.get(credential.fingerprint)
        if cached is not None and self._clock() - cached.fetched_at < self._ttl:
            return cached
        task = self._running.get(credential.fingerprint)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._read(credential))
            self._running[credential.fingerprint] = task
        # Shielded: a page that goes away must not cancel the answer others wait for.
        return await asyncio.shield(task)

    async def quotas(self, credentials: Iterable[Credential]) -> dict[str, QuotaView]:
        chosen = list(credentials)
        views = await asyncio.gather(*(self.quota(credential) for credential in chosen))
        return {c.fingerprint: view for c, view in zip(chosen, views, strict=True)}

    async def _read(self, credential: Credential) -> QuotaView:
        try:
            async with asyncio.timeout(self._timeout):
                view = QuotaView(self._clock(), await self._fetch(credential))
        except UpstreamError as exc:
            failure = exc.failure
            view = QuotaView(
                self._clock(), error=f"{failure.kind.value}: {redact(failure.message)}"
            )
        except TimeoutError:
            view = QuotaView(self._clock(), error="Code Assist did not answer in time")
        except Exception:
            logger.exception("could not read an account's quota")
            view = QuotaView(self._clock(), error="the proxy could not read the quota")
        finally:
            self._running.pop(credential.fingerprint, None)
        self._cache[credential.fingerprint] = view
        return view


def daily_limit(model: str, limits: dict[str, int]) -> int | None:
    """The configured daily request limit of an AI Studio key for `model`: an exact name
    first, then the first pattern that matches."""
    if model in limits:
        return limits[model]
    for pattern, limit in limits.items():
        if fnmatchcase(model, pattern):
            return limit
    return None
