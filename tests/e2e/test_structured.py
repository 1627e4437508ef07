"""Structured output and web search end to end.

The fake answers JSON mode with `{"echo": <prompt>}` or a value sampled from the response schema,
and Google Search grounding with two web sources supporting the whole answer.
"""

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openai import OpenAI

from gemini_proxy.config import ReasoningConfig
from tests.e2e.chat_helpers import collect, complete, last_body, stream
from tests.e2e.conftest import ProxyFactory, proxy_config
from tests.support.fake import FakeGemini

PROMPT = [{"role": "user", "content": "Describe Lisbon"}]
CITY_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "population": {"type": "integer"},
        "landmarks": {"type": "array", "items": {"type": "string"}},
        "coastal": {"type": "boolean"},
    },
    "required": ["name", "population", "landmarks", "coastal"],
    "additionalProperties": False,
}


def content_of(client: OpenAI, streamed: bool, **request: Any) -> str:
    if streamed:
        got = collect(stream(client, **request))
        assert got.finish_reasons == ["stop"]
        return got.content
    choice = complete(client, **request)["choices"][0]
    assert choice["finish_reason"] == "stop"
    content: str = choice["message"]["content"]
    return content


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_json_object_sets_the_json_mime_type(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    content = content_of(
        client,
        streamed,
        model="gemini-2.5-flash",
        messages=PROMPT,
        response_format={"type": "json_object"},
    )
    assert json.loads(content) == {"echo": "Describe Lisbon"}
    config = last_body(fake.requests())["generationConfig"]
    assert config == {"responseMimeType": "application/json"}


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_json_schema_is_sent_as_response_json_schema(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    content = content_of(
        client,
        streamed,
        model="gemini-2.5-flash",
        messages=PROMPT,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "strict": True, "schema": CITY_SCHEMA},
        },
    )
    value = json.loads(content)
    Draft202012Validator(CITY_SCHEMA).validate(value)
    assert value["name"] == "Describe Lisbon"  # the fake fills strings with the prompt
    config = last_body(fake.requests())["generationConfig"]
    assert config == {"responseMimeType": "application/json", "responseJsonSchema": CITY_SCHEMA}


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_web_search_grounding_becomes_url_citations(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    # Non-ASCII text: Gemini counts UTF-8 bytes, OpenAI clients count characters.
    messages = [{"role": "user", "content": "Previsão do tempo em Lisboa ☀ amanhã?"}]
    request: dict[str, Any] = {
        "model": "gemini-2.5-flash",
        "messages": messages,
        "web_search_options": {"search_context_size": "low"},
    }
    if streamed:
        got = collect(stream(client, **request))
        content, annotations = got.content, got.annotations
    else:
        message = complete(client, **request)["choices"][0]["message"]
        content, annotations = message["content"], message["annotations"]
    assert content == "Echo: Previsão do tempo em Lisboa ☀ amanhã?"
    assert last_body(fake.requests())["tools"] == [{"googleSearch": {}}]
    assert [a["type"] for a in annotations] == ["url_citation", "url_citation"]
    citations = [a["url_citation"] for a in annotations]
    assert [c["title"] for c in citations] == ["example.com", "wikipedia.org"]
    for citation in citations:
        assert citation["url"].startswith("https://vertexaisearch.cloud.google.com/")
        assert citation["start_index"] == 0
        assert citation["end_index"] == len(content)  # characters, not UTF-8 bytes
        assert content[citation["start_index"] : citation["end_index"]] == content


def test_without_web_search_there_are_no_annotations(client: OpenAI, fake: FakeGemini) -> None:
    message = complete(client, model="gemini-2.5-flash", messages=PROMPT)["choices"][0]["message"]
    assert "annotations" not in message
    assert "tools" not in last_body(fake.requests())


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_citations_index_the_content_after_a_think_block(
    start_proxy: ProxyFactory, fake: FakeGemini, streamed: bool
) -> None:
    proxy = start_proxy(config=proxy_config(fake, reasoning=ReasoningConfig(think_tags=True)))
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    request: dict[str, Any] = {
        "model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": "Previsão para amanhã?"}],
        "web_search_options": {},
        "reasoning_effort": "low",
    }
    if streamed:
        got = collect(stream(client, **request))
        content, annotations = got.content, got.annotations
    else:
        message = complete(client, **request)["choices"][0]["message"]
        content, annotations = message["content"], message["annotations"]
    assert content.startswith("<think>") and content.endswith(
        "</think>\nEcho: Previsão para amanhã?"
    )
    assert len(annotations) == 2
    for note in annotations:
        cited = note["url_citation"]
        assert content[cited["start_index"] : cited["end_index"]] == "Echo: Previsão para amanhã?"


SCHEMA_REFUSAL = {
    "type": "raw",
    "status": 400,
    "body": {
        "error": {
            "code": 400,
            "message": 'Invalid JSON payload received. Unknown name "response_json_schema" at '
            "'generation_config': Cannot find field.",
            "status": "INVALID_ARGUMENT",
        }
    },
}


@pytest.mark.parametrize("stream", [False, True])
def test_json_schema_falls_back_to_a_sanitised_response_schema(
    start_proxy: ProxyFactory, fake: FakeGemini, stream: bool
) -> None:
    proxy = start_proxy(keys=["fallback-schema-key"])
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    fake.fault(SCHEMA_REFUSAL, times=1)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "c", "schema": schema}}
    messages = [{"role": "user", "content": "Lisbon"}]
    if stream:
        chunks = list(
            client.chat.completions.create(
                model="gemini-2.5-flash",
                messages=messages,
                stream=True,
                response_format=response_format,  # type: ignore[arg-type]
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        text = (
            client.chat.completions.create(
                model="gemini-2.5-flash",
                messages=messages,
                response_format=response_format,  # type: ignore[arg-type]
            )
            .choices[0]
            .message.content
            or ""
        )
    assert "city" in json.loads(text)
    sent = [
        r["body"]["generationConfig"]
        for r in fake.requests()
        if r["kind"] in ("generate", "stream")
    ]
    assert len(sent) == 2
    assert "responseJsonSchema" in sent[0] and "responseSchema" not in sent[0]
    assert "responseJsonSchema" not in sent[1]
    assert sent[1]["responseSchema"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
