"""What the proxy checks in a Gemini body: a JSON object, contents where needed; nothing else
is touched."""

import json

import pytest

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.gemini.request import (
    count_tokens_body,
    embed_body,
    generate_body,
    json_object,
)

HELLO = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


@pytest.mark.parametrize("body", [b"", b"  ", b"{", b"[]", b'"text"', b"null", b"{'a': 1}"])
def test_anything_but_a_json_object_is_a_400(body: bytes) -> None:
    with pytest.raises(InvalidRequest) as caught:
        json_object(body)
    assert "JSON" in caught.value.message


def test_nothing_may_follow_the_object() -> None:
    # The envelope splices the body in: trailing fields would become the envelope's own.
    smuggled = b'{"contents": [{"parts": [{"text": "hi"}]}]}, "project": "someone-elses"'
    with pytest.raises(InvalidRequest):
        generate_body(smuggled)
    with pytest.raises(InvalidRequest):
        count_tokens_body(smuggled)
    assert generate_body(b' {"contents": [{}]}\r\n') == b' {"contents": [{}]}\r\n'


def test_a_generate_body_goes_on_byte_for_byte() -> None:
    # Fields the proxy has no model for (tomorrow's features) and its own spacing survive.
    body = b'{"contents":[{"parts":[{"text":"hi"}]}],  "futureField": {"x": [1, 2.50]}}'
    assert generate_body(body) is body


@pytest.mark.parametrize(
    "request_body",
    [{}, {"contents": []}, {"contents": "hi"}, {"contents": None}, {"systemInstruction": {}}],
)
def test_generation_needs_contents(request_body: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest) as caught:
        generate_body(json.dumps(request_body).encode())
    assert caught.value.param == "contents"


def test_count_tokens_takes_contents_or_a_whole_generate_request() -> None:
    plain = json.dumps(HELLO).encode()
    assert count_tokens_body(plain) is plain
    inner = {**HELLO, "model": "models/x", "systemInstruction": {"parts": [{"text": "s"}]}}
    wrapped = json.dumps({"generateContentRequest": inner}).encode()
    assert json.loads(count_tokens_body(wrapped)) == inner
    with pytest.raises(InvalidRequest) as caught:
        count_tokens_body(b'{"generateContentRequest": {"contents": []}}')
    assert caught.value.param == "generateContentRequest.contents"


def test_embeddings_are_unchanged_unless_an_alias_named_the_model() -> None:
    batch = {"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": []}}]}
    body = json.dumps(batch).encode()
    assert embed_body(body, "gemini-embedding-001", "gemini-embedding-001") is body
    assert embed_body(body, "models/gemini-embedding-001", "gemini-embedding-001") is body


def test_an_alias_in_the_body_is_renamed_with_the_url() -> None:
    batch = {
        "requests": [
            {"model": "models/my-embedder", "content": {"parts": [{"text": "a"}]}},
            {"model": "my-embedder", "content": {"parts": [{"text": "b"}]}},
            {"model": "models/other", "content": {"parts": [{"text": "c"}]}},
        ]
    }
    sent = json.loads(embed_body(json.dumps(batch).encode(), "my-embedder", "gemini-embedding-001"))
    assert [r["model"] for r in sent["requests"]] == [
        "models/gemini-embedding-001",
        "models/gemini-embedding-001",
        "models/other",  # not the alias: Google says what is wrong with it
    ]
    single = {"model": "models/my-embedder", "content": {"parts": [{"text": "a"}]}}
    renamed = json.loads(
        embed_body(json.dumps(single).encode(), "my-embedder", "text-embedding-004")
    )
    assert renamed["model"] == "models/text-embedding-004"
