"""Stored responses end to end: `store`, `previous_response_id` (also across two `gemini-proxy
serve` processes sharing one SQLite state), GET, DELETE, input items, input token counts."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from gemini_proxy.app.factory import create_app
from gemini_proxy.credentials.models import Credential
from gemini_proxy.generation import signatures
from gemini_proxy.state.counting import CountingStore
from gemini_proxy.state.memory import MemoryStore
from tests.e2e.conftest import KEYS, ProxyFactory, proxy_config
from tests.responses.sdk import create, events, final, last_body, output_text
from tests.support.fake import FakeGemini
from tests.support.http import call
from tests.support.openai_schema import validate
from tests.support.processes import start_serve, wait_healthy
from tests.support.servers import ServerThread

FLASH = "gemini-2.5-flash"
G3 = "gemini-3-flash-preview"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": False,
}


def sdk(url: str) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key="not-checked", max_retries=0, timeout=30)


def test_a_stored_response_can_be_read_listed_and_deleted(client: OpenAI) -> None:
    body = create(
        client,
        model=FLASH,
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Remember me"}]}],
    )
    assert body["store"] is True
    got = client.responses.with_raw_response.retrieve(body["id"])
    assert json.loads(got.text) == body

    listed = json.loads(client.responses.input_items.with_raw_response.list(body["id"]).text)
    validate("ResponseItemList", listed)
    [item] = listed["data"]
    assert item["role"] == "user" and item["content"] == [
        {"type": "input_text", "text": "Remember me"}
    ]
    assert listed["first_id"] == listed["last_id"] == item["id"] and not listed["has_more"]

    client.responses.delete(body["id"])
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.retrieve(body["id"])
    validate("ErrorResponse", caught.value.response.json())
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(body["id"])


def test_a_streamed_response_is_stored_before_it_completes(client: OpenAI) -> None:
    found = events(client, model=FLASH, input="Stream and keep")
    response = final(found)
    assert client.responses.retrieve(response["id"]).output_text == "Echo: Stream and keep"


def test_previous_response_id_continues_the_conversation(client: OpenAI, fake: FakeGemini) -> None:
    first = create(client, model=FLASH, instructions="Old rules.", input="My name is Ada.")
    second = create(
        client,
        model=FLASH,
        instructions="New rules.",
        previous_response_id=first["id"],
        input="What is my name?",
    )
    assert second["previous_response_id"] == first["id"]
    sent = last_body(fake.requests())
    assert [(c["role"], c["parts"][0]["text"]) for c in sent["contents"]] == [
        ("user", "My name is Ada."),
        ("model", "Echo: My name is Ada."),
        ("user", "What is my name?"),
    ]
    # Instructions are not carried over (as OpenAI).
    assert sent["systemInstruction"] == {"parts": [{"text": "New rules."}]}
    listed = client.responses.input_items.list(second["id"], order="asc")
    assert [item.type for item in listed.data] == ["message", "message", "message"]
    page = client.responses.input_items.list(second["id"], limit=2)
    assert len(page.data) == 2 and page.has_more


def test_a_tool_loop_with_previous_response_id_on_gemini_3(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    client = sdk(start_proxy(keys=KEYS[:1]).url)
    first = create(client, model=G3, input="call:get_weather", tools=[WEATHER])
    [call_item] = first["output"]
    second = create(
        client,
        model=G3,
        previous_response_id=first["id"],
        tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call_item["call_id"], "output": "fog"}],
    )
    assert output_text(second) == 'Results: get_weather={"result":"fog"}'
    signature = last_body(fake.requests())["contents"][1]["parts"][0]["thoughtSignature"]
    assert signature != signatures.SKIP and fake.requests()[-1]["status"] == 200


def test_an_unknown_previous_response_is_a_404_naming_the_parameter(
    client: OpenAI, fake: FakeGemini
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=FLASH, input="Hi", previous_response_id="resp_missing")
    error = caught.value.response.json()
    validate("ErrorResponse", error)
    assert error["error"]["param"] == "previous_response_id"
    assert "resp_missing" in error["error"]["message"]
    assert fake.served_by() == []


def test_store_false_persists_nothing_and_touches_no_store(fake: FakeGemini) -> None:
    store = CountingStore(MemoryStore())
    app = create_app(proxy_config(fake), [Credential("ai_studio", KEYS[0])], [], store)
    with ServerThread(app) as proxy:
        client = sdk(proxy.url)
        create(client, model=FLASH, input="warm up", store=False)  # the pool's first look
        store.reset()
        body = create(client, model=FLASH, input="Forget me", store=False)
        final(events(client, model=FLASH, input="Forget me too", store=False))
        assert store.total == 0
        assert body["store"] is False
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(body["id"])


def test_input_tokens_counts_with_gemini(client: OpenAI, fake: FakeGemini) -> None:
    raw = client.post(
        "/responses/input_tokens",
        body={"model": FLASH, "input": "Count these words", "instructions": "Be brief."},
        cast_to=object,
    )
    validate("TokenCountsResource", raw)
    assert raw["object"] == "response.input_tokens" and raw["input_tokens"] > 0  # type: ignore[index]
    counted = [r for r in fake.requests() if r["kind"] == "count_tokens"]
    assert counted[-1]["body"]["generateContentRequest"]["contents"] == [
        {"role": "user", "parts": [{"text": "Count these words"}]}
    ]


def test_cancel_is_refused_for_a_foreground_response(client: OpenAI) -> None:
    body = create(client, model=FLASH, input="Done already")
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(body["id"])


# --- two processes, one SQLite state ----------------------------------------------------------


@pytest.fixture
def two_servers(tmp_path: Path, fake: FakeGemini) -> Iterator[tuple[str, str]]:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "ai_studio_keys.txt").write_text(KEYS[0] + "\n")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"upstream: {{ai_studio_base_url: '{fake.url}', code_assist_base_url: '{fake.url}', "
        f"oauth_token_url: '{fake.url}/token'}}\n"
        f"state: {{backend: sqlite, sqlite_path: '{tmp_path / 'state.sqlite3'}'}}\n"
        "models_from_upstream: false\n"
    )
    env = {**os.environ, "GEMINI_PROXY_API_KEYS": "client-key"}
    args = ["--config", str(config), "--creds-dir", str(creds)]
    started = [start_serve(args, tmp_path, env) for _ in range(2)]
    try:
        for url, process in started:
            wait_healthy(url, process)
        yield started[0][0], started[1][0]
    finally:
        for _, process in started:
            process.terminate()
            process.wait(timeout=10)


def test_previous_response_id_works_across_two_processes(
    two_servers: tuple[str, str], fake: FakeGemini
) -> None:
    one, two = (
        OpenAI(base_url=f"{url}/v1", api_key="client-key", max_retries=0, timeout=30)
        for url in two_servers
    )
    first = create(one, model=G3, input="call:get_weather", tools=[WEATHER])
    [call_item] = first["output"]
    output: dict[str, Any] = {
        "type": "function_call_output",
        "call_id": call_item["call_id"],
        "output": "snow",
    }
    second = create(
        two, model=G3, previous_response_id=first["id"], input=[output], tools=[WEATHER]
    )
    assert output_text(second) == 'Results: get_weather={"result":"snow"}'
    # The second process sent Google the signature the first one received.
    signature = last_body(fake.requests())["contents"][1]["parts"][0]["thoughtSignature"]
    assert signature != signatures.SKIP and fake.requests()[-1]["status"] == 200
    assert two.responses.retrieve(first["id"]).id == first["id"]
    reply = call("GET", f"{two_servers[1]}/v1/responses/{second['id']}", timeout=5)
    assert reply.status == 401  # the stored answer still needs a client key


def test_a_stored_response_belongs_to_the_client_key_that_made_it(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    proxy = start_proxy(client_keys=["key-of-ann", "key-of-bob"])
    ann, bob = (
        OpenAI(base_url=f"{proxy.url}/v1", api_key=key, max_retries=0, timeout=30)
        for key in ("key-of-ann", "key-of-bob")
    )
    body = create(ann, model=FLASH, input="Ann's secret plan")
    assert ann.responses.retrieve(body["id"]).id == body["id"]
    with pytest.raises(openai.NotFoundError):
        bob.responses.retrieve(body["id"])
    with pytest.raises(openai.NotFoundError):
        bob.responses.input_items.list(body["id"])
    with pytest.raises(openai.NotFoundError):
        bob.responses.create(model=FLASH, input="And?", previous_response_id=body["id"])
    with pytest.raises(openai.NotFoundError):
        bob.responses.delete(body["id"])
    assert ann.responses.retrieve(body["id"]).output_text == "Echo: Ann's secret plan"
