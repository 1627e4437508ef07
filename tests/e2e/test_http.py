"""The HTTP surface with raw requests: what the SDK would never send, and the small endpoints."""

import json

from openai import OpenAI

from tests.e2e.conftest import ProxyFactory
from tests.support.http import call, post_json
from tests.support.openai_schema import validate
from tests.support.servers import ServerThread

CHAT = "/v1/chat/completions"
HELLO = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}


def assert_error(status: int, reply_status: int, body: bytes) -> dict[str, object]:
    assert reply_status == status, body
    payload = json.loads(body)
    validate("ErrorResponse", payload)
    assert b"Traceback" not in body
    error: dict[str, object] = payload["error"]
    return error


def test_malformed_and_invalid_bodies_are_400(proxy: ServerThread) -> None:
    url = proxy.url + CHAT
    headers = {"content-type": "application/json"}
    for body in (b"{not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe\xfa", b"[" * 50_000):
        reply = call("POST", url, body, headers)
        assert_error(400, reply.status, reply.body)
    reply = post_json(url, {"messages": [{"role": "user", "content": "hi"}]})
    assert assert_error(400, reply.status, reply.body)["param"] == "model"
    reply = post_json(url, {**HELLO, "messages": [{"role": "user", "content": 5}]})
    assert assert_error(400, reply.status, reply.body)["param"] == "messages[0].content"
    reply = post_json(url, {**HELLO, "messages": [{"role": "wizard", "content": "hi"}]})
    assert_error(400, reply.status, reply.body)
    reply = post_json(url, {**HELLO, "n": 9})
    assert assert_error(400, reply.status, reply.body)["param"] == "n"
    # The server is still fine afterwards.
    assert post_json(url, HELLO).status == 200


def test_wrong_content_type_is_415(proxy: ServerThread) -> None:
    reply = call(
        "POST", proxy.url + CHAT, json.dumps(HELLO).encode(), {"content-type": "text/plain"}
    )
    assert_error(415, reply.status, reply.body)


def test_body_over_the_cap_is_413(start_proxy: ProxyFactory, fake: object) -> None:
    from tests.e2e.conftest import proxy_config

    config = proxy_config(fake)  # type: ignore[arg-type]
    config = config.model_copy(
        update={"server": config.server.model_copy(update={"max_body_bytes": 1000})}
    )
    proxy = start_proxy(config=config)
    big = {**HELLO, "messages": [{"role": "user", "content": "x" * 2000}]}
    reply = post_json(proxy.url + CHAT, big)
    assert_error(413, reply.status, reply.body)
    assert post_json(proxy.url + CHAT, HELLO).status == 200


def test_unknown_path_and_wrong_method(proxy: ServerThread) -> None:
    reply = call("GET", proxy.url + "/v1/nothing-here")
    assert_error(404, reply.status, reply.body)
    reply = call("GET", proxy.url + CHAT)
    assert_error(405, reply.status, reply.body)


def test_health_reports_credentials(start_proxy: ProxyFactory) -> None:
    loaded = call("GET", start_proxy().url + "/health").json()
    assert loaded["status"] == "ok" and loaded["credentials"]["loaded"] == 3
    empty = call("GET", start_proxy(keys=[]).url + "/health").json()
    assert empty["credentials"]["loaded"] == 0
    assert "ai_studio_keys.txt" in empty["message"]


def test_models_list_and_retrieve(client: OpenAI) -> None:
    raw = client.models.with_raw_response.list()
    validate("ListModelsResponse", json.loads(raw.text))
    ids = [model.id for model in raw.parse().data]
    assert "gemini-2.5-flash" in ids and "gemini-2.5-pro" in ids
    assert client.models.retrieve("gemini-2.5-pro").owned_by == "google"
