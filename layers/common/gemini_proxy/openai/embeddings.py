"""OpenAI embeddings request <-> Gemini batchEmbedContents. Pure."""

import base64
import math
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

# OpenAI takes up to 2048 inputs (LangChain sends 1000 at a time); Gemini's
# batchEmbedContents takes 100 per call, so a request becomes several calls.
MAX_INPUTS = 2048
BATCH_SIZE = 100


def input_texts(request: EmbeddingRequest) -> list[str]:
    texts = [request.input] if isinstance(request.input, str) else request.input
    if not texts:
        raise InvalidRequest("'input' must not be empty", param="input")
    if not all(isinstance(text, str) for text in texts):
        # LangChain's OpenAIEmbeddings sends token ids unless told otherwise: name the switch.
        raise InvalidRequest(
            "'input' must be text: Gemini embeds strings, not token arrays. With LangChain, set "
            "check_embedding_ctx_length=False on OpenAIEmbeddings so that it sends text, not "
            "token ids",
            param="input",
        )
    if len(texts) > MAX_INPUTS:
        raise InvalidRequest(f"'input' takes at most {MAX_INPUTS} texts", param="input")
    if any(not text for text in texts):
        raise InvalidRequest("'input' must not contain empty strings", param="input")
    return [text for text in texts if isinstance(text, str)]


def to_batch_embeds(request: EmbeddingRequest, model: str) -> list[BatchEmbedContentsRequest]:
    """The batchEmbedContents calls for this request, at most BATCH_SIZE texts each, in order."""
    texts = input_texts(request)
    return [
        BatchEmbedContentsRequest(
            requests=[
                EmbedContentRequest(
                    model=f"models/{model}",
                    content=Content(parts=[Part(text=text)]),
                    output_dimensionality=request.dimensions,
                )
                for text in texts[start : start + BATCH_SIZE]
            ]
        )
        for start in range(0, len(texts), BATCH_SIZE)
    ]


def estimate_tokens(texts: list[str]) -> int:
    # Gemini's embedding answer carries no token count; about four characters make a token.
    return sum(max(1, len(text) // 4) for text in texts)


def to_embedding_list(
    answers: list[BatchEmbedContentsResponse], request: EmbeddingRequest
) -> EmbeddingList:
    """The answers to `to_batch_embeds`' calls, in the same order, as one OpenAI list."""
    texts = input_texts(request)
    vectors = [item.values for answer in answers for item in answer.embeddings]
    if len(vectors) != len(texts):
        raise UpstreamError(bad_answer("Gemini returned a different number of embeddings"))
    data = [
        Embedding(index=index, embedding=_encode(unit(values), request.encoding_format))
        for index, values in enumerate(vectors)
    ]
    tokens = estimate_tokens(texts)
    return EmbeddingList(
        data=data,
        model=request.model,
        usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
    )


def unit(values: list[float]) -> list[float]:
    """`values` scaled to length 1.

    OpenAI's embeddings are unit vectors and clients take a dot product for cosine similarity;
    Gemini normalises only full-size vectors, not the shorter ones `dimensions` asks for.
    """
    norm = math.sqrt(math.fsum(v * v for v in values))
    return [v / norm for v in values] if norm else values


def _encode(values: list[float], encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        # OpenAI's base64 form: little-endian float32, as its SDKs decode it.
        return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
    return values
