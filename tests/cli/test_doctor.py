"""`gemini-proxy doctor`: each check's ok / warn / FAIL with its fix, and the exit code."""

import argparse
import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from gemini_proxy.cli.doctor import run
from gemini_proxy.cli.status import build_pool
from gemini_proxy.config import Config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from gemini_proxy.state.dynamodb import DynamoStore
from gemini_proxy.state.sqlite import SqliteStore
from gemini_proxy.upstream.classify import Failure, FailureKind
from gemini_proxy.upstream.projects import unsupported_client
from tests.support.fake import FakeGemini
from tests.support.servers import ServerThread, free_port

KEY = "AIzaFAKE-doctor-key"
CLIENT_KEY = "x" * 43


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGemini]:
    with ServerThread(create_fake_app(FakeSettings())) as server:
        yield FakeGemini(server.url)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws of the machine's
    for name in list(os.environ):
        if name.startswith("AWS_") or name in ("CONFIG_YAML", "GEMINI_PROXY_API_KEYS"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
    creds = tmp_path / "oauth creds"
    creds.mkdir(mode=0o700)
    keys = creds / "ai_studio_keys.txt"
    keys.write_text(KEY + "\n")
    keys.chmod(0o600)
    return tmp_path


def config(folder: Path, url: str, state: str = "{backend: sqlite, sqlite_path: s.db}") -> None:
    (folder / "config.yaml").write_text(
        f"upstream: {{ai_studio_base_url: '{url}'}}\nstate: {state}\n"
    )


def args(**values: Any) -> argparse.Namespace:
    defaults = {"config": None, "creds_dir": "oauth creds", "aws": False, "timeout": 2.0}
    return argparse.Namespace(**{**defaults, **values})


def lines(out: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.startswith("["):
            label, _, rest = line.partition("] ")
            found.setdefault(rest.split(":")[0], []).append(label.strip("[ ") + " " + rest)
    return found


def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_a_healthy_setup_passes(
    project: Path,
    fake: FakeGemini,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config(project, fake.url)
    monkeypatch.setenv("GEMINI_PROXY_API_KEYS", CLIENT_KEY)
    aws_credentials(monkeypatch)
    with mock_aws():
        code = run(args(aws=True))
    out = capsys.readouterr().out
    assert code == 0, out
    checks = lines(out)
    assert checks["config"] == ["ok config: config.yaml is valid"]
    assert checks["credentials"] == ["ok credentials: 1 AI Studio key(s), 0 OAuth account(s)"]
    assert checks["upstream"] == [f"ok upstream: AI Studio {fake.url} is reachable"]
    assert checks["aws identity"][0].startswith("ok aws identity: account 123456789012")
    assert checks["state store"] == ["ok state store: s.db will be created on first use"]
    assert "warn" not in out.split("\n\n")[0] and "FAIL" not in out
    assert KEY not in out and CLIENT_KEY not in out
    assert not (project / "s.db").exists()  # doctor never writes


def test_problems_are_reported_with_fixes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead_port = free_port()  # nothing listens there
    config(project, f"http://127.0.0.1:{dead_port}")
    (project / "oauth creds" / "ai_studio_keys.txt").chmod(0o644)
    (project / "oauth creds" / "account.json").write_text('{"access_token": "ya29.x"}')

    assert run(args()) == 1
    checks = lines(capsys.readouterr().out)
    assert checks["upstream"][0].startswith("FAIL upstream: AI Studio http://127.0.0.1:")
    assert "warn permissions: oauth creds/ai_studio_keys.txt is readable by every user" in " ".join(
        checks["permissions"]
    )
    assert checks["credentials file"] == [
        "warn credentials file: account.json: has no "
        "refresh_token (log in with Gemini CLI to get one)"
    ]
    assert checks["client keys"][0].startswith("warn client keys: GEMINI_PROXY_API_KEYS is not")
    assert checks["aws"] == ["warn aws: no AWS credentials found"]


def test_an_invalid_config_and_no_credentials_fail(
    project: Path, capsys: pytest.CaptureFixture[str], fake: FakeGemini
) -> None:
    (project / "config.yaml").write_text("upstream: {ai_studio_base_ur: x}\n")
    assert run(args(creds_dir="missing folder", timeout=0.5)) == 1
    out = capsys.readouterr().out
    checks = lines(out)
    assert checks["config"][0].startswith("FAIL config: config.yaml: upstream.ai_studio_base_ur")
    assert (
        checks["credentials folder"][0]
        == "FAIL credentials folder: 'missing folder' does not exist"
    )
    assert checks["credentials"][0].startswith("FAIL credentials: no credentials found")
    assert "fix: mkdir 'missing folder'" in out


def test_dynamodb_state_needs_its_table(
    project: Path,
    fake: FakeGemini,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config(project, fake.url, "{backend: dynamodb, dynamodb_table: doctor-state}")
    aws_credentials(monkeypatch)
    with mock_aws():
        assert run(args()) == 1
        assert lines(capsys.readouterr().out)["state store"][0].startswith(
            "FAIL state store: dynamodb: ResourceNotFoundException"
        )
        DynamoStore("doctor-state", region="us-east-1").ensure_table()
        run(args())
        assert lines(capsys.readouterr().out)["state store"] == [
            "ok state store: dynamodb doctor-state opens"
        ]


def test_oauth_accounts_get_googles_2026_terms_and_invalid_ones_their_reason(
    project: Path, fake: FakeGemini, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "config.yaml").write_text(
        f"upstream: {{ai_studio_base_url: '{fake.url}', code_assist_base_url: '{fake.url}', "
        f"oauth_token_url: '{fake.url}/token'}}\n"
        "state: {backend: sqlite, sqlite_path: s.db}\n"
    )
    account = project / "oauth creds" / "alice.json"
    account.write_text('{"refresh_token": "1//doctor-alice"}')
    account.chmod(0o600)
    alice = Credential("oauth", "1//doctor-alice", source="alice.json", pool="primary")
    refused = unsupported_client("alice.json", "This client is no longer supported")
    pool = build_pool(Config(), [alice], SqliteStore(str(project / "s.db")))
    asyncio.run(pool.record_failure(alice, "gemini-2.5-flash", refused))

    run(args())
    out = capsys.readouterr().out
    checks = lines(out)
    (notice,) = checks["oauth accounts"]
    assert notice.startswith("warn oauth accounts: 1 Gemini CLI OAuth account(s). Since 2026-06-18")
    assert "Standard or Enterprise licence" in notice and "suspended" in notice
    (state,) = checks["credential state"]
    assert state.startswith(
        f"warn credential state: oauth {alice.fingerprint} (alice.json) is invalid: "
        "not_provisioned: UNSUPPORTED_CLIENT — 'alice.json': Google no longer serves"
    )
    assert "fix: use an AI Studio API key" in out
    assert "1//doctor-alice" not in out


def test_no_invalid_credential_is_one_ok_line(
    project: Path, fake: FakeGemini, capsys: pytest.CaptureFixture[str]
) -> None:
    config(project, fake.url)
    key = Credential("ai_studio", KEY)
    pool = build_pool(Config(), [key], SqliteStore(str(project / "s.db")))
    limited = Failure(FailureKind.RATE_LIMITED, 429, "slow down", "PerMinute", 30)
    asyncio.run(pool.record_failure(key, "gemini-2.5-flash", limited))
    run(args())
    checks = lines(capsys.readouterr().out)
    assert checks["credential states"] == ["ok credential states: 1 credential(s), none invalid"]
    assert "oauth accounts" not in checks
