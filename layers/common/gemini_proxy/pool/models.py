"""Which models the proxy offers: configuration, Gemini's own list (cached) and aliases."""

import time
from collections.abc import Awaitable, Callable

from gemini_proxy.errors import ProxyError
from gemini_proxy.logs import logger
from gemini_proxy.upstream.classify import UpstreamError

# After a failed fetch, wait this long before asking Gemini again.
RETRY_AFTER_FAILURE_SECONDS = 60.0


class ModelCatalog:
    def __init__(
        self,
        configured: list[str],
        aliases: dict[str, str],
        fetch: Callable[[], Awaitable[list[str]]] | None,
        ttl_seconds: float,
    ) -> None:
        self._configured = configured
        self.aliases = aliases
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._upstream: list[str] = []
        self._fresh_until = 0.0
        # Models Gemini has answered for: real, whatever the lists say. Only real models can
        # get in, so a client inventing names cannot grow it.
        self._answered: set[str] = set()

    def resolve(self, requested: str) -> str:
        """The Gemini model id behind a requested name (alias or `models/` form)."""
        name = requested.removeprefix("models/")
        return self.aliases.get(name, name)

    def knows(self, model: str) -> bool:
        """Whether `model` is one the proxy lists or has seen Gemini answer for. Labels and
        views name only such models, so invented names leave no trace."""
        return (
            model in self._answered
            or model in self._configured
            or model in self._upstream
            or model in self.aliases
            or model in self.aliases.values()
        )

    def answered(self, model: str) -> None:
        self._answered.add(model)

    async def names(self) -> list[str]:
        if self._fetch is not None and time.monotonic() >= self._fresh_until:
            await self._refresh(self._fetch)
        merged = dict.fromkeys([*self._configured, *self._upstream, *self.aliases])
        return list(merged)

    async def _refresh(self, fetch: Callable[[], Awaitable[list[str]]]) -> None:
        try:
            self._upstream = await fetch()
            self._fresh_until = time.monotonic() + self._ttl
        except (UpstreamError, ProxyError) as exc:
            # The list is a convenience: serve the configured models rather than fail.
            logger.warning("could not list Gemini's models", extra={"error": str(exc)})
            self._fresh_until = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS
