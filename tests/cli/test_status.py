"""`gemini-proxy status`: the pool by fingerprint, from the local SQLite store or a DynamoDB
table (moto), as a table and as JSON."""

import argparse
import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from gemini_proxy.cli.status import build_pool, run
from gemini_proxy.config import Config
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential
from gemini_proxy.state.base import StateStore
from gemini_proxy.state.dynamodb import DynamoStore
from gemini_proxy.state.sqlite import SqliteStore
from gemini_proxy.upstream.classify import Failure, FailureKind

FINE, BUSY, DEAD, ELSEWHERE = (
    "AIzaFAKE-status-fine",
    "AIzaFAKE-status-busy",
    "AIzaFAKE-status-dead",
    "AIzaFAKE-status-elsewhere",
)
LIMITED = Failure(FailureKind.RATE_LIMITED, 429, "Quota exceeded", "PerMinute", 120)
INVALID = Failure(FailureKind.INVALID_CREDENTIAL, 400, "API key not valid", "API_KEY_INVALID")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONFIG_YAML", raising=False)
    creds = tmp_path / "oauth creds"
    creds.mkdir()
    (creds / "ai_studio_keys.txt").write_text(f"{FINE}\n{BUSY}\n{DEAD}\n")
    (creds / "broken.json").write_text("{")
    (tmp_path / "config.yaml").write_text("state: {backend: sqlite, sqlite_path: state.db}\n")
    return tmp_path


def args(**values: Any) -> argparse.Namespace:
    defaults = {"config": None, "creds_dir": "oauth creds", "table": None, "region": None}
    return argparse.Namespace(**{**defaults, "secret_name": None, "json": False, **values})


async def bench(store: StateStore) -> None:
    """What a running proxy records when Gemini limits one key and refuses another."""
    keys = [Credential("ai_studio", key) for key in (BUSY, DEAD, ELSEWHERE)]
    pool = build_pool(Config(), keys, store)
    await pool.record_failure(keys[0], "gemini-2.5-flash", LIMITED)
    await pool.record_failure(keys[1], "gemini-2.5-flash", INVALID)
    await pool.record_failure(keys[2], "gemini-2.5-flash", INVALID)


def test_table_and_json_from_sqlite(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(bench(SqliteStore(str(project / "state.db"))))

    assert run(args()) == 0
    table = capsys.readouterr().out
    rows = {line.split()[0]: line for line in table.splitlines() if line[:12].isalnum()}
    assert "available" in rows[fingerprint(FINE)]
    assert "invalid (recheck in" in rows[fingerprint(DEAD)]
    assert "invalid_credential: API_KEY_INVALID" in rows[fingerprint(DEAD)]
    assert "gemini-2.5-flash: rate_limited (1" in table  # the model's bench, under its key
    assert f"in the store but not loaded here: {fingerprint(ELSEWHERE)}" in table
    assert "skipped broken.json: not valid JSON" in table
    assert not any(secret in table for secret in (FINE, BUSY, DEAD, ELSEWHERE))

    assert run(args(json=True)) == 0
    report = json.loads(capsys.readouterr().out)
    by_fingerprint = {row["fingerprint"]: row for row in report["credentials"]}
    busy = by_fingerprint[fingerprint(BUSY)]
    assert busy["state"] == {"status": "available"}
    flash = busy["models"]["gemini-2.5-flash"]
    assert flash["status"] == "rate_limited" and 100 < flash["cooldown_remaining_seconds"] <= 120
    assert by_fingerprint[fingerprint(DEAD)]["state"]["status"] == "invalid"
    assert report["store"] == "sqlite state.db"


def test_no_state_file_yet_creates_none(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(args()) == 0
    out = capsys.readouterr().out
    assert "no state file at state.db yet" in out
    assert not (project / "state.db").exists()


def test_a_bad_config_is_an_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "config.yaml").write_text("stat: {}\n")
    assert run(args()) == 2
    assert "stat" in capsys.readouterr().err


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def test_a_deployed_dynamodb_table(
    project: Path, aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    store = DynamoStore("deployed-state", region="eu-west-1")
    store.ensure_table()
    asyncio.run(bench(store))

    assert run(args(table="deployed-state", region="eu-west-1", json=True)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["store"] == "dynamodb deployed-state (eu-west-1)"
    states = {row["fingerprint"]: row["state"]["status"] for row in report["credentials"]}
    assert states[fingerprint(DEAD)] == "invalid"
    assert report["not_loaded_here"] == [fingerprint(ELSEWHERE)]

    # A table that is not there is reported, not a traceback.
    assert run(args(table="no-such-table", region="eu-west-1")) == 1
    assert "could not read the state store" in capsys.readouterr().err
