"""The generation service: what every dialect does once it has a Gemini request.

A dialect translates its client's request into a `Call`, hands it here with a way to read the
answer, and gets back its own answer (or a stream of its own frames). Everything between is
shared: resolving the model, per-client stream limits, the orchestrator's failover, the
sanitised-schema retry some models need, signatures going only back to their issuer, and
recording the upstream side of the request's outcome.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from gemini_proxy.credentials.models import Credential, CredentialKind
from gemini_proxy.errors import InvalidRequest, ProxyError
from gemini_proxy.generation import signatures
from gemini_proxy.generation.issuers import Issuers
from gemini_proxy.generation.outcome import Outcome, Tokens
from gemini_proxy.generation.schema import sanitize_schema
from gemini_proxy.logs import logger
from gemini_proxy.pool.models import ModelCatalog
from gemini_proxy.pool.orchestrator import OpenStream, Orchestrator
from gemini_proxy.upstream.answers import parse_answer, usage_of
from gemini_proxy.upstream.classify import FailureKind, UpstreamError
from gemini_proxy.upstream.router import UpstreamRouter
from gemini_proxy.upstream.wire import GenerateContentRequest, GenerateContentResponse

T = TypeVar("T")
E = TypeVar("E")
E_contra = TypeVar("E_contra", contravariant=True)

# Gemini's model ids: letters, digits, dots, dashes and underscores. Anything else never reaches
# an upstream URL, where it could name another endpoint.
MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# What Gemini's 400 names when a model will not take `responseJsonSchema`.
_REFUSES_JSON_SCHEMA = ("response_json_schema", "responsejsonschema")


class Frames(Protocol[E_contra]):
    """A dialect's stream: upstream events in, the bytes its client reads out."""

    def feed(self, event: E_contra) -> Sequence[bytes]: ...

    def finish(self) -> Sequence[bytes]: ...

    def fail(self, error: ProxyError) -> Sequence[bytes]:
        """An error after the first byte, in the dialect's own in-band form, and a clean end."""
        ...


@dataclass
class Call:
    """One Gemini request, encoded once whatever the number of attempts."""

    model: str  # a resolved Gemini model id
    request: GenerateContentRequest | bytes  # bytes: a dialect's own Gemini JSON, passed through
    kinds: frozenset[CredentialKind] | None = None
    # The same request with its schema sanitised into `responseSchema`, for models that refuse
    # `responseJsonSchema`; sent once, only after such a refusal.
    fallback: GenerateContentRequest | None = field(init=False, default=None)
    _bodies: dict[tuple[str, bool], bytes] = field(default_factory=dict, repr=False)
    _bound: bool | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.request, GenerateContentRequest):
            self.fallback = schema_fallback(self.request)

    @property
    def prefer(self) -> str | None:
        """The credential that issued the newest bound signature in the history: only it can
        verify them, so it goes first if it can serve (any other gets the skip value)."""
        if isinstance(self.request, bytes):
            return None
        for content in reversed(self.request.contents):
            for part in content.parts:
                carried = part.thought_signature
                if carried is not None and signatures.is_bound(carried):
                    return signatures.issuer(carried)
        return None

    def body(self, credential: Credential, fallback: bool = False) -> bytes:
        request = self.fallback if fallback and self.fallback is not None else self.request
        if isinstance(request, bytes):
            return request
        if self._bound is None:
            self._bound = _has_bound_signatures(request)
        # Without bound signatures the body is the same for every credential.
        key = (credential.fingerprint if self._bound else "", fallback)
        body = self._bodies.get(key)
        if body is None:
            if self._bound:
                request = _for_credential(request, credential, self.model)
            body = request.model_dump_json(by_alias=True, exclude_none=True).encode()
            self._bodies[key] = body
        return body


@dataclass
class Stream(Generic[E]):
    """A stream committed to one credential, ready for the edge to send."""

    opened: OpenStream[E, bytes]
    frames: Frames[E]
    outcome: Outcome
    release: Callable[[], None]


class Generation:
    def __init__(
        self,
        orchestrator: Orchestrator,
        upstream: UpstreamRouter,
        catalog: ModelCatalog,
        open_stream_slot: Callable[[str], Callable[[], None]],
    ) -> None:
        self.orchestrator = orchestrator
        self.upstream = upstream
        self.catalog = catalog
        self._open_stream_slot = open_stream_slot
        self.issuers = Issuers()  # of the signatures passed through untouched

    def resolve(self, outcome: Outcome, requested: str) -> str:
        """The Gemini model behind a name the client sent (an alias, `models/...`), checked."""
        outcome.model = requested
        model = self.catalog.resolve(requested)
        if not MODEL_ID.fullmatch(model):
            raise InvalidRequest(
                "Invalid model name: a Gemini model id has only letters, digits, '.', '-' and "
                "'_' (at most 128 characters)",
                param="model",
                code="invalid_model",
            )
        outcome.served_model = model
        return model

    async def run(
        self,
        outcome: Outcome,
        model: str,
        operation: Callable[[Credential], Awaitable[T]],
        kinds: frozenset[CredentialKind] | None = None,
        prefer: str | None = None,
    ) -> T:
        """Any upstream operation through the pool (embeddings, token counts, model lists)."""
        served = await self.orchestrator.run(model, operation, kinds, prefer)
        outcome.served(served.credential.fingerprint, served.attempts, served.upstream_ms)
        self.catalog.answered(model)
        return served.value

    async def complete(
        self,
        outcome: Outcome,
        call: Call,
        read: Callable[[GenerateContentResponse, signatures.Signer], T],
    ) -> T:
        """One answer, read by the dialect inside the attempt: an answer it cannot use (empty,
        malformed) fails over like any other upstream failure."""

        async def attempt(credential: Credential) -> T:
            answer = parse_answer(await self._generate(credential, call))
            if answer.usage_metadata is not None:
                outcome.tokens = Tokens.from_usage(answer.usage_metadata)
            return read(answer, signatures.Signer(credential, call.model))

        return await self.run(outcome, call.model, attempt, call.kinds, call.prefer)

    async def complete_raw(self, outcome: Outcome, call: Call) -> bytes:
        """Gemini's answer as Gemini sent it (Code Assist's envelope removed)."""

        async def attempt(credential: Credential) -> bytes:
            answer = await self._generate(credential, call)
            usage = usage_of(answer)
            if usage is not None:
                outcome.tokens = Tokens.from_usage(usage)
            self.issuers.note(answer, credential.fingerprint)
            return answer

        return await self.run(outcome, call.model, attempt, call.kinds, self._prefer(call))

    async def count_tokens(self, outcome: Outcome, call: Call) -> bytes:
        """Gemini's `{totalTokens}` answer for the request."""

        async def attempt(credential: Credential) -> bytes:
            return await self.upstream.count_tokens(credential, call.model, call.body(credential))

        return await self.run(outcome, call.model, attempt, call.kinds)

    async def stream(
        self,
        outcome: Outcome,
        call: Call,
        new_frames: Callable[[signatures.Signer], Frames[GenerateContentResponse]],
    ) -> Stream[GenerateContentResponse]:
        def frames(credential: Credential) -> Frames[GenerateContentResponse]:
            return _Metered(new_frames(signatures.Signer(credential, call.model)), outcome)

        return await self._stream(outcome, call, self._parsed_events, frames)

    async def stream_raw(
        self, outcome: Outcome, call: Call, new_frames: Callable[[], Frames[bytes]]
    ) -> Stream[bytes]:
        def frames(credential: Credential) -> Frames[bytes]:
            return _MeteredRaw(new_frames(), outcome, self.issuers, credential.fingerprint)

        return await self._stream(outcome, call, self._events, frames)

    def _prefer(self, call: Call) -> str | None:
        """The credential that issued the history's newest signature, if one can be told."""
        if isinstance(call.request, bytes):
            return self.issuers.issuer(call.request)
        return call.prefer

    def _body(self, call: Call, credential: Credential, fallback: bool = False) -> bytes:
        body = call.body(credential, fallback)
        if isinstance(call.request, bytes):
            return self.issuers.for_credential(body, credential.fingerprint)
        return body

    # --- the attempts ------------------------------------------------------------------

    async def _generate(self, credential: Credential, call: Call) -> bytes:
        try:
            body = self._body(call, credential)
            return await self.upstream.generate(credential, call.model, body)
        except UpstreamError as exc:
            if not _wants_fallback(call, exc):
                raise
        return await self.upstream.generate(
            credential, call.model, self._body(call, credential, True)
        )

    @asynccontextmanager
    async def _events(
        self, credential: Credential, call: Call
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """The upstream stream; once more with the sanitised schema if the model wants that."""
        entered = False
        try:
            async with self.upstream.stream(
                credential, call.model, self._body(call, credential)
            ) as events:
                entered = True
                yield events
                return
        except UpstreamError as exc:
            # Only a refusal of the request itself, before any event, may be retried this way.
            if entered or not _wants_fallback(call, exc):
                raise
        async with self.upstream.stream(
            credential, call.model, self._body(call, credential, True)
        ) as events:
            yield events

    @asynccontextmanager
    async def _parsed_events(
        self, credential: Credential, call: Call
    ) -> AsyncIterator[AsyncIterator[GenerateContentResponse]]:
        async with self._events(credential, call) as events:
            yield (parse_answer(payload) async for payload in events)

    async def _stream(
        self,
        outcome: Outcome,
        call: Call,
        events: Callable[[Credential, Call], AbstractAsyncContextManager[AsyncIterator[E]]],
        new_frames: Callable[[Credential], Frames[E]],
    ) -> Stream[E]:
        outcome.stream = True
        release = self._open_stream_slot(outcome.client or "")
        made: list[Frames[E]] = []

        def frames(credential: Credential) -> Frames[E]:
            # Attempts run one after another: the last one made belongs to the winner.
            made.append(new_frames(credential))
            return made[-1]

        try:
            opened = await self.orchestrator.stream(
                call.model,
                lambda credential: events(credential, call),
                frames,
                call.kinds,
                self._prefer(call),
            )
        except BaseException:
            release()
            raise
        outcome.served(opened.credential.fingerprint, opened.attempts, opened.upstream_ms)
        self.catalog.answered(call.model)
        return Stream(opened, made[-1], outcome, release)


class _Metered(Generic[E]):
    """Notes the token counts of parsed events on their way to the dialect."""

    def __init__(self, inner: Frames[GenerateContentResponse], outcome: Outcome) -> None:
        self._inner = inner
        self._outcome = outcome

    def feed(self, event: GenerateContentResponse) -> Sequence[bytes]:
        if event.usage_metadata is not None:  # cumulative: the last one holds the totals
            self._outcome.tokens = Tokens.from_usage(event.usage_metadata)
        return self._inner.feed(event)

    def finish(self) -> Sequence[bytes]:
        return self._inner.finish()

    def fail(self, error: ProxyError) -> Sequence[bytes]:
        return self._inner.fail(error)


class _MeteredRaw:
    """The same for events passed through: only the last one is read, once the stream ends.
    Their signatures are remembered as the serving credential's."""

    def __init__(
        self, inner: Frames[bytes], outcome: Outcome, issuers: Issuers, fingerprint: str
    ) -> None:
        self._inner = inner
        self._outcome = outcome
        self._issuers = issuers
        self._fingerprint = fingerprint
        self._last = b""

    def feed(self, event: bytes) -> Sequence[bytes]:
        self._last = event
        self._issuers.note(event, self._fingerprint)
        return self._inner.feed(event)

    def finish(self) -> Sequence[bytes]:
        usage = usage_of(self._last) if self._last else None
        if usage is not None:
            self._outcome.tokens = Tokens.from_usage(usage)
        return self._inner.finish()

    def fail(self, error: ProxyError) -> Sequence[bytes]:
        return self._inner.fail(error)


def note_schema_changes(outcome: Outcome, changes: list[str]) -> None:
    """What the sanitiser rewrote in a request's tool schemas, for whoever debugs a tool. At
    debug level: agents send the same schemas (with `$schema`, `additionalProperties`...) on
    every request, so at info this would be a line each time."""
    if changes:
        logger.debug(
            "tool schemas adjusted for Gemini",
            extra={"request_id": outcome.request_id, "changes": changes},
        )


def _wants_fallback(call: Call, error: UpstreamError) -> bool:
    failure = error.failure
    return (
        call.fallback is not None
        and failure.kind is FailureKind.CLIENT_ERROR
        and any(name in failure.message.lower() for name in _REFUSES_JSON_SCHEMA)
    )


def schema_fallback(request: GenerateContentRequest) -> GenerateContentRequest | None:
    config = request.generation_config
    if config is None or config.response_json_schema is None:
        return None
    schema, _ = sanitize_schema(config.response_json_schema)
    fallback_config = config.model_copy(
        update={"response_json_schema": None, "response_schema": schema}
    )
    return request.model_copy(update={"generation_config": fallback_config})


def _has_bound_signatures(request: GenerateContentRequest) -> bool:
    return any(
        part.thought_signature is not None and signatures.is_bound(part.thought_signature)
        for content in request.contents
        for part in content.parts
    )


def _for_credential(
    request: GenerateContentRequest, credential: Credential, model: str
) -> GenerateContentRequest:
    """The request with each bound signature opened for `credential`, or replaced."""
    contents = []
    for content in request.contents:
        parts = []
        for part in content.parts:
            carried = part.thought_signature
            if carried is not None and signatures.is_bound(carried):
                opened = signatures.release(carried, credential, model)
                if opened is None and part.function_call is not None:
                    opened = signatures.SKIP
                part = part.model_copy(update={"thought_signature": opened})
            parts.append(part)
        contents.append(content.model_copy(update={"parts": parts}))
    return request.model_copy(update={"contents": contents})
