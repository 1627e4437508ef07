"""Code Assist (cloudcode-pa v1internal) with a Gemini CLI OAuth account.

Same interface as `AiStudioClient.generate/stream`. The inner request travels in Gemini CLI's
envelope `{model, project, user_prompt_id, request}`; answers and stream events come back as
`{response: <GenerateContentResponse>, traceId}`; errors may be wrapped in a JSON array.
A 401 means the access token is no good although it looked fresh: refresh once and try again.
"""

import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import TypeVar

from pydantic import ValidationError
from pydantic_core import from_json, to_json

from gemini_proxy.credentials.models import Credential
from gemini_proxy.upstream.classify import FailureKind, UpstreamError, bad_answer, classify_http
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.oauth import TokenManager
from gemini_proxy.upstream.projects import ProjectResolver
from gemini_proxy.upstream.wire import GenerateContentRequest, GenerateContentResponse, WireModel

T = TypeVar("T")
# `{"error": ...}` or `[{"error": ...}]`, with any whitespace Google puts around it.
_ERROR_START = re.compile(rb"\s*\[?\s*\{\s*\"error\"")


class CodeAssistAnswer(WireModel):
    response: GenerateContentResponse | None = None


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

    async def generate(
        self, credential: Credential, model: str, request: GenerateContentRequest
    ) -> GenerateContentResponse:
        async def call(token: str, project: str) -> GenerateContentResponse:
            body = await self._http.post(
                f"{self._base}:generateContent", _headers(token), envelope(model, project, request)
            )
            return parse_answer(body)

        return await self._authorized(credential, call)

    @asynccontextmanager
    async def stream(
        self, credential: Credential, model: str, request: GenerateContentRequest
    ) -> AsyncIterator[AsyncIterator[GenerateContentResponse]]:
        url = f"{self._base}:streamGenerateContent?alt=sse"
        async with AsyncExitStack() as stack:

            async def open_stream(token: str, project: str) -> AsyncIterator[bytes]:
                body = envelope(model, project, request)
                return await stack.enter_async_context(
                    self._http.post_sse(url, _headers(token), body)
                )

            events = await self._authorized(credential, open_stream)
            yield (parse_answer(payload) async for payload in events)

    async def probe(self, credential: Credential) -> None:
        """The recheck's test of an account: a token and a project, discovered anew. Costs
        no quota; raises UpstreamError as a request would (invalid_grant, not provisioned)."""
        await self._projects.forget(credential)

        async def nothing(token: str, project: str) -> None:
            return None

        await self._authorized(credential, nothing)

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
            if exc.failure.kind is FailureKind.NOT_PROVISIONED:
                # The cached project may have gone (deleted, access removed): the next try
                # (the pool's recheck) discovers it again.
                await self._projects.forget(credential)
            raise


def _headers(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "content-type": "application/json"}


def envelope(model: str, project: str, request: GenerateContentRequest) -> bytes:
    """Gemini CLI's CAGenerateContentRequest; a fresh prompt id per request, as it sends."""
    inner = request.model_dump_json(by_alias=True, exclude_none=True).encode()
    head = to_json(
        {"model": model, "project": project, "user_prompt_id": f"proxy-{secrets.token_hex(8)}"}
    )
    return head[:-1] + b',"request":' + inner + b"}"


def parse_answer(payload: bytes) -> GenerateContentResponse:
    """One answer or stream event, unwrapped; an error inside a 200 is still an error."""
    if _ERROR_START.match(payload):
        raise UpstreamError(classify_http(_error_code(payload), payload))
    try:
        answer = CodeAssistAnswer.model_validate_json(payload)
    except ValidationError:
        raise UpstreamError(bad_answer("Gemini sent an answer that could not be read")) from None
    # An event without `response` (metadata only) is an empty event, not a failure.
    return answer.response or GenerateContentResponse()


def _error_code(payload: bytes) -> int:
    try:
        data = from_json(payload)
        if isinstance(data, list):
            data = data[0]
        code = data["error"].get("code")
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        return 500
    return code if isinstance(code, int) else 500
