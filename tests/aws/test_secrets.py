"""Credentials from Secrets Manager (moto): parsed, cached, never written to disk."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gemini_proxy.aws import secrets
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.runtime import load_runtime

SECRET = {
    "ai_studio_keys": ["AIzaFAKE-secret-one", "AIzaFAKE-secret-two", "AIzaFAKE-secret-one"],
    "primary_keys": ["AIzaFAKE-primary"],
    "client_api_keys": ["client-key-from-secret"],
}


class CountingClient:
    """A Secrets Manager client that counts GetSecretValue calls."""

    def __init__(self) -> None:
        self.client = boto3.client("secretsmanager", region_name="us-east-1")
        self.calls = 0
        self.client.meta.events.register("before-call.secrets-manager.GetSecretValue", self._count)

    def _count(self, **_: Any) -> None:
        self.calls += 1


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingClient]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        counting = CountingClient()
        counting.client.create_secret(
            Name="gemini-proxy/credentials", SecretString=json.dumps(SECRET)
        )
        secrets._providers.clear()
        yield counting
        secrets._providers.clear()


def test_runtime_reads_credentials_and_client_keys_from_the_secret(
    aws: CountingClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    environ = {"GEMINI_PROXY_SECRET_NAME": "gemini-proxy/credentials"}
    runtime = load_runtime(environ, secrets_client=aws.client)
    by_pool = {(c.fingerprint, c.pool) for c in runtime.credentials}
    assert by_pool == {
        (fingerprint("AIzaFAKE-primary"), "primary"),
        (fingerprint("AIzaFAKE-secret-one"), "fallback"),
        (fingerprint("AIzaFAKE-secret-two"), "fallback"),
    }
    assert runtime.client_keys == ["client-key-from-secret"]
    # Nothing from the secret lands on disk.
    assert not any(
        "AIzaFAKE" in path.read_text(errors="ignore")
        for path in tmp_path.rglob("*")
        if path.is_file()
    )


def test_the_secret_is_read_once_per_cache_period(aws: CountingClient) -> None:
    for _ in range(20):
        data = secrets.read_secret("gemini-proxy/credentials", max_age=1, client=aws.client)
        assert data["client_api_keys"] == ["client-key-from-secret"]
    assert aws.calls == 1
    # Once the cache period is over, the next read goes to Secrets Manager again (rotation).
    time.sleep(1.1)
    secrets.read_secret("gemini-proxy/credentials", max_age=1, client=aws.client)
    assert aws.calls == 2


def test_a_malformed_secret_loads_nothing_and_says_so_without_values() -> None:
    contents = secrets.parse_secret(
        {"ai_studio_keys": "AIzaFAKE-not-a-list", "client_api_keys": [1]}
    )
    assert contents.credentials == [] and contents.client_keys == []
    assert secrets.parse_secret(["AIzaFAKE"]).credentials == []
