"""Pick a credential, call Gemini, and on a retryable failure try the next one.

Failover happens only before anything reached the client: for a stream, the orchestrator holds
back until the first translated chunk exists, and from then on the stream is committed to that
credential. The orchestrator sees the upstream and the translation through protocols only.
"""

import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import InvalidRequest, NoCredentials, NotFound, ProxyError
from gemini_proxy.logs import logger
from gemini_proxy.pool.rotation import RoundRobin
from gemini_proxy.upstream.classify import Failure, FailureKind, UpstreamError
from gemini_proxy.upstream.wire import GenerateContentResponse

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# Opens one upstream stream with one credential; leaving the context closes the connection.
StreamOpener = Callable[
    [Credential], AbstractAsyncContextManager[AsyncIterator[GenerateContentResponse]]
]


class ChunkTranslator(Protocol[T_co]):
    def feed(self, event: GenerateContentResponse) -> Sequence[T_co]: ...

    def finish(self) -> Sequence[T_co]: ...


@dataclass
class Served(Generic[T]):
    value: T
    credential: Credential
    attempts: int
    upstream_ms: float


@dataclass
class OpenStream(Generic[T]):
    """A stream committed to one credential, with its first chunks already translated."""

    first: Sequence[T]
    credential: Credential
    attempts: int
    upstream_ms: float  # time to the first upstream event
    _events: AsyncIterator[GenerateContentResponse]
    _translator: ChunkTranslator[T]
    _exit: AsyncExitStack = field(repr=False)

    async def rest(self) -> AsyncIterator[T]:
        """The remaining chunks; raises ProxyError/UpstreamError if the stream breaks."""
        async for event in self._events:
            for chunk in self._translator.feed(event):
                yield chunk
        for chunk in self._translator.finish():
            yield chunk

    async def aclose(self) -> None:
        await self._exit.aclose()


class Orchestrator:
    def __init__(self, credentials: Sequence[Credential], max_attempts: int) -> None:
        self.credentials = list(credentials)
        self._rotation = RoundRobin(self.credentials)
        self._max_attempts = max_attempts

    def _candidates(self) -> list[Credential]:
        if not self.credentials:
            raise NoCredentials(
                "No Gemini credentials are loaded. Put AI Studio API keys in "
                "'oauth creds/ai_studio_keys.txt' (one a line) and restart the proxy.",
                code="no_credentials",
            )
        return self._rotation.next_order()[: self._max_attempts]

    async def run(self, model: str, operation: Callable[[Credential], Awaitable[T]]) -> Served[T]:
        """Run `operation` with one credential after another until one succeeds.

        The operation includes translating the answer, so an answer that turns out empty or
        malformed fails over like any other upstream failure.
        """
        failures: list[Failure] = []
        for attempt, credential in enumerate(self._candidates(), start=1):
            started = time.perf_counter()
            try:
                value = await operation(credential)
                upstream_ms = (time.perf_counter() - started) * 1000
                return Served(value, credential, attempt, upstream_ms)
            except UpstreamError as exc:
                _note_failure(credential, model, exc.failure)
                failures.append(exc.failure)
                if not exc.failure.retry_elsewhere:
                    break
        raise client_error(failures)

    async def stream(
        self,
        model: str,
        open_stream: StreamOpener,
        new_translator: Callable[[], ChunkTranslator[T]],
    ) -> OpenStream[T]:
        """Open a stream that has produced its first chunks, failing over until then."""
        failures: list[Failure] = []
        for attempt, credential in enumerate(self._candidates(), start=1):
            started = time.perf_counter()
            exit_stack = AsyncExitStack()
            try:
                events = await exit_stack.enter_async_context(open_stream(credential))
                translator = new_translator()
                first = await _first_chunks(events, translator)
                upstream_ms = (time.perf_counter() - started) * 1000
                return OpenStream(
                    first, credential, attempt, upstream_ms, events, translator, exit_stack
                )
            except UpstreamError as exc:
                await exit_stack.aclose()
                _note_failure(credential, model, exc.failure)
                failures.append(exc.failure)
                if not exc.failure.retry_elsewhere:
                    break
            except BaseException:
                await exit_stack.aclose()
                raise
        raise client_error(failures)


async def _first_chunks(
    events: AsyncIterator[GenerateContentResponse], translator: ChunkTranslator[T]
) -> Sequence[T]:
    """Read until there is something to send; an empty stream ends in translator.finish()."""
    async for event in events:
        chunks = translator.feed(event)
        if chunks:
            return chunks
    return translator.finish()


def _note_failure(credential: Credential, model: str, failure: Failure) -> None:
    logger.warning(
        "upstream attempt failed",
        extra={
            "credential": credential.fingerprint,
            "model": model,
            "failure": failure.kind.value,
            "upstream_status": failure.status,
            "reason": failure.reason,
        },
    )


_RATE_LIMITS = {FailureKind.RATE_LIMITED, FailureKind.DAILY_QUOTA, FailureKind.QUOTA_EXHAUSTED}
_DEAD = {FailureKind.INVALID_CREDENTIAL, FailureKind.NOT_PROVISIONED, FailureKind.UNAUTHENTICATED}


def client_error(failures: list[Failure]) -> ProxyError:
    """The one error the client sees after every attempt failed."""
    last = failures[-1]
    if last.kind is FailureKind.CLIENT_ERROR:
        return InvalidRequest(
            f"Gemini rejected the request: {last.message}", code="invalid_request"
        )
    if last.kind is FailureKind.MODEL_NOT_FOUND:
        return NotFound(last.message, param="model", code="model_not_found")
    kinds = {failure.kind for failure in failures}
    if kinds <= _RATE_LIMITS:
        wait = min(failure.cooldown_seconds or 1.0 for failure in failures)
        return ProxyError(
            f"All credentials tried are rate-limited by Gemini ({last.message})",
            status=429,
            type="rate_limit_error",
            code="rate_limit_exceeded",
            headers={"retry-after": str(max(1, math.ceil(wait)))},
        )
    if kinds <= _DEAD:
        return ProxyError(
            "Every credential tried was refused by Gemini (invalid, revoked or not provisioned); "
            "the proxy log names each credential by fingerprint with its reason",
            status=503,
            code="no_usable_credential",
        )
    return ProxyError(
        f"Gemini failed to answer after {len(failures)} attempt(s): {last.message}",
        status=502,
        type="upstream_error",
        code=last.kind.value,
    )
