"""OpenAI embeddings <-> Gemini batchEmbedContents: batching, unit vectors, base64. Pure."""

import base64
import math
import struct
from typing import Any

import pytest

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.openai.embeddings import (
    BATCH_SIZE,
    MAX_INPUTS,
    to_batch_embeds,
    to_embedding_list,
    unit,
)
from gemini_proxy.openai.models import EmbeddingRequest
from gemini_proxy.upstream.classify import UpstreamError
from gemini_proxy.upstream.wire import BatchEmbedContentsResponse


def request(**fields: Any) -> EmbeddingRequest:
    return EmbeddingRequest.model_validate({"model": "gemini-embedding-001", **fields})


def answer(*vectors: list[float]) -> BatchEmbedContentsResponse:
    return BatchEmbedContentsResponse.model_validate(
        {"embeddings": [{"values": v} for v in vectors]}
    )


def test_one_text_is_one_call_with_the_model_and_dimensions() -> None:
    [batch] = to_batch_embeds(request(input="hi", dimensions=256), "gemini-embedding-001")
    assert batch.to_wire() == {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "hi"}]},
                "outputDimensionality": 256,
            }
        ]
    }


def test_many_texts_are_split_into_calls_of_at_most_100_in_order() -> None:
    texts = [f"t{n}" for n in range(2 * BATCH_SIZE + 1)]
    batches = to_batch_embeds(request(input=texts), "m")
    assert [len(b.requests) for b in batches] == [BATCH_SIZE, BATCH_SIZE, 1]
    flat = [r.content.parts[0].text for b in batches for r in b.requests]
    assert flat == texts


@pytest.mark.parametrize(
    "bad", [[1, 2, 3], [[1, 2]], [], ["a", ""], ["x"] * (MAX_INPUTS + 1)], ids=str
)
def test_inputs_gemini_cannot_embed_are_400(bad: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        to_batch_embeds(request(input=bad), "m")
    assert caught.value.param == "input"


@pytest.mark.parametrize("tokens", [[1, 2, 3], [[15339, 1917], [9906]]], ids=["one", "many"])
def test_token_arrays_are_400_naming_the_langchain_fix(tokens: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        to_batch_embeds(request(input=tokens), "m")
    assert caught.value.param == "input"
    assert "not token arrays" in caught.value.message
    assert "check_embedding_ctx_length=False" in caught.value.message
    assert "OpenAIEmbeddings" in caught.value.message


def test_vectors_come_back_as_unit_vectors_across_batches() -> None:
    # Gemini normalises only full-size vectors; shortened ones come back longer than 1.
    result = to_embedding_list([answer([3.0, 4.0]), answer([0.0, 2.0])], request(input=["a", "b"]))
    assert [item.embedding for item in result.data] == [[0.6, 0.8], [0.0, 1.0]]
    assert [item.index for item in result.data] == [0, 1]
    assert result.model == "gemini-embedding-001"
    assert result.usage.prompt_tokens == result.usage.total_tokens > 0


def test_base64_is_little_endian_float32() -> None:
    result = to_embedding_list([answer([3.0, 4.0])], request(input="a", encoding_format="base64"))
    encoded = result.data[0].embedding
    assert isinstance(encoded, str)
    assert struct.unpack("<2f", base64.b64decode(encoded)) == pytest.approx((0.6, 0.8))


def test_a_zero_vector_stays_zero() -> None:
    assert unit([0.0, 0.0]) == [0.0, 0.0]
    assert math.isclose(math.fsum(v * v for v in unit([1.0, 2.0, 2.0])), 1.0)


def test_a_missing_embedding_is_a_bad_answer() -> None:
    with pytest.raises(UpstreamError):
        to_embedding_list([answer([1.0])], request(input=["a", "b"]))
