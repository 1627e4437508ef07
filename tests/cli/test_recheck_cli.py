"""`gemini-proxy recheck`: the recheck job run locally over the SQLite store, probing the fake
Gemini; a healed key comes back, a dead one stays invalid."""

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gemini_proxy.cli.recheck import run
from gemini_proxy.cli.status import build_pool
from gemini_proxy.config import load_config
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential
from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from gemini_proxy.state.sqlite import SqliteStore
from gemini_proxy.upstream.classify import Failure, FailureKind
from tests.support.fake import FakeGemini
from tests.support.servers import ServerThread

HEALED, DEAD, FINE = "AIzaFAKE-cli-healed", "AIzaFAKE-cli-dead", "AIzaFAKE-cli-fine"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGemini]:
    with ServerThread(create_fake_app(FakeSettings())) as server:
        yield FakeGemini(server.url)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeGemini) -> Path:
    fake.reset()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONFIG_YAML", raising=False)
    creds = tmp_path / "oauth creds"
    creds.mkdir()
    (creds / "ai_studio_keys.txt").write_text(f"{HEALED}\n{DEAD}\n{FINE}\n")
    (tmp_path / "config.yaml").write_text(
        f"upstream: {{ai_studio_base_url: '{fake.url}'}}\n"
        "state: {backend: sqlite, sqlite_path: state.db}\n"
        "failover_thresholds: {recheck_interval_ms: 1}\n"
    )
    return tmp_path


def args(**values: Any) -> argparse.Namespace:
    defaults = {"config": None, "creds_dir": "oauth creds", "table": None, "region": None}
    return argparse.Namespace(
        **{**defaults, "secret_name": None, "seconds": 30, "json": False, **values}
    )


async def invalidate(keys: list[str]) -> None:
    credentials = [Credential("ai_studio", key) for key in keys]
    pool = build_pool(load_config(), credentials, SqliteStore("state.db"))
    dead = Failure(FailureKind.INVALID_CREDENTIAL, 400, "API key not valid", "API_KEY_INVALID")
    for credential in credentials:
        await pool.record_failure(credential, "gemini-2.5-flash", dead)


def test_recheck_restores_the_healed_key(
    project: Path, fake: FakeGemini, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(invalidate([HEALED, DEAD]))
    fake.fault({"type": "invalid_key"}, key=DEAD, kinds=["get_model"])
    time.sleep(0.01)  # past the 1 ms recheck interval

    assert run(args()) == 0
    out = capsys.readouterr().out
    assert f"restored: {fingerprint(HEALED)}" in out
    assert f"  {fingerprint(DEAD)}  invalid_credential: API key not valid" in out
    probed = [r["credential"] for r in fake.requests() if r["kind"] == "get_model"]
    assert sorted(probed) == sorted([fingerprint(HEALED), fingerprint(DEAD)])  # FINE costs nothing
    assert not any(key in out for key in (HEALED, DEAD, FINE))

    # Again, as JSON: the healed key is no longer benched, so only the dead one is looked at.
    assert run(args(json=True)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["restored"] == []
    assert fingerprint(DEAD) in [*report["still_invalid"], *report["not_due"]]


def test_nothing_to_recheck_without_a_state_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(args()) == 0
    assert "nothing to probe" in capsys.readouterr().out
    assert not (project / "state.db").exists()
