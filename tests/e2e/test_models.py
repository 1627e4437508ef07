"""The model catalog end to end: configured models, Gemini's own list, aliases, unknown names."""

import json
from typing import Any

import openai
import pytest
from openai import OpenAI

from tests.e2e.chat_helpers import collect, complete, last_body, stream
from tests.e2e.conftest import ProxyFactory, proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import post_json
from tests.support.openai_schema import validate

HELLO = [{"role": "user", "content": "Hello"}]


def listed(client: OpenAI) -> list[str]:
    raw = client.models.with_raw_response.list()
    body: dict[str, Any] = json.loads(raw.text)
    validate("ListModelsResponse", body)
    assert all(card["owned_by"] == "google" for card in body["data"])
    return [card["id"] for card in body["data"]]


def test_list_has_configured_upstream_and_alias_names(client: OpenAI, fake: FakeGemini) -> None:
    ids = listed(client)
    assert len(ids) == len(set(ids))
    for configured in ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-flash-preview"):
        assert configured in ids
    for upstream in ("gemini-2.0-flash", "gemini-embedding-001", "text-embedding-004"):
        assert upstream in ids  # only in the fake's own list
    for alias in ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small"):
        assert alias in ids
    # Gemini's list is cached: asking again does not ask Gemini again.
    listed(client)
    assert [r["kind"] for r in fake.requests()].count("models") == 1


def test_config_decides_what_is_listed(start_proxy: ProxyFactory, fake: FakeGemini) -> None:
    config = proxy_config(
        fake,
        models=["gemini-2.5-flash"],
        models_from_upstream=False,
        model_aliases={"house-model": "gemini-2.5-flash-lite"},
    )
    proxy = start_proxy(config=config)
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    assert listed(client) == ["gemini-2.5-flash", "house-model"]
    assert fake.requests() == []
    body = complete(client, model="house-model", messages=HELLO)
    assert body["model"] == "house-model"
    assert fake.requests()[-1]["model"] == "gemini-2.5-flash-lite"
    # The default aliases are gone with the configured ones.
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)


def test_an_upstream_list_failure_still_lists_the_configured_models(
    client: OpenAI, fake: FakeGemini
) -> None:
    rule = {"fault": {"type": "internal"}, "kinds": ["models"]}
    assert post_json(f"{fake.url}/_control/faults", rule).status == 200
    ids = listed(client)
    assert "gemini-2.5-flash" in ids and "gpt-4o-mini" in ids
    assert "gemini-2.0-flash" not in ids


def test_retrieve_a_model_and_an_unknown_one(client: OpenAI) -> None:
    raw = client.models.with_raw_response.retrieve("gpt-4o-mini")
    card = json.loads(raw.text)
    validate("Model", card)
    assert card["id"] == "gpt-4o-mini" and card["object"] == "model"
    assert client.models.retrieve("gemini-2.0-flash").id == "gemini-2.0-flash"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gemini-0-nonexistent")
    validate("ErrorResponse", caught.value.response.json())
    assert caught.value.code == "model_not_found"


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_an_alias_answers_with_its_gemini_model(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    # The Gemini model, not the alias, decides the thinking rules: Flash takes a budget.
    request: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": HELLO,
        "reasoning_effort": "low",
    }
    if streamed:
        chunks = stream(client, **request)
        assert {chunk["model"] for chunk in chunks} == {"gpt-4o-mini"}
        assert collect(chunks).content == "Echo: Hello"
    else:
        body = complete(client, **request)
        assert body["model"] == "gpt-4o-mini"
        assert body["choices"][0]["message"]["content"] == "Echo: Hello"
    assert fake.requests()[-1]["model"] == "gemini-2.5-flash"
    thinking = last_body(fake.requests())["generationConfig"]["thinkingConfig"]
    assert thinking == {"thinkingBudget": 1024, "includeThoughts": True}


def test_models_prefix_is_accepted(client: OpenAI, fake: FakeGemini) -> None:
    body = complete(client, model="models/gemini-2.5-flash", messages=HELLO)
    assert body["model"] == "models/gemini-2.5-flash"
    assert fake.requests()[-1]["model"] == "gemini-2.5-flash"


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_unknown_model_is_404_model_not_found(
    client: OpenAI, fake: FakeGemini, streamed: bool
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        if streamed:
            stream(client, model="gemini-0-nonexistent", messages=HELLO)
        else:
            client.chat.completions.create(model="gemini-0-nonexistent", messages=HELLO)
    validate("ErrorResponse", caught.value.response.json())
    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"
    assert len(fake.served_by()) == 1  # the model is missing everywhere: no other key tried
