"""One upstream for the app: each call goes to the client that speaks the credential's kind.

Generation (chat, transcription) works with both kinds. Embeddings and the model list exist only
on AI Studio, so their callers ask the orchestrator for `AI_STUDIO_ONLY` credentials.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from gemini_proxy.credentials.models import Credential, CredentialKind
from gemini_proxy.upstream.ai_studio import AiStudioClient
from gemini_proxy.upstream.code_assist import CodeAssistClient
from gemini_proxy.upstream.wire import (
    BatchEmbedContentsRequest,
    BatchEmbedContentsResponse,
    ModelInfo,
)

AI_STUDIO_ONLY: frozenset[CredentialKind] = frozenset({"ai_studio"})


class Generator(Protocol):
    """Both kinds take Gemini's inner request as JSON bytes and answer Gemini's JSON."""

    async def generate(self, credential: Credential, model: str, body: bytes) -> bytes: ...

    def stream(
        self, credential: Credential, model: str, body: bytes
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]: ...

    async def count_tokens(self, credential: Credential, model: str, body: bytes) -> bytes: ...


class UpstreamRouter:
    def __init__(self, ai_studio: AiStudioClient, code_assist: CodeAssistClient) -> None:
        self.ai_studio = ai_studio
        self.code_assist = code_assist

    def _generator(self, credential: Credential) -> Generator:
        return self.code_assist if credential.kind == "oauth" else self.ai_studio

    async def generate(self, credential: Credential, model: str, body: bytes) -> bytes:
        return await self._generator(credential).generate(credential, model, body)

    def stream(
        self, credential: Credential, model: str, body: bytes
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        return self._generator(credential).stream(credential, model, body)

    async def count_tokens(self, credential: Credential, model: str, body: bytes) -> bytes:
        return await self._generator(credential).count_tokens(credential, model, body)

    async def call(self, credential: Credential, model: str, method: str, body: bytes) -> bytes:
        """An AI Studio model method passed through (embedContent, batchEmbedContents)."""
        return await self.ai_studio.call(_ai_studio(credential), model, method, body)

    async def embed(
        self, credential: Credential, model: str, request: BatchEmbedContentsRequest
    ) -> BatchEmbedContentsResponse:
        return await self.ai_studio.embed(_ai_studio(credential), model, request)

    async def list_models(self, credential: Credential) -> list[ModelInfo]:
        return await self.ai_studio.list_models(_ai_studio(credential))

    async def probe(self, credential: Credential, model: str) -> None:
        """Does the credential work? The cheapest call its kind has (for the recheck)."""
        if credential.kind == "oauth":
            await self.code_assist.probe(credential)
        else:
            await self.ai_studio.probe(credential, model)


def _ai_studio(credential: Credential) -> Credential:
    if credential.kind != "ai_studio":
        # The orchestrator was asked for AI_STUDIO_ONLY; anything else is a bug here.
        raise TypeError(f"{credential} cannot call an AI Studio-only method")
    return credential
