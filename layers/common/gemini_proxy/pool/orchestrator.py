"""Pick a credential, call Gemini, and on a retryable failure try the next one.

Failover happens only before anything reached the client: for a stream, the orchestrator holds
back until the first translated chunk exists, and from then on the stream is committed to that
credential. Which credential goes next, and when to give up, is the attempt policy's
(`attempts.AttemptPlan`); what the client hears when every attempt failed is `verdicts`'. The
orchestrator sees the upstream and the translation through protocols only.
"""

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from gemini_proxy.credentials.models import Credential, CredentialKind
from gemini_proxy.errors import ProxyError
from gemini_proxy.logs import logger
from gemini_proxy.pool.attempts import AttemptPlan
from gemini_proxy.pool.pool import CredentialPool
from gemini_proxy.pool.verdicts import all_benched
from gemini_proxy.pool.verdicts import client_error as client_error
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
        self._max_attempts = max_attempts  # passes over the usable credentials, at most
        self._deadline = deadline_seconds  # no attempt starts later than this after the first
        self._max_wait = max_wait_seconds

    def _plan(
        self, model: str, kinds: frozenset[CredentialKind] | None, prefer: str | None
    ) -> AttemptPlan:
        return AttemptPlan(
            self.pool, model, kinds, self._max_attempts, self._deadline, self._max_wait, prefer
        )

    async def run(
        self,
        model: str,
        operation: Callable[[Credential], Awaitable[T]],
        kinds: frozenset[CredentialKind] | None = None,
        prefer: str | None = None,
    ) -> Served[T]:
        """Run `operation` with one credential after another until one succeeds.

        The operation includes translating the answer, so an answer that turns out empty or
        malformed fails over like any other upstream failure. `kinds`: only credentials of
        those kinds may serve (an endpoint that only AI Studio has). `prefer`: the fingerprint
        of a credential to try first if the pool offers it.
        """
        plan = self._plan(model, kinds, prefer)
        while (credential := await plan.next()) is not None:
            started = time.perf_counter()
            try:
                value = await operation(credential)
            except UpstreamError as exc:
                # Nothing reached the client: a lost connection may be retried at once.
                await self._failed(plan, credential, exc.failure, before_any_byte=True)
                if not exc.failure.retry_elsewhere:
                    break
                continue
            except ProxyError:
                raise  # the client's own error (a blocked prompt...): no other key helps
            except Exception:
                await self._failed(plan, credential, _internal_failure(), before_any_byte=False)
                continue
            finally:
                self.pool.release(credential)
            await self.pool.record_success(credential, model)
            upstream_ms = (time.perf_counter() - started) * 1000
            return Served(value, credential, plan.attempts, upstream_ms)
        raise self._client_error(model, plan.failures)

    async def stream(
        self,
        model: str,
        open_stream: StreamOpener[E],
        new_translator: Callable[[Credential], ChunkTranslator[E, T]],
        kinds: frozenset[CredentialKind] | None = None,
        prefer: str | None = None,
    ) -> OpenStream[E, T]:
        """Open a stream that has produced its first chunks, failing over until then."""
        plan = self._plan(model, kinds, prefer)
        while (credential := await plan.next()) is not None:
            started = time.perf_counter()
            exit_stack = AsyncExitStack()
            progress = _Progress()
            try:
                events = await exit_stack.enter_async_context(open_stream(credential))
                translator = new_translator(credential)
                first = await _first_chunks(events, translator, progress)
            except UpstreamError as exc:
                await exit_stack.aclose()
                fresh = progress.events == 0  # Google had sent nothing yet
                await self._failed(plan, credential, exc.failure, before_any_byte=fresh)
                if not exc.failure.retry_elsewhere:
                    break
                continue
            except ProxyError:
                await exit_stack.aclose()
                raise
            except Exception:
                await exit_stack.aclose()
                await self._failed(plan, credential, _internal_failure(), before_any_byte=False)
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
                first, credential, plan.attempts, upstream_ms, events, translator, exit_stack
            )
        raise self._client_error(model, plan.failures)

    async def _failed(
        self, plan: AttemptPlan, credential: Credential, failure: Failure, before_any_byte: bool
    ) -> None:
        _note_failure(credential, plan.model, failure)
        # The pool first: the plan's next choice must already see a bench this failure causes.
        await self.pool.record_failure(credential, plan.model, failure)
        plan.failed(credential, failure, before_any_byte)

    def _client_error(self, model: str, failures: list[Failure]) -> ProxyError:
        retry_after = self.pool.retry_after(model)
        if not failures:
            return all_benched(retry_after or 1.0)
        usable = self.pool.available_counts([model])[model]
        return client_error(failures, retry_after, usable)


def _internal_failure() -> Failure:
    """A bug or a broken dependency during one attempt: logged in full, then failed over,
    so one bad path costs an attempt rather than the client's request."""
    logger.exception("unexpected error during an upstream attempt")
    return Failure(FailureKind.UNKNOWN, 0, "the proxy hit an internal error on this attempt")


@dataclass
class _Progress:
    events: int = 0  # upstream events read before the first chunk


async def _first_chunks(
    events: AsyncIterator[E], translator: ChunkTranslator[E, T], progress: _Progress
) -> Sequence[T]:
    """Read until there is something to send; an empty stream ends in translator.finish()."""
    async for event in events:
        progress.events += 1
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
