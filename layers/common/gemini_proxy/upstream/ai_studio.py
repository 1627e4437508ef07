"""AI Studio (Generative Language API) with an API key."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from pydantic import ValidationError
from pydantic_core import from_json

from gemini_proxy.credentials.models import Credential
from gemini_proxy.upstream.classify import UpstreamError, bad_answer, classify_http
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.wire import (
    BatchEmbedContentsRequest,
    BatchEmbedContentsResponse,
    GenerateContentRequest,
    GenerateContentResponse,
    ListModelsResponse,
    ModelInfo,
    WireModel,
)


class AiStudioClient:
    def __init__(self, http: HttpClient, base_url: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/") + "/v1beta/models/"

    @staticmethod
    def _headers(credential: Credential) -> dict[str, str]:
        return {"x-goog-api-key": credential.secret, "content-type": "application/json"}

    async def generate(
        self, credential: Credential, model: str, request: GenerateContentRequest
    ) -> GenerateContentResponse:
        body = await self._http.post(
            f"{self._base}{model}:generateContent", self._headers(credential), _encode(request)
        )
        return parse_answer(body)

    @asynccontextmanager
    async def stream(
        self, credential: Credential, model: str, request: GenerateContentRequest
    ) -> AsyncIterator[AsyncIterator[GenerateContentResponse]]:
        url = f"{self._base}{model}:streamGenerateContent?alt=sse"
        async with self._http.post_sse(url, self._headers(credential), _encode(request)) as events:
            yield (parse_answer(payload) async for payload in events)

    async def embed(
        self, credential: Credential, model: str, request: BatchEmbedContentsRequest
    ) -> BatchEmbedContentsResponse:
        body = await self._http.post(
            f"{self._base}{model}:batchEmbedContents", self._headers(credential), _encode(request)
        )
        try:
            return BatchEmbedContentsResponse.model_validate_json(body)
        except ValidationError:
            raise UpstreamError(
                bad_answer("Gemini sent embeddings that could not be read")
            ) from None

    async def probe(self, credential: Credential, model: str) -> None:
        """The cheapest check that a key works: reading one model's metadata costs no quota."""
        await self._http.get(f"{self._base}{model}", self._headers(credential))

    async def list_models(self, credential: Credential) -> list[ModelInfo]:
        models: list[ModelInfo] = []
        page = ""
        for _ in range(20):  # a bound on paging, should the upstream loop
            url = f"{self._base.removesuffix('/models/')}/models?pageSize=1000{page}"
            body = await self._http.get(url, self._headers(credential))
            try:
                answer = ListModelsResponse.model_validate_json(body)
            except ValidationError:
                raise UpstreamError(
                    bad_answer("Gemini sent a model list that could not be read")
                ) from None
            models.extend(answer.models)
            if not answer.next_page_token:
                break
            page = f"&pageToken={quote(answer.next_page_token)}"
        return models


def _encode(request: WireModel) -> bytes:
    return request.model_dump_json(by_alias=True, exclude_none=True).encode()


def parse_answer(payload: bytes) -> GenerateContentResponse:
    """One answer or stream event; an error object inside a 200 is still an error."""
    if payload.lstrip().startswith(b'{"error"'):
        raise UpstreamError(classify_http(_error_code(payload), payload))
    try:
        return GenerateContentResponse.model_validate_json(payload)
    except ValidationError:
        raise UpstreamError(bad_answer("Gemini sent an answer that could not be read")) from None


def _error_code(payload: bytes) -> int:
    try:
        code = from_json(payload)["error"].get("code")
    except (ValueError, KeyError, AttributeError):
        return 500
    return code if isinstance(code, int) else 500
