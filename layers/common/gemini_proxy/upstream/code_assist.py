"""Code Assist (cloudcode-pa v1internal) with a Gemini CLI OAuth account.

Same interface as `AiStudioClient.generate/stream`. The inner request travels in Gemini CLI's
envelope `{model, project, user_prompt_id, request}`; answers and stream events come back as
`{response: <GenerateContentResponse>, traceId}`; errors may be wrapped in a JSON array.
A 401 means the access token is no good although it looked fresh: refresh once and try again.
"""

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pydantic_core import from_json, to_json

from gemini_proxy.credentials.models import Credential
from gemini_proxy.upstream.answers import checked
from gemini_proxy.upstream.classify import (
    UNSUPPORTED_CLIENT,
    FailureKind,
    UpstreamError,
    bad_answer,
)
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.oauth import TokenManager
from gemini_proxy.upstream.projects import ProjectResolver, unsupported_client

T = TypeVar("T")
# What an answer without `response` (metadata only) stands for: an empty event.
EMPTY_ANSWER = b"{}"
# Strings from Google shown to people are cut to this length.
MAX_TEXT = 120


@dataclass(frozen=True, slots=True)
class QuotaBucket:
    """One of retrieveUserQuota's buckets: what is left of an account's quota for a model."""

    model: str | None
    token_type: str | None
    remaining_fraction: float | None
    remaining_amount: int | None
    reset_time: str | None  # RFC 3339, as Google sends it

    @property
    def limit(self) -> int | None:
        """The whole quota, as Gemini CLI derives it: remaining amount / remaining fraction."""
        if self.remaining_amount is None or not self.remaining_fraction:
            return None
        return round(self.remaining_amount / self.remaining_fraction)


class CodeAssistClient:
    def __init__(
        self,
        http: HttpClient,
        base_url: str,
        tokens: TokenManager,
        projects: ProjectResolver,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/") + "/v1internal"
        self._tokens = tokens
        self._projects = projects

    async def generate(self, credential: Credential, model: str, body: bytes) -> bytes:
        """The inner answer (unwrapped from `{response}`), as bytes."""

        async def call(token: str, project: str) -> bytes:
            answer = await self._http.post(
                f"{self._base}:generateContent", _headers(token), envelope(model, project, body)
            )
            return unwrap(answer)

        return await self._authorized(credential, call)

    @asynccontextmanager
    async def stream(
        self, credential: Credential, model: str, body: bytes
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        url = f"{self._base}:streamGenerateContent?alt=sse"
        async with AsyncExitStack() as stack:

            async def open_stream(token: str, project: str) -> AsyncIterator[bytes]:
                return await stack.enter_async_context(
                    self._http.post_sse(url, _headers(token), envelope(model, project, body))
                )

            events = await self._authorized(credential, open_stream)
            yield (unwrap(payload) async for payload in events)

    async def count_tokens(self, credential: Credential, model: str, body: bytes) -> bytes:
        """Code Assist counts contents only (as Gemini CLI sends them)."""
        contents = from_json(body).get("contents", [])
        wrapped = to_json({"request": {"model": f"models/{model}", "contents": contents}})

        async def call(token: str, project: str) -> bytes:
            answer = await self._http.post(f"{self._base}:countTokens", _headers(token), wrapped)
            return checked(answer)

        return await self._authorized(credential, call)

    async def probe(self, credential: Credential) -> None:
        """The recheck's test of an account: a token and a project, discovered anew (a refusal
        remembered for the other instances is forgotten: a person may just have fixed it).
        Costs no quota; raises UpstreamError as a request would (invalid_grant, not
        provisioned)."""
        await self._tokens.forget(credential)
        await self._projects.forget(credential)

        async def nothing(token: str, project: str) -> None:
            return None

        await self._authorized(credential, nothing)

    async def retrieve_user_quota(self, credential: Credential) -> list[QuotaBucket]:
        """The account's remaining quota per model (Gemini CLI's `/stats` asks the same)."""

        async def call(token: str, project: str) -> list[QuotaBucket]:
            answer = await self._http.post(
                f"{self._base}:retrieveUserQuota", _headers(token), to_json({"project": project})
            )
            return quota_buckets(answer)

        return await self._authorized(credential, call)

    async def _authorized(
        self, credential: Credential, call: Callable[[str, str], Awaitable[T]]
    ) -> T:
        token = await self._tokens.access_token(credential)
        try:
            return await self._with_project(credential, token, call)
        except UpstreamError as exc:
            if exc.failure.kind is not FailureKind.UNAUTHENTICATED:
                raise
        # Refused although fresh (revoked access token, clock skew): one refresh, one retry.
        token = await self._tokens.access_token(credential, stale=token)
        try:
            return await self._with_project(credential, token, call)
        except UpstreamError as exc:
            if exc.failure.kind is not FailureKind.UNAUTHENTICATED:
                raise
            # Refused right after a refresh: not a token problem we can fix. Unexplained, so
            # it counts towards the pool's consecutive-failure threshold instead of looping.
            failure = replace(
                exc.failure, kind=FailureKind.UNKNOWN, reason="UNAUTHENTICATED_AFTER_REFRESH"
            )
            raise UpstreamError(failure) from None

    async def _with_project(
        self, credential: Credential, token: str, call: Callable[[str, str], Awaitable[T]]
    ) -> T:
        project = await self._projects.project(credential, token)
        try:
            return await call(token, project)
        except UpstreamError as exc:
            if exc.failure.kind is not FailureKind.NOT_PROVISIONED:
                raise
            # The cached project may have gone (deleted, access removed): the next try
            # (the pool's recheck) discovers it again.
            await self._projects.forget(credential)
            if exc.failure.reason != UNSUPPORTED_CLIENT:
                raise
            # A project found before 2026-06-18, refused now: say why as discovery would.
            explained = unsupported_client(credential.source, exc.failure.message)
            raise UpstreamError(explained) from None


def _headers(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "content-type": "application/json"}


def envelope(model: str, project: str, body: bytes) -> bytes:
    """Gemini CLI's CAGenerateContentRequest around the inner request `body`; a fresh prompt id
    per request, as it sends."""
    head = to_json(
        {"model": model, "project": project, "user_prompt_id": f"proxy-{secrets.token_hex(8)}"}
    )
    return head[:-1] + b',"request":' + body + b"}"


def unwrap(payload: bytes) -> bytes:
    """The inner answer of `{response, traceId}`; an error inside a 200 is still an error."""
    try:
        answer = from_json(checked(payload))
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise UpstreamError(bad_answer("Gemini sent an answer that could not be read"))
    inner = answer.get("response")
    if inner is None:
        return EMPTY_ANSWER  # metadata only: an empty event, not a failure
    if not isinstance(inner, dict):
        raise UpstreamError(bad_answer("Gemini sent an answer that could not be read"))
    return to_json(inner)


def quota_buckets(payload: bytes) -> list[QuotaBucket]:
    """retrieveUserQuota's buckets; fields of the wrong type are left out, not trusted."""
    try:
        answer = from_json(checked(payload))
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise UpstreamError(bad_answer("Code Assist sent a quota that could not be read"))
    buckets = answer.get("buckets") or []
    if not isinstance(buckets, list):
        raise UpstreamError(bad_answer("Code Assist sent a quota that could not be read"))
    return [_bucket(item) for item in buckets if isinstance(item, dict)]


def _bucket(item: dict[str, Any]) -> QuotaBucket:
    fraction = item.get("remainingFraction")
    amount = item.get("remainingAmount")  # an int64, which JSON carries as a string
    return QuotaBucket(
        model=_text(item.get("modelId")),
        token_type=_text(item.get("tokenType")),
        remaining_fraction=float(fraction)
        if isinstance(fraction, int | float) and not isinstance(fraction, bool)
        else None,
        remaining_amount=int(amount)
        if isinstance(amount, int | str) and str(amount).isdigit()
        else None,
        reset_time=_text(item.get("resetTime")),
    )


def _text(value: Any) -> str | None:
    return value[:MAX_TEXT] if isinstance(value, str) and value else None
