"""POST /v1/embeddings end to end, through AI Studio's batchEmbedContents.

The fake's vectors are unit vectors hashed from the text: equal texts, equal vectors.
"""

import base64
import json
import math
import struct
from typing import Any

import openai
import pytest
from openai import OpenAI

from gemini_proxy.fake_gemini.embeddings import vector
from tests.e2e.chat_helpers import last_body
from tests.support.fake import FakeGemini
from tests.support.openai_schema import validate


def embed_raw(client: OpenAI, **request: Any) -> dict[str, Any]:
    raw = client.embeddings.with_raw_response.create(**request)
    body: dict[str, Any] = json.loads(raw.text)
    return body


def decode(encoded: str) -> list[float]:
    data = base64.b64decode(encoded)
    return list(struct.unpack(f"<{len(data) // 4}f", data))


def test_one_string(client: OpenAI, fake: FakeGemini) -> None:
    body = embed_raw(
        client, model="gemini-embedding-001", input="hello world", encoding_format="float"
    )
    validate("CreateEmbeddingResponse", body)
    assert body["model"] == "gemini-embedding-001"
    [item] = body["data"]
    assert item["index"] == 0 and item["object"] == "embedding"
    assert item["embedding"] == pytest.approx(vector("hello world", 3072))
    assert math.isclose(math.fsum(v * v for v in item["embedding"]), 1.0, rel_tol=1e-6)
    assert body["usage"]["prompt_tokens"] > 0
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"]
    sent = fake.requests()[-1]
    assert sent["kind"] == "batch_embed"
    assert sent["body"] == {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "hello world"}]},
            }
        ]
    }


def test_a_list_with_dimensions_and_an_alias(client: OpenAI, fake: FakeGemini) -> None:
    texts = ["first text", "second text", "first text"]
    body = embed_raw(
        client, model="text-embedding-3-small", input=texts, dimensions=256, encoding_format="float"
    )
    validate("CreateEmbeddingResponse", body)
    assert body["model"] == "text-embedding-3-small"  # echoed as asked
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    vectors = [item["embedding"] for item in body["data"]]
    assert all(len(v) == 256 for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert vectors[1] == pytest.approx(vector("second text", 256))
    sent = last_body(fake.requests(), "batch_embed")
    assert [r["outputDimensionality"] for r in sent["requests"]] == [256, 256, 256]
    assert {r["model"] for r in sent["requests"]} == {"models/gemini-embedding-001"}
    assert fake.requests()[-1]["model"] == "gemini-embedding-001"


def test_base64_is_little_endian_float32_of_the_float_form(client: OpenAI) -> None:
    texts = ["alpha", "beta"]
    floats = embed_raw(
        client, model="gemini-embedding-001", input=texts, dimensions=64, encoding_format="float"
    )
    encoded = embed_raw(
        client, model="gemini-embedding-001", input=texts, dimensions=64, encoding_format="base64"
    )
    assert all(isinstance(item["embedding"], str) for item in encoded["data"])
    decoded = [decode(item["embedding"]) for item in encoded["data"]]
    for got, want in zip(decoded, (item["embedding"] for item in floats["data"]), strict=True):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-7)
    # OpenAI's schema only knows the float form; the decoded answer must fit it.
    validate(
        "CreateEmbeddingResponse",
        {
            **encoded,
            "data": [
                {**item, "embedding": d} for item, d in zip(encoded["data"], decoded, strict=True)
            ],
        },
    )
    # The SDK's own default (base64, decoded for you) gives the same numbers.
    via_sdk = client.embeddings.create(model="gemini-embedding-001", input=texts, dimensions=64)
    assert via_sdk.data[1].embedding == pytest.approx(floats["data"][1]["embedding"], abs=1e-7)


@pytest.mark.parametrize(
    ("request_input", "param"),
    [([1, 2, 3], "input"), ([[1, 2], [3]], "input"), ([], "input"), (["ok", ""], "input")],
)
def test_token_arrays_and_empty_input_are_400(
    client: OpenAI, fake: FakeGemini, request_input: Any, param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="gemini-embedding-001", input=request_input)
    assert caught.value.param == param
    validate("ErrorResponse", caught.value.response.json())
    assert fake.requests() == []


def test_a_dimension_gemini_cannot_give_is_its_400(client: OpenAI, fake: FakeGemini) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="gemini-embedding-001", input="x", dimensions=5000)
    validate("ErrorResponse", caught.value.response.json())
    assert "dimensionality" in caught.value.message.lower()
    assert len(fake.requests()) == 1  # the request's fault: no other key tried


def test_more_than_100_inputs_go_in_batches_of_100_in_order(
    client: OpenAI, fake: FakeGemini
) -> None:
    texts = [f"text number {n}" for n in range(250)]
    body = embed_raw(
        client, model="gemini-embedding-001", input=texts, dimensions=8, encoding_format="float"
    )
    validate("CreateEmbeddingResponse", body)
    assert [item["index"] for item in body["data"]] == list(range(250))
    for n in (0, 99, 100, 249):
        assert body["data"][n]["embedding"] == pytest.approx(vector(texts[n], 8))
    calls = [r["body"]["requests"] for r in fake.requests() if r["kind"] == "batch_embed"]
    assert [len(call) for call in calls] == [100, 100, 50]
    sent = [r["content"]["parts"][0]["text"] for call in calls for r in call]
    assert sent == texts
    assert len({r["credential"] for r in fake.requests()}) == 1  # one credential for all


def test_more_than_openais_2048_inputs_is_400(client: OpenAI, fake: FakeGemini) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="gemini-embedding-001", input=["x"] * 2049)
    assert caught.value.param == "input" and "2048" in caught.value.message
    assert fake.requests() == []
