"""`gemini-proxy status` shows today's usage from the store and each credential's quota: Google's
figures for an account (asked here, once), configured limits for a key."""

import argparse
import json
import time
from pathlib import Path

import pytest

from gemini_proxy.cli.status import run
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from gemini_proxy.state.sqlite import SqliteStore
from gemini_proxy.usage.book import UsageBook
from gemini_proxy.usage.flush import UsageFlusher
from tests.support.fake import FakeGemini
from tests.support.http import post_json
from tests.support.servers import ServerThread

ACCOUNT = "1//status-usage-account"
KEY = "AIzaFAKE-status-usage-key"


def args(**values: object) -> argparse.Namespace:
    base = {"config": None, "creds_dir": "oauth creds", "table": None, "region": None}
    return argparse.Namespace(
        **{**base, "secret_name": None, "json": False, "no_quota": False, **values}
    )


async def write_usage(path: str) -> None:
    """What a proxy that answered 3 requests with the key and 1 with the account wrote."""
    from gemini_proxy.generation.outcome import Outcome, Tokens

    book = UsageBook()
    for credential, count in ((KEY, 3), (ACCOUNT, 1)):
        for _ in range(count):
            done = Outcome("req", "POST", "/v1/chat/completions", "openai")
            done.credential, done.served_model = fingerprint(credential), "gemini-2.5-flash"
            done.tokens = Tokens(input=10, output=20)
            book.record(done)
    await UsageFlusher(book, SqliteStore(path), 5, 3600).stop()


def test_usage_and_quota_in_the_table_and_the_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONFIG_YAML", raising=False)
    with ServerThread(create_fake_app(FakeSettings())) as server:
        fake = FakeGemini(server.url)
        creds = tmp_path / "oauth creds"
        creds.mkdir()
        (creds / "ai_studio_keys.txt").write_text(KEY + "\n")
        account = {"refresh_token": ACCOUNT, "access_token": "ya29.x", "expiry_date": 1000}
        (creds / "account.json").write_text(json.dumps(account))
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 * 3600 + 60))
        bucket = {"modelId": "gemini-2.5-pro", "remainingAmount": "375", "remainingFraction": 0.25}
        post_json(
            f"{fake.url}/_control/accounts",
            {"refresh_token": ACCOUNT, "quota": [{**bucket, "resetTime": reset}]},
        )
        (tmp_path / "config.yaml").write_text(
            f"upstream: {{code_assist_base_url: '{fake.url}', "
            f"oauth_token_url: '{fake.url}/token'}}\n"
            "state: {backend: sqlite, sqlite_path: state.db}\n"
        )
        asyncio.run(write_usage(str(tmp_path / "state.db")))

        assert run(args()) == 0
        table = capsys.readouterr().out
        assert "today: 3 requests, 0 failed attempts, 30 tokens in, 60 out" in table
        assert "quota (configured limits): gemini-2.5-flash 247 of 250 left" in table
        assert "quota (Google): gemini-2.5-pro 25% left (375 of 1,500), resets in 3 h 00 m" in table
        assert "4 requests, 0 failed attempts" in table

        assert run(args(json=True, no_quota=True)) == 0
        report = json.loads(capsys.readouterr().out)
        rows = {row["fingerprint"]: row for row in report["credentials"]}
        assert rows[fingerprint(ACCOUNT)]["quota"] is None  # not asked
        assert rows[fingerprint(KEY)]["usage"]["requests"] == 3
        assert report["usage"]["totals"]["requests"] == 4
        asked = [r for r in fake.requests() if r["kind"] == "retrieve_user_quota"]
        assert len(asked) == 1  # the table's run only
        assert ACCOUNT not in table and KEY not in table
