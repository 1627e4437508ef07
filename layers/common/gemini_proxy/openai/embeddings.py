"""OpenAI embeddings request <-> Gemini batchEmbedContents. Pure."""

import base64
import struct

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.openai.models import Embedding, EmbeddingList, EmbeddingRequest, EmbeddingUsage
from gemini_proxy.upstream.classify import UpstreamError, bad_answer
from gemini_proxy.upstream.wire import (
    BatchEmbedContentsRequest,
    BatchEmbedContentsResponse,
    Content,
    EmbedContentRequest,
    Part,
)

# Gemini's batchEmbedContents takes at most 100 texts per call.
MAX_INPUTS = 100


def input_texts(request: EmbeddingRequest) -> list[str]:
    texts = [request.input] if isinstance(request.input, str) else request.input
    if not texts:
        raise InvalidRequest("'input' must not be empty", param="input")
    if not all(isinstance(text, str) for text in texts):
        raise InvalidRequest(
            "'input' must be text: Gemini embeds strings, not token arrays", param="input"
        )
    if len(texts) > MAX_INPUTS:
        raise InvalidRequest(f"'input' takes at most {MAX_INPUTS} texts", param="input")
    if any(not text for text in texts):
        raise InvalidRequest("'input' must not contain empty strings", param="input")
    return [text for text in texts if isinstance(text, str)]


def to_batch_embed(request: EmbeddingRequest, model: str) -> BatchEmbedContentsRequest:
    return BatchEmbedContentsRequest(
        requests=[
            EmbedContentRequest(
                model=f"models/{model}",
                content=Content(parts=[Part(text=text)]),
                output_dimensionality=request.dimensions,
            )
            for text in input_texts(request)
        ]
    )


def estimate_tokens(texts: list[str]) -> int:
    # Gemini's embedding answer carries no token count; about four characters make a token.
    return sum(max(1, len(text) // 4) for text in texts)


def to_embedding_list(
    answer: BatchEmbedContentsResponse, request: EmbeddingRequest
) -> EmbeddingList:
    texts = input_texts(request)
    if len(answer.embeddings) != len(texts):
        raise UpstreamError(bad_answer("Gemini returned a different number of embeddings"))
    data = [
        Embedding(index=index, embedding=_encode(item.values, request.encoding_format))
        for index, item in enumerate(answer.embeddings)
    ]
    tokens = estimate_tokens(texts)
    return EmbeddingList(
        data=data,
        model=request.model,
        usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
    )


def _encode(values: list[float], encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        # OpenAI's base64 form: little-endian float32, as its SDKs decode it.
        return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
    return values
