"""The edge through a real server: request ids, one log line per request, client keys wherever
each dialect's clients send them, limits only after authentication, hostile model names."""

import json
import secrets
import time
from collections.abc import Iterator

import pytest
from openai import OpenAI

from gemini_proxy.app.factory import create_app
from gemini_proxy.credentials.models import Credential
from gemini_proxy.pool.pool import MAX_CACHED_MODELS
from tests.e2e.conftest import KEYS, proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import call, post_json
from tests.support.openai_schema import validate
from tests.support.servers import ServerThread

CLIENT_KEY = "sk-edge-client-key-0123456789"
AUTH = {"authorization": f"Bearer {CLIENT_KEY}"}
CHAT = "/v1/chat/completions"


def hello(model: str = "gemini-2.5-flash") -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def served(fake: FakeGemini) -> Iterator[tuple[ServerThread, object]]:
    config = proxy_config(fake, limits={"requests_per_minute": 1000}, metrics={"enabled": True})
    app = create_app(config, [Credential("ai_studio", key) for key in KEYS], [CLIENT_KEY])
    with ServerThread(app) as server:
        yield server, app


FIELDS = ("request_id", "status", "credential", "client", "path", "error")


def log_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The request lines, with the structured fields the JSON log line carries."""
    return [
        {name: getattr(record, name, None) for name in FIELDS}
        for record in caplog.records
        if record.getMessage() == "request"
    ]


def test_every_answer_has_a_request_id_and_a_log_line(
    served: tuple[ServerThread, object], caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = served
    caplog.set_level("INFO", logger="gemini-proxy")
    replies = {
        "ok": post_json(server.url + CHAT, hello(), AUTH),
        "models": call("GET", server.url + "/v1/models", headers=AUTH),
        "not_found": call("GET", server.url + "/v1/nowhere", headers=AUTH),
        "wrong_method": call("GET", server.url + CHAT, headers=AUTH),
        "no_key": post_json(server.url + CHAT, hello()),
        "health": call("GET", server.url + "/health"),
    }
    statuses = {name: reply.status for name, reply in replies.items()}
    assert statuses == {
        "ok": 200,
        "models": 200,
        "not_found": 404,
        "wrong_method": 405,
        "no_key": 401,
        "health": 200,
    }
    ids = [reply.headers.get("x-request-id", "") for reply in replies.values()]
    assert all(i.startswith("req_") for i in ids) and len(set(ids)) == len(ids)
    for name in ("not_found", "wrong_method", "no_key"):
        validate("ErrorResponse", replies[name].json())
    # The line is written once the answer has gone out: give the server a moment.
    deadline = time.monotonic() + 5
    while True:
        logged = {line["request_id"]: line for line in log_lines(caplog)}
        if set(ids) <= set(logged) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert set(ids) <= set(logged), "a request left no log line"
    for reply in replies.values():
        line = logged[reply.headers["x-request-id"]]
        assert line["status"] == reply.status
    assert logged[replies["ok"].headers["x-request-id"]]["credential"]
    # The verified client is named by its key's fingerprint, never the key.
    assert CLIENT_KEY not in json.dumps(list(logged.values()))


@pytest.mark.parametrize(
    "where", ["bearer", "x-api-key", "x-goog-api-key", "query"], ids=lambda w: w
)
def test_the_client_key_is_read_wherever_dialects_put_it(
    served: tuple[ServerThread, object], where: str
) -> None:
    server, _ = served
    headers = {
        "bearer": {"authorization": f"Bearer {CLIENT_KEY}"},
        "x-api-key": {"x-api-key": CLIENT_KEY},
        "x-goog-api-key": {"x-goog-api-key": CLIENT_KEY},
        "query": {},
    }[where]
    url = server.url + CHAT + (f"?key={CLIENT_KEY}" if where == "query" else "")
    assert post_json(url, hello(), headers).status == 200
    wrong = {name: value.replace(CLIENT_KEY, "sk-wrong") for name, value in headers.items()}
    wrong_url = url.replace(CLIENT_KEY, "sk-wrong")
    assert post_json(wrong_url, hello(), wrong).status == 401


def test_random_keys_get_401_and_create_no_limit_state(
    served: tuple[ServerThread, object], fake: FakeGemini
) -> None:
    server, app = served
    limits = app.state.services.limits  # type: ignore[attr-defined]
    for _ in range(200):
        guess = {"authorization": f"Bearer sk-{secrets.token_hex(8)}"}
        reply = post_json(server.url + CHAT, hello(), guess)
        assert reply.status == 401
    assert limits.tracked_clients() == 0
    assert fake.requests() == []
    # The real key still has its whole budget.
    assert post_json(server.url + CHAT, hello(), AUTH).status == 200
    assert limits.tracked_clients() == 1


HOSTILE_MODELS = [
    "../../v1beta/cachedContents?",
    "gemini-2.5-flash/../../files",
    "models/../../v1beta/files",
    "%2e%2e%2fcachedContents",
    "gemini-2.5-flash%2F..%2Ffiles",
    "gemini-2.5-flash?alt=json",
    "gemini-2.5-flash#fragment",
    "gemini-2.5-flash:generateContent",
    "gemini\r\nHost: evil.example",
    "gemini 2.5",
    "",
    "x" * 300,
]


@pytest.mark.parametrize("path", [CHAT, "/v1/embeddings"])
def test_hostile_model_names_never_reach_gemini(
    served: tuple[ServerThread, object], fake: FakeGemini, path: str
) -> None:
    server, _ = served
    for model in HOSTILE_MODELS:
        body = hello(model) if path == CHAT else {"model": model, "input": "hi"}
        reply = post_json(server.url + path, body, AUTH)
        assert reply.status == 400, (model, reply.body)
        error = reply.json()["error"]
        assert error["param"] == "model", error
    assert fake.requests() == [], "a hostile name reached the upstream"


def test_invented_model_names_leave_no_trace(
    served: tuple[ServerThread, object], fake: FakeGemini
) -> None:
    server, app = served
    client = OpenAI(base_url=f"{server.url}/v1", api_key=CLIENT_KEY, max_retries=0)
    names = [f"invented-{secrets.token_hex(4)}" for _ in range(MAX_CACHED_MODELS + 60)]
    for name in names:
        reply = post_json(server.url + CHAT, hello(name), AUTH)
        assert reply.status == 404, reply.body
    client.chat.completions.create(**hello())  # type: ignore[call-overload]
    admin = call("GET", server.url + "/admin/credentials", headers=AUTH).body.decode()
    metrics = call("GET", server.url + "/metrics", headers=AUTH).body.decode()
    assert not any(name in admin or name in metrics for name in names)
    assert 'model="unknown"' in metrics and 'model="gemini-2.5-flash"' in metrics
    pool = app.state.services.orchestrator.pool  # type: ignore[attr-defined]
    assert len(pool._views) <= MAX_CACHED_MODELS
    assert len(pool._cursors) <= 2 * MAX_CACHED_MODELS
