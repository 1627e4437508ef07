"""AI Studio (Generative Language API) with an API key.

Requests and answers are Gemini's own JSON, as bytes: the caller encodes a request once for all
its attempts, and a dialect that passes Gemini's answers through gets them unchanged.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from pydantic import ValidationError
from pydantic_core import from_json, to_json

from gemini_proxy.credentials.models import Credential
from gemini_proxy.upstream.answers import checked
from gemini_proxy.upstream.classify import UpstreamError, bad_answer
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.wire import (
    BatchEmbedContentsRequest,
    BatchEmbedContentsResponse,
    ListModelsResponse,
    ModelInfo,
)


class AiStudioClient:
    def __init__(self, http: HttpClient, base_url: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/") + "/v1beta/models/"

    @staticmethod
    def _headers(credential: Credential) -> dict[str, str]:
        return {"x-goog-api-key": credential.secret, "content-type": "application/json"}

    def _url(self, model: str, method: str) -> str:
        # One path segment, whatever the caller passed: a model name can never reach another
        # endpoint of Google's API with a pool key.
        return f"{self._base}{quote(model, safe='')}:{method}"

    async def generate(self, credential: Credential, model: str, body: bytes) -> bytes:
        answer = await self._http.post(
            self._url(model, "generateContent"), self._headers(credential), body
        )
        return checked(answer)

    @asynccontextmanager
    async def stream(
        self, credential: Credential, model: str, body: bytes
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        url = self._url(model, "streamGenerateContent") + "?alt=sse"
        async with self._http.post_sse(url, self._headers(credential), body) as events:
            yield (checked(payload) async for payload in events)

    async def count_tokens(self, credential: Credential, model: str, body: bytes) -> bytes:
        """`body` is a generate request; Google counts it whole (system, tools and all)."""
        inner = from_json(body)
        inner["model"] = f"models/{model}"
        wrapped = to_json({"generateContentRequest": inner})
        answer = await self._http.post(
            self._url(model, "countTokens"), self._headers(credential), wrapped
        )
        return checked(answer)

    async def call(self, credential: Credential, model: str, method: str, body: bytes) -> bytes:
        """Any other model method (embedContent, batchEmbedContents), passed through."""
        answer = await self._http.post(self._url(model, method), self._headers(credential), body)
        return checked(answer)

    async def embed(
        self, credential: Credential, model: str, request: BatchEmbedContentsRequest
    ) -> BatchEmbedContentsResponse:
        body = await self.call(
            credential,
            model,
            "batchEmbedContents",
            request.model_dump_json(by_alias=True, exclude_none=True).encode(),
        )
        try:
            return BatchEmbedContentsResponse.model_validate_json(body)
        except ValidationError:
            raise UpstreamError(
                bad_answer("Gemini sent embeddings that could not be read")
            ) from None

    async def probe(self, credential: Credential, model: str) -> None:
        """The cheapest check that a key works: reading one model's metadata costs no quota."""
        await self._http.get(f"{self._base}{quote(model, safe='')}", self._headers(credential))

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
