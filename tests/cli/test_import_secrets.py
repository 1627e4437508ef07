"""`gemini-proxy import-secrets` round-trips a credentials folder through Secrets Manager."""

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from gemini_proxy.aws import secrets
from gemini_proxy.cli.import_secrets import run
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.runtime import load_runtime

ACCOUNT = {
    "access_token": "ya29.FAKE-access",
    "refresh_token": "1//FAKE-refresh-token",
    "expiry_date": 1,
    "token_type": "Bearer",
}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        secrets._providers.clear()
        yield boto3.client("secretsmanager", region_name="us-east-1")
        secrets._providers.clear()


def folder(tmp_path: Path, keys: list[str]) -> Path:
    creds = tmp_path / "oauth creds"
    creds.mkdir(exist_ok=True)
    (creds / "ai_studio_keys.txt").write_text("\n".join(keys) + "\n")
    (creds / "oauth_creds.json").write_text(json.dumps(ACCOUNT))
    return creds


def args(creds: Path, **extra: object) -> argparse.Namespace:
    values = {"secret_name": "gemini-proxy/credentials", "creds_dir": str(creds), "config": None}
    return argparse.Namespace(**{**values, "region": None, "yes": True, "dry_run": False, **extra})


def test_round_trip_through_the_secret(
    client: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GEMINI_PROXY_API_KEYS", "client-one,client-two")
    creds = folder(tmp_path, ["AIzaFAKE-key-1", "AIzaFAKE-key-2"])

    assert run(args(creds, dry_run=True), client) == 0
    plan = capsys.readouterr().out
    assert "(create)" in plan and fingerprint("AIzaFAKE-key-1") in plan
    assert fingerprint(ACCOUNT["refresh_token"]) in plan
    with pytest.raises(client.exceptions.ResourceNotFoundException):  # type: ignore[attr-defined]
        client.get_secret_value(SecretId="gemini-proxy/credentials")  # type: ignore[attr-defined]

    assert run(args(creds), client) == 0
    runtime = load_runtime({"GEMINI_PROXY_SECRET_NAME": "gemini-proxy/credentials"}, client)
    loaded = {c.fingerprint: c.kind for c in runtime.credentials}
    assert loaded == {
        fingerprint("AIzaFAKE-key-1"): "ai_studio",
        fingerprint("AIzaFAKE-key-2"): "ai_studio",
        fingerprint(ACCOUNT["refresh_token"]): "oauth",
    }
    assert runtime.client_keys == ["client-one", "client-two"]

    # Rotate: one key out, one in. The plan names both by fingerprint.
    folder(tmp_path, ["AIzaFAKE-key-2", "AIzaFAKE-key-3"])
    assert run(args(creds), client) == 0
    update = capsys.readouterr().out
    assert "(update)" in update
    assert f"+ {fingerprint('AIzaFAKE-key-3')}" in update
    assert f"- {fingerprint('AIzaFAKE-key-1')}" in update
    for output in (plan, update):
        assert (
            "AIzaFAKE" not in output and "FAKE-refresh" not in output and "client-one" not in output
        )


def test_nothing_to_import_is_an_error(client: object, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(args(empty), client) == 2
