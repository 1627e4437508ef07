"""Property-based tests: whatever a client sends, the answer is a result or a clear 4xx."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini_proxy.app.body import parse_body
from gemini_proxy.errors import ProxyError
from gemini_proxy.generation.schema import sanitize_schema
from gemini_proxy.openai.models import ChatCompletionRequest
from gemini_proxy.openai.translate_request import to_gemini
from gemini_proxy.upstream.sse import SSEDecoder

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
roles = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "x"])
parts = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "input_audio", "file", "refusal", "x"])},
    optional={
        "text": json_values,
        "image_url": json_values,
        "input_audio": json_values,
        "file": json_values,
    },
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": roles},
        optional={
            "content": st.text(max_size=30) | st.lists(parts, max_size=3) | json_values,
            "tool_calls": json_values,
            "tool_call_id": st.text(max_size=10),
            "name": st.text(max_size=10),
        },
    ),
    max_size=5,
)
requests = st.fixed_dictionaries(
    {"model": st.text(max_size=30) | json_values, "messages": messages},
    optional={
        "stream": json_values,
        "temperature": json_values,
        "top_p": json_values,
        "n": json_values,
        "stop": json_values,
        "max_tokens": json_values,
        "tools": json_values,
        "tool_choice": json_values,
        "response_format": json_values,
        "reasoning_effort": json_values,
        "logit_bias": json_values,
    },
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests)
def test_any_request_is_translated_or_refused_with_a_4xx(body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    try:
        request = parse_body(ChatCompletionRequest, raw)
        to_gemini(request, "gemini-3-flash-preview")
    except ProxyError as error:
        assert 400 <= error.status < 500
        assert error.body()["error"]["message"]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_a_clear_400(raw: bytes) -> None:
    try:
        parse_body(ChatCompletionRequest, raw)
    except ProxyError as error:
        assert error.status == 400


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_the_schema_sanitiser_never_fails(schema: Any) -> None:
    cleaned, changes = sanitize_schema(schema)
    assert isinstance(cleaned, dict) and isinstance(changes, list)
    json.dumps(cleaned)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
            max_size=20,
        ),
        max_size=6,
    ),
    st.sampled_from([b"\n", b"\r\n"]),
    st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=50),
)
def test_sse_decoding_does_not_depend_on_how_bytes_are_split(
    payloads: list[str], newline: bytes, sizes: list[int]
) -> None:
    stream = b"".join(b"data: " + p.encode() + newline + newline for p in payloads)
    decoder = SSEDecoder()
    got: list[bytes] = []
    position, index = 0, 0
    while position < len(stream):
        size = sizes[index % len(sizes)]
        got += decoder.feed(stream[position : position + size])
        position += size
        index += 1
    got += decoder.close()
    assert got == [p.encode() for p in payloads]
