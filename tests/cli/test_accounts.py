"""`gemini-proxy import-gemini-cli` and the hint `serve` gives when Gemini CLI is logged in."""

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gemini_proxy.cli.accounts import gemini_cli_hint
from gemini_proxy.cli.main import main
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential
from gemini_proxy.credentials.oauth_files import load_oauth_accounts
from tests.support.http import call
from tests.support.servers import free_port

REFRESH = "1//0g-imported-refresh-token"
ACCESS = "ya29.imported-access-token"


def gemini_cli_login(home: Path, refresh_token: str = REFRESH) -> Path:
    """What `gemini` leaves behind after 'Login with Google'."""
    folder = home / ".gemini"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "oauth_creds.json"
    document = {
        "access_token": ACCESS,
        "refresh_token": refresh_token,
        "scope": "https://www.googleapis.com/auth/cloud-platform",
        "token_type": "Bearer",
        "expiry_date": int(time.time() * 1000),
    }
    path.write_text(json.dumps(document))
    return path


def test_import_copies_the_login_privately_and_prints_only_the_fingerprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = gemini_cli_login(tmp_path)
    folder = tmp_path / "oauth creds"
    assert main(["import-gemini-cli", "--from", str(source), "--creds-dir", str(folder)]) == 0
    out, err = capsys.readouterr()
    target = folder / f"gemini-cli-{fingerprint(REFRESH)}.json"
    assert out.startswith(f"imported Gemini CLI account {fingerprint(REFRESH)}")
    assert REFRESH not in out + err and ACCESS not in out + err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["refresh_token"] == REFRESH
    [account] = load_oauth_accounts(folder)
    assert account.fingerprint == fingerprint(REFRESH)

    # Again: the same account's file is updated, not duplicated.
    assert main(["import-gemini-cli", "--from", str(source), "--creds-dir", str(folder)]) == 0
    assert capsys.readouterr().out.startswith("updated")
    # A second Google account (logged in with `gemini` later) becomes a second file.
    gemini_cli_login(tmp_path, "1//0g-second-account")
    assert main(["import-gemini-cli", "--from", str(source), "--creds-dir", str(folder)]) == 0
    assert len(load_oauth_accounts(folder)) == 2
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_import_explains_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.json"
    assert main(["import-gemini-cli", "--from", str(missing), "--creds-dir", str(tmp_path)]) == 1
    assert "Login with Google" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"access_token": ACCESS}))
    assert main(["import-gemini-cli", "--from", str(broken), "--creds-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "has no refresh_token" in err and ACCESS not in err


def test_hint_only_when_the_login_is_not_loaded(tmp_path: Path) -> None:
    assert gemini_cli_hint([], home=tmp_path) is None  # Gemini CLI not logged in
    gemini_cli_login(tmp_path)
    hint = gemini_cli_hint([], home=tmp_path)
    assert hint is not None and "gemini-proxy import-gemini-cli" in hint
    assert REFRESH not in hint and fingerprint(REFRESH) in hint
    loaded = [Credential("oauth", REFRESH, pool="primary")]
    assert gemini_cli_hint(loaded, home=tmp_path) is None


def test_serve_prints_the_hint_at_start(tmp_path: Path) -> None:
    gemini_cli_login(tmp_path / "home")
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "GEMINI_PROXY_API_KEYS"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gemini_proxy.cli.main", "serve", "--port", str(port)],
        cwd=tmp_path,
        env={**environment, "HOME": str(tmp_path / "home")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if call("GET", f"http://127.0.0.1:{port}/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    lines = stderr.decode().splitlines()
    assert any(line.startswith("hint: Gemini CLI is logged in") for line in lines), lines
    assert REFRESH.encode() not in stderr and ACCESS.encode() not in stderr
