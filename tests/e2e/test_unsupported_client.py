"""Accounts Google no longer serves through Code Assist (since 2026-06-18: free Gemini Code Assist
for individuals, Google AI Pro and Ultra), end to end: the fake answers as Google does
(loadCodeAssist lists the free tier as UNSUPPORTED_CLIENT; generation is refused with "This
client is no longer supported"). The account must be INVALID after one upstream request, not one
per client request; say why (its file, what changed, what still works) in GET /admin/credentials
and `gemini-proxy status`; and stay INVALID for the same reason through a recheck.
"""

import argparse
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from gemini_proxy.app.factory import create_app
from gemini_proxy.cli import recheck, status
from gemini_proxy.config import load_config
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.sources import load_credentials
from gemini_proxy.state.sqlite import SqliteStore
from tests.e2e.test_oauth import account, admin, write_account
from tests.support.fake import FakeGemini
from tests.support.servers import ServerThread

ALICE = "1//alice-individual-account"
KEY = "AIzaFAKE-key-that-still-works"
ALICE_FILE = f"{fingerprint(ALICE)}.json"
EXPLAINED = (
    ALICE_FILE,
    "Google no longer serves this account through Gemini Code Assist",
    "2026-06-18",
    "Google AI Pro",
    "AI Studio API key",
    "Standard or Enterprise licence",
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("CONFIG_YAML", "GEMINI_PROXY_API_KEYS"):
        monkeypatch.delenv(name, raising=False)
    creds = tmp_path / "oauth creds"
    write_account(creds, ALICE)
    (creds / "ai_studio_keys.txt").write_text(f"{KEY}\n")
    return tmp_path


Starter = Callable[..., ServerThread]


@pytest.fixture
def start(folder: Path, fake: FakeGemini) -> Iterator[Starter]:
    """A proxy over the folder's credentials and a SQLite state `status` can read too."""
    started: list[ServerThread] = []

    def run(recheck_ms: int = 300_000) -> ServerThread:
        (folder / "config.yaml").write_text(
            f"upstream: {{ai_studio_base_url: '{fake.url}', code_assist_base_url: '{fake.url}',"
            f" oauth_token_url: '{fake.url}/token'}}\n"
            "state: {backend: sqlite, sqlite_path: state.db}\n"
            f"failover_thresholds: {{recheck_interval_ms: {recheck_ms}}}\n"
        )
        config = load_config(folder / "config.yaml")
        credentials = load_credentials(config, folder / "oauth creds", {})
        store = SqliteStore(str(folder / "state.db"))
        server = ServerThread(create_app(config, credentials, [], store)).__enter__()
        started.append(server)
        return server

    yield run
    for server in started:
        server.__exit__(None, None, None)


def sdk(server: ServerThread) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=30)


def ask(client: OpenAI, n: int) -> str:
    messages: Any = [{"role": "user", "content": f"question {n}"}]
    if n % 2:
        chunks = client.chat.completions.create(
            model="gemini-2.5-flash", messages=messages, stream=True
        )
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reply = client.chat.completions.create(model="gemini-2.5-flash", messages=messages)
    return str(reply.choices[0].message.content)


def alice_calls(fake: FakeGemini, since: int = 0) -> list[str]:
    return [
        e["kind"]
        for e in fake.requests()
        if e["credential"] == fingerprint(ALICE) and e["seq"] > since
    ]


def cli_args(**values: Any) -> argparse.Namespace:
    defaults = {"config": "config.yaml", "creds_dir": "oauth creds", "table": None}
    return argparse.Namespace(
        **{**defaults, "region": None, "secret_name": None, "json": False, **values}
    )


def status_of_alice(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert status.run(cli_args(json=True)) == 0
    rows = json.loads(capsys.readouterr().out)["credentials"]
    state: dict[str, Any] = next(r for r in rows if r["fingerprint"] == fingerprint(ALICE))["state"]
    return state


def test_a_refused_account_costs_one_request_and_says_why(
    fake: FakeGemini, start: Starter, capsys: pytest.CaptureFixture[str]
) -> None:
    account(fake, ALICE, unsupported_client=True)
    server = start()
    client = sdk(server)

    # Twelve clients at once: the unproven account carries one request at a time, and the
    # first one finds it refused; every client is answered by the AI Studio key.
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda n: ask(client, n), range(12)))
    assert answers == [f"Echo: question {n}" for n in range(12)]
    assert alice_calls(fake) == ["token", "load_code_assist"]  # one refusal, no onboarding

    state = admin(server.url)[fingerprint(ALICE)]["state"]
    assert state["status"] == "invalid"
    assert state["reason"] == "not_provisioned: UNSUPPORTED_CLIENT"
    for said in EXPLAINED:
        assert said in state["message"]
    assert ALICE not in json.dumps(state)

    # Later requests do not ask Google about the account again.
    for n in range(6):
        assert ask(client, n) == f"Echo: question {n}"
    assert alice_calls(fake) == ["token", "load_code_assist"]

    # `gemini-proxy status` tells the same, as a table and as JSON.
    assert status.run(cli_args()) == 0
    table = capsys.readouterr().out
    assert "invalid" in table and "UNSUPPORTED_CLIENT" in table
    for said in EXPLAINED:
        assert said in table
    assert status_of_alice(capsys)["message"] == state["message"]


def test_an_account_refused_mid_life_is_benched_and_stays_so_through_a_recheck(
    fake: FakeGemini, start: Starter, capsys: pytest.CaptureFixture[str]
) -> None:
    # Served before 2026-06-18 (its project is cached), refused from then on.
    server = start(recheck_ms=1500)
    client = sdk(server)
    raw = client.chat.completions.with_raw_response.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "before"}]
    )
    assert raw.headers["x-gemini-proxy-credential"] == fingerprint(ALICE)
    account(fake, ALICE, unsupported_client=True)
    seen = max(e["seq"] for e in fake.requests())

    raw = client.chat.completions.with_raw_response.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "after"}]
    )
    assert raw.headers["x-gemini-proxy-credential"] == fingerprint(KEY)
    assert alice_calls(fake, since=seen) == ["generate"]  # refused once, then the key
    with ThreadPoolExecutor(6) as pool:
        assert len(list(pool.map(lambda n: ask(client, n), range(6)))) == 6
    assert alice_calls(fake, since=seen) == ["generate"]
    before = admin(server.url)[fingerprint(ALICE)]["state"]
    assert before["reason"] == "not_provisioned: UNSUPPORTED_CLIENT"
    for said in EXPLAINED:
        assert said in before["message"]

    # The recheck probes it (token and project discovery, no generation) and keeps it
    # INVALID for the same reason instead of restoring it.
    time.sleep(1.6)
    seen = max(e["seq"] for e in fake.requests())
    assert recheck.run(cli_args(seconds=30)) == 0
    assert f"{fingerprint(ALICE)}  not_provisioned:" in capsys.readouterr().out
    assert "load_code_assist" in alice_calls(fake, since=seen)
    assert "generate" not in alice_calls(fake, since=seen)
    after = status_of_alice(capsys)
    assert after["status"] == "invalid"
    assert (after["reason"], after["message"]) == (before["reason"], before["message"])
