"""Gemini CLI OAuth accounts end to end: files in the credentials folder, token refresh, project
discovery and onboarding, Code Assist's envelope, and failover to the other credentials.

The fake Google is the witness: its request log (kinds token, load_code_assist, onboard_user,
get_operation, generate, stream) and its counters (`token_refreshes` per account fingerprint).
"""

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from gemini_proxy.app.factory import create_app
from gemini_proxy.config import Config
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.sources import load_credentials
from gemini_proxy.fake_gemini.errors import DEFAULT_VALIDATION_URL
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.upstream import oauth
from gemini_proxy.upstream.sealing import unseal
from tests.e2e.chat_helpers import collect, complete, stream
from tests.e2e.conftest import proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import call, post_json
from tests.support.servers import ServerThread

ALICE = "1//alice-refresh-token"
BOB = "1//bob-refresh-token"
KEY = "fake-key-alpha"
HOUR_MS = 3_600_000
CODE_ASSIST_KINDS = {"token", "load_code_assist", "onboard_user", "get_operation"}
SERVING_KINDS = {"generate", "stream"}


def write_account(
    folder: Path,
    refresh_token: str,
    *,
    access_token: str = "ya29.left-over-from-yesterday",
    expiry_ms: int | None = None,
    project_id: str | None = None,
) -> Path:
    """An oauth_creds.json as Gemini CLI writes it; expired unless `expiry_ms` says otherwise."""
    folder.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "scope": "https://www.googleapis.com/auth/cloud-platform openid",
        "token_type": "Bearer",
        "id_token": "eyJhbGciOi.fake.id-token",
        "expiry_date": expiry_ms if expiry_ms is not None else int(time.time() * 1000) - HOUR_MS,
    }
    if project_id is not None:
        document["project_id"] = project_id
    path = folder / f"{fingerprint(refresh_token)}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def oauth_config(fake: FakeGemini) -> Config:
    config = proxy_config(fake)
    # Onboarding polls every 5 s in Gemini CLI; the fake's operation is ready at once.
    oauth = config.oauth.model_copy(update={"onboard_poll_seconds": 0.01})
    return config.model_copy(update={"oauth": oauth})


def control(fake: FakeGemini, method: str, path: str, body: Any = None) -> Any:
    if body is None:
        reply = call(method, f"{fake.url}/_control/{path}")
    else:
        reply = post_json(f"{fake.url}/_control/{path}", body)
    assert reply.status == 200, reply.body
    return reply.json()


def account(fake: FakeGemini, refresh_token: str, **fields: Any) -> dict[str, Any]:
    answer: dict[str, Any] = control(
        fake, "POST", "accounts", {"refresh_token": refresh_token, **fields}
    )
    return answer


def refreshes(fake: FakeGemini) -> dict[str, int]:
    counted: dict[str, int] = control(fake, "GET", "stats")["token_refreshes"]
    return counted


def log_kinds(fake: FakeGemini, since: int = 0) -> list[str]:
    return [
        entry["kind"]
        for entry in fake.requests()
        if entry["seq"] > since and entry["api"] in ("oauth", "code_assist")
    ]


def last_seq(fake: FakeGemini) -> int:
    entries = fake.requests()
    return int(entries[-1]["seq"]) if entries else 0


def admin(url: str) -> dict[str, dict[str, Any]]:
    reply = call("GET", f"{url}/admin/credentials")
    assert reply.status == 200
    return {row["fingerprint"]: row for row in reply.json()["data"]}


Starter = Callable[..., tuple[ServerThread, MemoryStore]]


@pytest.fixture
def start_oauth_proxy(fake: FakeGemini, tmp_path: Path) -> Iterator[Starter]:
    """A proxy whose credentials are loaded from a credentials folder, as `serve` does."""
    started: list[ServerThread] = []

    def start(
        config: Config | None = None, environ: dict[str, str] | None = None
    ) -> tuple[ServerThread, MemoryStore]:
        config = config or oauth_config(fake)
        credentials = load_credentials(config, tmp_path / "creds", environ or {})
        store = MemoryStore()
        server = ServerThread(create_app(config, credentials, [], store)).__enter__()
        started.append(server)
        return server, store

    yield start
    for server in started:
        server.__exit__(None, None, None)


def sdk(server: ServerThread) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=30)


def ask(client: OpenAI, text: str, streamed: bool) -> str:
    request: dict[str, Any] = {
        "model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": text}],
    }
    if streamed:
        return collect(stream(client, **request)).content
    return str(complete(client, **request)["choices"][0]["message"]["content"])


# --- a fresh account: refresh, onboarding, then nothing more -------------------------------


def test_expired_account_without_project_is_refreshed_onboarded_and_served(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    fake.settings(new_accounts_onboarded=False, onboard_polls=2)
    write_account(tmp_path / "creds", ALICE)
    server, store = start_oauth_proxy()
    client = sdk(server)

    raw = client.chat.completions.with_raw_response.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "first"}]
    )
    assert raw.parse().choices[0].message.content == "Echo: first"
    assert raw.headers["x-gemini-proxy-credential"] == fingerprint(ALICE)
    assert log_kinds(fake) == [
        "token",
        "load_code_assist",
        "onboard_user",
        "get_operation",
        "get_operation",
        "generate",
    ]
    entries = {entry["kind"]: entry for entry in fake.requests()}
    metadata = {"ideType": "IDE_UNSPECIFIED", "platform": "PLATFORM_UNSPECIFIED"}
    assert entries["load_code_assist"]["body"]["metadata"] == {**metadata, "pluginType": "GEMINI"}
    # Free tier: Google manages the project, so the onboarding request names none.
    assert entries["onboard_user"]["body"]["tierId"] == "free-tier"
    assert "cloudaicompanionProject" not in entries["onboard_user"]["body"]
    project = account(fake, ALICE)["project"]
    assert project and account(fake, ALICE)["tier"] == "free-tier"
    sent = entries["generate"]["body"]
    assert sent["project"] == project and sent["model"] == "gemini-2.5-flash"
    assert sent["user_prompt_id"] and sent["request"]["contents"][0]["parts"] == [{"text": "first"}]

    # The second and third requests (streamed, then not) neither refresh nor rediscover.
    seen = last_seq(fake)
    assert ask(client, "second", streamed=True) == "Echo: second"
    assert ask(client, "third", streamed=False) == "Echo: third"
    assert log_kinds(fake, since=seen) == ["stream", "generate"]
    assert refreshes(fake) == {fingerprint(ALICE): 1}

    # What the store shares with other instances: the project, and the token sealed.
    token_record = asyncio.run(store.get("oauth_token", fingerprint(ALICE)))
    project_record = asyncio.run(store.get("oauth_project", fingerprint(ALICE)))
    assert project_record is not None and project_record.data["project"] == project
    assert token_record is not None and "ya29" not in json.dumps(token_record.data)
    token = unseal(token_record.data["sealed"], ALICE, oauth.token_record(fingerprint(ALICE)))
    assert token is not None
    live = [t["fingerprint"] for t in account(fake, ALICE)["access_tokens"]]
    assert fingerprint(token) in live


def test_fresh_token_in_the_file_is_used_without_a_refresh(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    token = "ya29.still-good-for-an-hour"
    account(fake, ALICE, access_token=token, expires_in=3600)
    in_an_hour = int(time.time() * 1000) + HOUR_MS
    write_account(tmp_path / "creds", ALICE, access_token=token, expiry_ms=in_an_hour)
    server, _ = start_oauth_proxy()
    assert ask(sdk(server), "hi", streamed=False) == "Echo: hi"
    assert log_kinds(fake) == ["load_code_assist", "generate"]
    assert refreshes(fake) == {}


def test_a_token_within_five_minutes_of_expiry_is_refreshed_first(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    token = "ya29.four-minutes-left"
    account(fake, ALICE, access_token=token, expires_in=240)
    soon = int(time.time() * 1000) + 240_000
    write_account(tmp_path / "creds", ALICE, access_token=token, expiry_ms=soon)
    server, _ = start_oauth_proxy()
    assert ask(sdk(server), "hi", streamed=False) == "Echo: hi"
    assert log_kinds(fake) == ["token", "load_code_assist", "generate"]


def test_a_401_refreshes_once_and_retries(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    token = "ya29.google-will-refuse-this-one"
    account(fake, ALICE, access_token=token, expires_in=3600)
    in_an_hour = int(time.time() * 1000) + HOUR_MS
    write_account(tmp_path / "creds", ALICE, access_token=token, expiry_ms=in_an_hour)
    fault = {"credential": fingerprint(ALICE), "fault": "unauthenticated", "times": 1}
    control(fake, "POST", "faults", fault)
    server, _ = start_oauth_proxy()
    client = sdk(server)
    for streamed in (False, True):
        assert ask(client, "hi", streamed=streamed) == "Echo: hi"
    statuses = [
        (e["kind"], e["status"]) for e in fake.requests() if e["api"] in ("oauth", "code_assist")
    ]
    assert statuses == [
        ("load_code_assist", 200),
        ("generate", 401),
        ("token", 200),
        ("generate", 200),
        ("stream", 200),
    ]


def test_a_configured_project_wins(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    account(fake, ALICE, tier="standard-tier", project=None)
    write_account(tmp_path / "creds", ALICE, project_id="my-team-project")
    server, _ = start_oauth_proxy()
    assert ask(sdk(server), "hi", streamed=True) == "Echo: hi"
    entries = {entry["kind"]: entry for entry in fake.requests()}
    load = entries["load_code_assist"]["body"]
    assert load["cloudaicompanionProject"] == "my-team-project"
    assert load["metadata"]["duetProject"] == "my-team-project"
    assert entries["stream"]["body"]["project"] == "my-team-project"


# --- accounts Google refuses --------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_revoked_account_becomes_invalid_after_one_attempt_and_traffic_moves(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter, streamed: bool
) -> None:
    write_account(tmp_path / "creds", ALICE)
    write_account(tmp_path / "creds", BOB)
    account(fake, ALICE, revoked=True)
    server, _ = start_oauth_proxy()
    client = sdk(server)

    # Rotation starts at a random place; four requests put Alice first at least once.
    for n in range(4):
        assert ask(client, f"hello {n}", streamed=streamed) == f"Echo: hello {n}"
    alice_calls = [e for e in fake.requests() if e["credential"] == fingerprint(ALICE)]
    assert [(e["kind"], e["status"]) for e in alice_calls] == [("token", 400)]
    assert set(fake.served_by()) == {fingerprint(BOB)}
    assert refreshes(fake) == {fingerprint(BOB): 1}

    rows = admin(server.url)
    alice = rows[fingerprint(ALICE)]["state"]
    assert alice["status"] == "invalid"
    assert "invalid_grant" in alice["reason"]
    assert "Log in again with Gemini CLI" in alice["message"]
    assert f"{fingerprint(ALICE)}.json" in alice["message"]  # which file to replace
    assert rows[fingerprint(BOB)]["state"]["status"] == "available"


def test_validation_required_is_invalid_with_the_url_and_the_key_serves(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    fake.settings(new_accounts_onboarded=False)
    account(fake, ALICE, ineligible="VALIDATION_REQUIRED")
    write_account(tmp_path / "creds", ALICE)
    (tmp_path / "creds" / "ai_studio_keys.txt").write_text(f"{KEY}\n")
    server, _ = start_oauth_proxy()

    raw = sdk(server).chat.completions.with_raw_response.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}]
    )
    # The account is primary and tried first; the AI Studio key is the fallback that answers.
    assert raw.headers["x-gemini-proxy-credential"] == fingerprint(KEY)
    assert raw.headers["x-gemini-proxy-attempts"] == "2"
    assert log_kinds(fake) == ["token", "load_code_assist"]  # no onboarding attempt
    state = admin(server.url)[fingerprint(ALICE)]["state"]
    assert state["status"] == "invalid"
    assert state["reason"] == "not_provisioned: VALIDATION_REQUIRED"
    assert DEFAULT_VALIDATION_URL in state["message"]


def test_ineligible_account_shows_googles_reason(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    fake.settings(new_accounts_onboarded=False)
    account(fake, ALICE, ineligible="UNSUPPORTED_LOCATION")
    write_account(tmp_path / "creds", ALICE)
    (tmp_path / "creds" / "ai_studio_keys.txt").write_text(f"{KEY}\n")
    server, _ = start_oauth_proxy()
    assert ask(sdk(server), "hi", streamed=False) == "Echo: hi"
    state = admin(server.url)[fingerprint(ALICE)]["state"]
    assert state["reason"] == "not_provisioned: UNSUPPORTED_LOCATION"
    assert "not available in your location" in state["message"]


def test_array_wrapped_rate_limit_benches_the_account_for_the_model(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    write_account(tmp_path / "creds", ALICE)
    write_account(tmp_path / "creds", BOB)
    fault = {"type": "rate_limit_minute", "retry_delay": "30s", "array_wrapped": True}
    control(fake, "POST", "faults", {"credential": fingerprint(ALICE), "fault": fault})
    server, _ = start_oauth_proxy()
    client = sdk(server)
    for n in range(3):
        assert ask(client, f"q{n}", streamed=n % 2 == 1) == f"Echo: q{n}"
    assert set(fake.served_by()) <= {fingerprint(ALICE), fingerprint(BOB)}
    alice = admin(server.url)[fingerprint(ALICE)]
    assert alice["models"]["gemini-2.5-flash"]["status"] == "rate_limited"
    assert alice["models"]["gemini-2.5-flash"]["cooldown_remaining_seconds"] > 20


# --- one pool of accounts and keys ----------------------------------------------------------


def test_embeddings_need_an_ai_studio_key(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    write_account(tmp_path / "creds", ALICE)
    server, _ = start_oauth_proxy()
    body = {"model": "gemini-embedding-001", "input": "hello"}
    reply = post_json(f"{server.url}/v1/embeddings", body)
    assert reply.status == 503
    error = reply.json()["error"]
    assert error["code"] == "no_credentials" and "AI Studio" in error["message"]
    assert fake.requests() == []


def test_accounts_serve_chat_and_keys_serve_embeddings(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    write_account(tmp_path / "creds", ALICE)
    server, _ = start_oauth_proxy(environ={"GEMINI_API_KEY_1": KEY})
    client = sdk(server)
    chat = client.chat.completions.with_raw_response.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}]
    )
    assert chat.headers["x-gemini-proxy-credential"] == fingerprint(ALICE)  # primary pool
    embedded = client.embeddings.with_raw_response.create(
        model="gemini-embedding-001", input="hello"
    )
    assert embedded.headers["x-gemini-proxy-credential"] == fingerprint(KEY)
    assert embedded.parse().data[0].embedding


def test_oauth_json_in_an_env_var_is_an_account(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    document = write_account(tmp_path / "elsewhere", BOB).read_text()
    server, _ = start_oauth_proxy(environ={"GEMINI_API_KEY_1": document})
    raw = sdk(server).chat.completions.with_raw_response.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-gemini-proxy-credential"] == fingerprint(BOB)
    assert admin(server.url)[fingerprint(BOB)]["source"] == "env:GEMINI_API_KEY_1"


def test_transcription_through_code_assist(
    fake: FakeGemini, tmp_path: Path, start_oauth_proxy: Starter
) -> None:
    write_account(tmp_path / "creds", ALICE)
    server, _ = start_oauth_proxy()
    wav = b"RIFF$\x00\x00\x00WAVEfmt " + bytes(28) + b"data" + bytes(64)
    text = sdk(server).audio.transcriptions.create(
        file=("a.wav", wav, "audio/wav"), model="gemini-2.5-flash"
    )
    assert text.text.startswith(f"Echo: [inlineData audio/wav, {len(wav)} bytes]")
    assert fake.served_by() == [fingerprint(ALICE)]
