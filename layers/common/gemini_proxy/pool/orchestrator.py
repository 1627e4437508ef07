"""Pick a credential, call Gemini, and on a retryable failure try the next one.

Failover happens only before anything reached the client: for a stream, the orchestrator holds
back until the first translated chunk exists, and from then on the stream is committed to that
credential. The orchestrator sees the upstream and the translation through protocols only.
"""

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from gemini_proxy.credentials.models import Credential, CredentialKind
from gemini_proxy.errors import InvalidRequest, NoCredentials, NotFound, ProxyError
from gemini_proxy.logs import logger
from gemini_proxy.pool.pool import CredentialPool
from gemini_proxy.upstream.classify import Failure, FailureKind, UpstreamError

T = TypeVar("T")
E = TypeVar("E")  # an upstream stream event: parsed (GenerateContentResponse) or raw bytes
T_co = TypeVar("T_co", covariant=True)
E_contra = TypeVar("E_contra", contravariant=True)

# Opens one upstream stream with one credential; leaving the context closes the connection.
StreamOpener = Callable[[Credential], AbstractAsyncContextManager[AsyncIterator[E]]]


class ChunkTranslator(Protocol[E_contra, T_co]):
    def feed(self, event: E_contra) -> Sequence[T_co]: ...

    def finish(self) -> Sequence[T_co]: ...


@dataclass
class Served(Generic[T]):
    value: T
    credential: Credential
    attempts: int
    upstream_ms: float


@dataclass
class OpenStream(Generic[E, T]):
    """A stream committed to one credential, with its first chunks already translated."""

    first: Sequence[T]
    credential: Credential
    attempts: int
    upstream_ms: float  # time to the first upstream event
    _events: AsyncIterator[E]
    _translator: ChunkTranslator[E, T]
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
    def __init__(
        self,
        pool: CredentialPool,
        max_attempts: int,
        deadline_seconds: float,
        max_wait_seconds: float = 0.0,
    ) -> None:
        self.pool = pool
        self._max_attempts = max_attempts
        self._deadline = deadline_seconds
        self._max_wait = max_wait_seconds

    async def _candidates(
        self, model: str, kinds: frozenset[CredentialKind] | None
    ) -> list[Credential]:
        if not self.pool.credentials:
            raise NoCredentials(
                "No Gemini credentials are loaded. Put Gemini CLI OAuth accounts "
                "(oauth_creds.json files) or AI Studio API keys ('ai_studio_keys.txt', one a "
                "line) in the 'oauth creds' folder and restart the proxy.",
                code="no_credentials",
            )
        if kinds is not None and not any(c.kind in kinds for c in self.pool.members()):
            raise NoCredentials(
                f"This request needs a credential of kind {', '.join(sorted(kinds))}, and none "
                "is loaded: Gemini CLI OAuth accounts (Code Assist) cannot serve it. Add AI "
                "Studio API keys to 'oauth creds/ai_studio_keys.txt' and restart the proxy.",
                code="no_credentials",
            )
        waited = 0.0
        while True:
            selection = await self.pool.select(model, kinds)
            order = list(selection.candidates)  # _attempts stops at max_attempts
            for probe in selection.probes[:1]:
                # A credential benched as INVALID gets one request per recheck interval.
                if await self.pool.claim_probe(probe):
                    order.append(probe)
            if order:
                return order
            wait = selection.retry_after
            if wait is None:
                raise _all_invalid()
            if waited + wait > self._max_wait:
                raise _all_benched(wait)
            await asyncio.sleep(wait)
            waited += wait

    async def _attempts(
        self,
        model: str,
        failures: list[Failure],
        kinds: frozenset[CredentialKind] | None = None,
    ) -> AsyncIterator[tuple[int, Credential]]:
        """Credentials to try, in order, within the attempt count and the deadline.

        Yields only credentials the pool let us acquire; the caller releases each one.
        """
        deadline = time.monotonic() + self._deadline
        tried: set[str] = set()
        while True:
            try:
                candidates = await self._candidates(model, kinds)
                order = [c for c in candidates if c.fingerprint not in tried]
            except ProxyError:
                if not failures:
                    raise
                return  # later rounds: report the failures seen so far
            waiting = False
            for credential in order:
                if len(tried) >= self._max_attempts or (failures and time.monotonic() > deadline):
                    return
                if not self.pool.acquire(credential, model):
                    waiting = waiting or self.pool.busy_unproven(credential)
                    continue
                tried.add(credential.fingerprint)
                yield len(tried), credential
            remaining = deadline - time.monotonic()
            if not waiting or len(tried) >= self._max_attempts or remaining <= 0:
                return
            await self.pool.settled(remaining)

    async def run(
        self,
        model: str,
        operation: Callable[[Credential], Awaitable[T]],
        kinds: frozenset[CredentialKind] | None = None,
    ) -> Served[T]:
        """Run `operation` with one credential after another until one succeeds.

        The operation includes translating the answer, so an answer that turns out empty or
        malformed fails over like any other upstream failure. `kinds`: only credentials of
        those kinds may serve (an endpoint that only AI Studio has).
        """
        failures: list[Failure] = []
        async for attempt, credential in self._attempts(model, failures, kinds):
            started = time.perf_counter()
            try:
                value = await operation(credential)
            except UpstreamError as exc:
                await self._failed(credential, model, exc.failure, failures)
                if not exc.failure.retry_elsewhere:
                    break
                continue
            except ProxyError:
                raise  # the client's own error (a blocked prompt...): no other key helps
            except Exception:
                await self._failed(credential, model, _internal_failure(), failures)
                continue
            finally:
                self.pool.release(credential)
            await self.pool.record_success(credential, model)
            return Served(value, credential, attempt, (time.perf_counter() - started) * 1000)
        raise self._client_error(model, failures)

    async def stream(
        self,
        model: str,
        open_stream: StreamOpener[E],
        new_translator: Callable[[], ChunkTranslator[E, T]],
        kinds: frozenset[CredentialKind] | None = None,
    ) -> OpenStream[E, T]:
        """Open a stream that has produced its first chunks, failing over until then."""
        failures: list[Failure] = []
        async for attempt, credential in self._attempts(model, failures, kinds):
            started = time.perf_counter()
            exit_stack = AsyncExitStack()
            try:
                events = await exit_stack.enter_async_context(open_stream(credential))
                translator = new_translator()
                first = await _first_chunks(events, translator)
            except UpstreamError as exc:
                await exit_stack.aclose()
                await self._failed(credential, model, exc.failure, failures)
                if not exc.failure.retry_elsewhere:
                    break
                continue
            except ProxyError:
                await exit_stack.aclose()
                raise
            except Exception:
                await exit_stack.aclose()
                await self._failed(credential, model, _internal_failure(), failures)
                continue
            except BaseException:
                await exit_stack.aclose()
                raise
            finally:
                # Once the first chunk arrived the credential has proven itself.
                self.pool.release(credential)
            await self.pool.record_success(credential, model)
            upstream_ms = (time.perf_counter() - started) * 1000
            return OpenStream(
                first, credential, attempt, upstream_ms, events, translator, exit_stack
            )
        raise self._client_error(model, failures)

    async def _failed(
        self, credential: Credential, model: str, failure: Failure, failures: list[Failure]
    ) -> None:
        _note_failure(credential, model, failure)
        failures.append(failure)
        await self.pool.record_failure(credential, model, failure)

    def _client_error(self, model: str, failures: list[Failure]) -> ProxyError:
        if not failures:
            return _all_benched(self.pool.retry_after(model) or 1.0)
        return client_error(failures, self.pool.retry_after(model))


def _internal_failure() -> Failure:
    """A bug or a broken dependency during one attempt: logged in full, then failed over,
    so one bad path costs an attempt rather than the client's request."""
    logger.exception("unexpected error during an upstream attempt")
    return Failure(FailureKind.UNKNOWN, 0, "the proxy hit an internal error on this attempt")


async def _first_chunks(events: AsyncIterator[E], translator: ChunkTranslator[E, T]) -> Sequence[T]:
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


def _all_benched(wait: float) -> ProxyError:
    return ProxyError(
        "Every credential for this model is cooling down after Gemini rate limits; "
        "retry after the time in the Retry-After header",
        status=429,
        type="rate_limit_error",
        code="rate_limit_exceeded",
        headers={"retry-after": str(max(1, math.ceil(wait)))},
    )


def _all_invalid() -> ProxyError:
    return ProxyError(
        "No usable credential: every one is marked invalid (dead key, revoked login or "
        "project not provisioned). See GET /admin/credentials for the reasons.",
        status=503,
        code="no_usable_credential",
    )


def client_error(failures: list[Failure], retry_after: float | None = None) -> ProxyError:
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
        hints = [failure.cooldown_seconds or 1.0 for failure in failures]
        return _all_benched(retry_after if retry_after is not None else min(hints))
    if kinds <= _DEAD:
        return ProxyError(
            "Every credential tried was refused by Gemini (invalid, revoked or not provisioned); "
            "see GET /admin/credentials for the reasons",
            status=503,
            code="no_usable_credential",
        )
    return ProxyError(
        f"Gemini failed to answer after {len(failures)} attempt(s): {last.message}",
        status=502,
        type="upstream_error",
        code=last.kind.value,
    )
