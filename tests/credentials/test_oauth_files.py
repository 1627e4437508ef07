"""Gemini CLI OAuth accounts from the credentials folder and from GEMINI_API_KEY_<n>."""

import json
from pathlib import Path
from typing import Any

import pytest

from gemini_proxy.config import Config
from gemini_proxy.credentials import oauth_files, sources
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential, OAuthSeed
from gemini_proxy.credentials.oauth_files import credential_from_json, load_oauth_accounts
from gemini_proxy.credentials.sources import load_credentials

REFRESH_A = "1//0gAAAA-refresh-token-of-alice"
REFRESH_B = "1//0gBBBB-refresh-token-of-bob"
ACCESS = "ya29.a0-secret-access-token"


class Warnings:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def warning(self, message: object, *args: object, **kwargs: object) -> None:
        self.messages.append(str(message))


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> Warnings:
    recorder = Warnings()
    monkeypatch.setattr(oauth_files, "logger", recorder)
    monkeypatch.setattr(sources, "logger", recorder)
    return recorder


def creds(refresh_token: str = REFRESH_A, **more: Any) -> dict[str, Any]:
    return {
        "access_token": ACCESS,
        "refresh_token": refresh_token,
        "scope": "https://www.googleapis.com/auth/cloud-platform",
        "token_type": "Bearer",
        "id_token": "eyJ.fake.jwt",
        "expiry_date": 1_767_225_600_000,
        **more,
    }


def test_every_json_file_is_an_account_in_the_primary_pool(
    tmp_path: Path, warnings: Warnings
) -> None:
    (tmp_path / "alice.json").write_text(json.dumps(creds(REFRESH_A, project_id="p-1")))
    (tmp_path / "bob.json").write_text(json.dumps(creds(REFRESH_B)))
    alice, bob = load_oauth_accounts(tmp_path)
    assert (alice.kind, alice.pool, alice.source) == ("oauth", "primary", "alice.json")
    assert alice.secret == REFRESH_A and alice.fingerprint == fingerprint(REFRESH_A)
    assert alice.seed == OAuthSeed(ACCESS, 1_767_225_600_000, "p-1")
    assert bob.seed is not None and bob.seed.project_id is None
    assert warnings.messages == []


def test_tokens_stay_out_of_repr() -> None:
    account = credential_from_json(creds(), "alice.json")
    assert account is not None
    shown = f"{account!r} {account}"
    assert REFRESH_A not in shown and ACCESS not in shown
    assert account.fingerprint in shown


def test_quoted_expiry_and_missing_optional_fields(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"refresh_token": REFRESH_A, "expiry_date": "5"}))
    [account] = load_oauth_accounts(tmp_path)
    assert account.seed == OAuthSeed(None, 5, None)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"access_token": "' + ACCESS + '", "refresh_token": ', "is not valid JSON"),
        (json.dumps([REFRESH_A]), "should hold a JSON object"),
        (json.dumps({"access_token": ACCESS}), "has no refresh_token"),
        (json.dumps({"refresh_token": "  "}), "has no refresh_token"),
    ],
)
def test_bad_files_are_skipped_with_a_warning_naming_only_the_file(
    tmp_path: Path, warnings: Warnings, content: str, why: str
) -> None:
    (tmp_path / "broken.json").write_text(content)
    (tmp_path / "good.json").write_text(json.dumps(creds()))
    assert [c.source for c in load_oauth_accounts(tmp_path)] == ["good.json"]
    [message] = warnings.messages
    assert message.startswith("broken.json ") and why in message
    assert ACCESS not in message and REFRESH_A not in message


def test_keys_json_and_other_files_are_not_accounts(tmp_path: Path, warnings: Warnings) -> None:
    (tmp_path / "keys.json").write_text(json.dumps(["AIza-key"]))
    (tmp_path / "notes.txt").write_text("{}")
    (tmp_path / "sub.json").mkdir()
    assert load_oauth_accounts(tmp_path) == []
    assert load_oauth_accounts(tmp_path / "missing") == []
    assert warnings.messages == []


def test_sources_put_accounts_first_and_read_oauth_json_from_env(
    tmp_path: Path, warnings: Warnings
) -> None:
    (tmp_path / "alice.json").write_text(json.dumps(creds(REFRESH_A)))
    (tmp_path / "ai_studio_keys.txt").write_text("AIza-key-one\n")
    environ = {
        "GEMINI_API_KEY_1": json.dumps(creds(REFRESH_B)),
        "GEMINI_API_KEY_2": "AIza-key-two",
        "GEMINI_API_KEY_3": '{"not": "an account"}',
        # The same account as a file: loaded once.
        "GEMINI_API_KEY_4": json.dumps(creds(REFRESH_A)),
    }
    loaded = load_credentials(Config(), tmp_path, environ)
    assert [(c.kind, c.pool, c.source) for c in loaded] == [
        ("oauth", "primary", "alice.json"),
        ("ai_studio", "fallback", "ai_studio_keys.txt"),
        ("oauth", "primary", "env:GEMINI_API_KEY_1"),
        ("ai_studio", "fallback", "env:GEMINI_API_KEY_2"),
    ]
    assert warnings.messages == [
        "GEMINI_API_KEY_3 has no refresh_token (log in with Gemini CLI to get one); "
        "it was not loaded as an OAuth account"
    ]


def test_ai_studio_credentials_are_unchanged() -> None:
    key = Credential("ai_studio", "AIza-key")
    assert key.seed is None and key.pool == "fallback"
    assert key == Credential("ai_studio", "AIza-key", seed=OAuthSeed("x"))  # seed is no identity
