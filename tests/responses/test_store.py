"""Stored responses in the state store, the signature carrier, and stored input items."""

import secrets
from typing import Any

import pytest

from gemini_proxy.credentials.models import Credential
from gemini_proxy.generation import signatures
from gemini_proxy.responses import carrier, store
from gemini_proxy.responses.items import parse_items, resources
from gemini_proxy.responses.store import ResponseStore, Stored, TooLarge
from gemini_proxy.state.counting import CountingStore
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.state.sqlite import SqliteStore
from tests.support.openai_schema import validate

pytestmark = pytest.mark.anyio

RESPONSE = {"id": "resp_abc", "object": "response", "model": "m", "output": []}


def sample(context_chars: int = 10) -> Stored:
    return Stored(RESPONSE, [{"type": "message", "role": "user", "content": "x" * context_chars}])


async def test_a_response_round_trips_in_one_query(tmp_path: Any) -> None:
    backend = CountingStore(SqliteStore(str(tmp_path / "state.sqlite3")))
    responses = ResponseStore(backend, ttl_seconds=60)
    await responses.save("resp_abc", sample())
    backend.reset()
    assert await responses.load("resp_abc") == sample()
    assert dict(backend.counts) == {"query": 1}


async def test_large_responses_are_split_under_dynamodbs_item_limit() -> None:
    backend = MemoryStore()
    responses = ResponseStore(backend, ttl_seconds=60)
    # Random text barely compresses: about 1.4 MB stored.
    noisy = Stored(RESPONSE, [{"text": secrets.token_hex(500_000)}])
    await responses.save("resp_big", noisy)
    records = await backend.query("response/resp_big")
    assert len(records) > 3
    assert all(len(str(r.data)) < 350_000 for r in records)
    assert all(r.expires_at is not None for r in records)
    assert await responses.load("resp_big") == noisy


async def test_a_half_written_response_is_not_found() -> None:
    backend = MemoryStore()
    responses = ResponseStore(backend, ttl_seconds=60)
    parts = store.encode(sample())
    await backend.put("response/resp_half", "part-000", {"z": parts[0]}, 0)
    assert await responses.load("resp_half") is None  # no head yet


async def test_delete_and_unknown_or_odd_ids() -> None:
    responses = ResponseStore(MemoryStore(), ttl_seconds=60)
    await responses.save("resp_abc", sample())
    assert await responses.delete("resp_abc")
    assert await responses.load("resp_abc") is None
    assert not await responses.delete("resp_abc")
    assert await responses.load("../../etc") is None
    assert await responses.load("resp_" + "x" * 100) is None


async def test_expired_responses_are_gone() -> None:
    responses = ResponseStore(MemoryStore(), ttl_seconds=0.000001)
    await responses.save("resp_abc", sample())
    assert await responses.load("resp_abc") is None


def test_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "MAX_PARTS", 1)
    monkeypatch.setattr(store, "PART_CHARS", 10)
    with pytest.raises(TooLarge):
        store.encode(sample(1000))


# --- the carrier ------------------------------------------------------------------------------


SIGNER = signatures.Signer(Credential("ai_studio", "unit-key"), "gemini-3-flash-preview")


def test_the_carrier_round_trips_bound_tokens_only() -> None:
    carried = carrier.Carried(SIGNER.bind("VA=="), {"call_1": SIGNER.bind("Qw==")})
    sealed = carrier.seal(carried)
    assert sealed.startswith(carrier.PREFIX)
    assert carrier.unseal(sealed) == carried
    assert carrier.unseal("gAAAAABopenai-encrypted") is None
    assert carrier.unseal(carrier.PREFIX + "!!!") is None
    raw = carrier.Carried(None, {"call_1": "UmF3R29vZ2xl"})  # not bound: never accepted
    assert carrier.unseal(carrier.seal(raw)) is None
    assert carrier.call_key("call_1.ts.gts1_abc") == "call_1"


# --- stored input items ----------------------------------------------------------------------


def test_stored_items_have_openais_resource_shape_and_parse_back() -> None:
    items = parse_items(
        [
            {"role": "user", "content": "plain"},
            {"role": "assistant", "content": "said"},
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_image", "image_url": "https://x.example/a.png"}],
            },
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c", "output": "ok"},
            {"type": "reasoning", "summary": [], "encrypted_content": "gprs1.x"},
            {"type": "web_search_call", "id": "ws_1"},
        ]
    )
    listed = resources(items)
    assert len(listed) == 6  # the web search record is not kept
    page = {"object": "list", "data": listed, "first_id": "a", "last_id": "b", "has_more": False}
    validate("ResponseItemList", page)
    assert all(item["id"] for item in listed)
    assert listed[1]["content"] == [
        {"type": "output_text", "text": "said", "annotations": [], "logprobs": []}
    ]
    assert resources(parse_items(listed)) == listed  # stable once ids are given


async def test_large_responses_fit_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    from gemini_proxy.state.dynamodb import DynamoStore

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        backend = DynamoStore("responses-test", region="us-east-1")
        backend.ensure_table()
        noisy = Stored(RESPONSE, [{"text": secrets.token_hex(400_000)}], owner="key:abc")
        with pytest.raises(Exception, match="size"):  # one item of it all would not fit
            await backend.put("whole", "one", {"z": store.encode(noisy)[0] * 4}, 0)
        responses = ResponseStore(backend, ttl_seconds=60)
        await responses.save("resp_big", noisy)
        assert await responses.load("resp_big", "key:abc") == noisy
        assert await responses.load("resp_big", "key:other") is None
        await backend.close()
