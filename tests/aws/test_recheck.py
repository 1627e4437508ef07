"""The scheduled recheck Lambda under moto (DynamoDB) against the fake Gemini."""

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from gemini_proxy.aws.recheck_handler import handler, run_recheck
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential
from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from gemini_proxy.pool.health import Rules
from gemini_proxy.pool.pool import CredentialPool, Ordering
from gemini_proxy.runtime import load_runtime
from gemini_proxy.state.dynamodb import DynamoStore
from gemini_proxy.upstream.classify import Failure, FailureKind
from tests.support.fake import FakeGemini
from tests.support.servers import ServerThread

EVENTS = Path(__file__).resolve().parents[2] / "events"
HEALED, DEAD, FINE = "AIzaFAKE-healed-key", "AIzaFAKE-still-dead", "AIzaFAKE-always-fine"
TABLE = "recheck-test-state"


class Context:
    function_name = "gemini-proxy-RecheckFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:recheck"
    aws_request_id = "6f1f3d5e-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with ServerThread(create_fake_app(FakeSettings())) as server:
        yield FakeGemini(server.url)


@pytest.fixture
def environment(fake: FakeGemini, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    config = (
        f"state: {{backend: dynamodb, dynamodb_table: {TABLE}}}\n"
        f"upstream: {{ai_studio_base_url: '{fake.url}'}}\n"
        "failover_thresholds: {recheck_interval_ms: 60000}\n"
    )
    values = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CONFIG_YAML": config,
        "GEMINI_API_KEY_1": HEALED,
        "GEMINI_API_KEY_2": DEAD,
        "GEMINI_API_KEY_3": FINE,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GEMINI_PROXY_SECRET_NAME", raising=False)
    with mock_aws():
        DynamoStore(TABLE, region="us-east-1").ensure_table()
        yield values


async def invalidate(keys: list[str]) -> None:
    """What the proxy does when Gemini calls a key invalid."""
    store = DynamoStore(TABLE, region="us-east-1")
    rules = Rules(default_cooldown=60, max_cooldown=600, consecutive_failures=3, recheck_interval=0)
    credentials = [Credential("ai_studio", key) for key in keys]
    pool = CredentialPool(credentials, store, rules, Ordering(), cache_seconds=0)
    dead = Failure(FailureKind.INVALID_CREDENTIAL, 400, "API key not valid", "API_KEY_INVALID")
    for credential in credentials:
        await pool.record_failure(credential, "gemini-2.5-flash", dead)


def probes(fake: FakeGemini) -> list[str | None]:
    return [r["credential"] for r in fake.requests() if r["kind"] == "get_model"]


def test_recheck_restores_the_healed_key_and_keeps_the_dead_one(
    environment: dict[str, str], fake: FakeGemini
) -> None:
    asyncio.run(invalidate([HEALED, DEAD]))
    fake.fault({"type": "invalid_key"}, key=DEAD, kinds=["get_model"])
    event = json.loads((EVENTS / "schedule.json").read_text())
    time.sleep(0.01)

    report = handler(event, Context())

    assert report["restored"] == [fingerprint(HEALED)]
    assert list(report["still_invalid"]) == [fingerprint(DEAD)]  # type: ignore[call-overload]
    assert "API key not valid" in report["still_invalid"][fingerprint(DEAD)]  # type: ignore[index]
    # Only the invalid ones were probed; the healthy key cost nothing.
    assert sorted(probes(fake)) == sorted([fingerprint(HEALED), fingerprint(DEAD)])
    # The dead key's next recheck was pushed back: an immediate rerun probes nothing.
    again = handler(event, Context())
    assert again["restored"] == [] and fingerprint(DEAD) in again["not_due"]  # type: ignore[operator]
    assert len(probes(fake)) == 2


def test_two_runs_at_once_probe_each_credential_once(
    environment: dict[str, str], fake: FakeGemini
) -> None:
    asyncio.run(invalidate([HEALED, DEAD]))
    fake.fault({"type": "invalid_key"}, key=DEAD, kinds=["get_model"])
    time.sleep(0.01)

    async def both() -> list[dict[str, Any]]:
        runtime = load_runtime()
        return list(await asyncio.gather(run_recheck(runtime, 30), run_recheck(runtime, 30)))

    first, second = asyncio.run(both())
    assert sorted(first["restored"] + second["restored"]) == [fingerprint(HEALED)]
    assert sorted(probes(fake)) == sorted([fingerprint(HEALED), fingerprint(DEAD)])
