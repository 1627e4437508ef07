"""Known fake secrets through every scenario; then every output is searched for them.

Logs (the server's whole stdout/stderr), response bodies and headers, the admin view, the
status command and the state store's file. Access tokens are the one secret the store holds,
and it holds them sealed with the refresh token (upstream/sealing.py), so not even they may
appear in plain text there.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from openai import OpenAI

from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from tests.support.fake import FakeGemini
from tests.support.http import call, post_json
from tests.support.processes import start_serve, wait_healthy
from tests.support.servers import ServerThread

GOOD_KEY = "AIzaHYGIENEgoodKEY0123456789abcdefghij"
DEAD_KEY = "AIzaHYGIENEdeadKEY0123456789abcdefghij"
LEAKED_KEY = "AIzaHYGIENEleakKEY0123456789abcdefghij"
REFRESH = "1//hygiene-refresh-token-do-not-print"
REVOKED = "1//hygiene-revoked-token-do-not-print"
INITIAL_ACCESS = "ya29.hygiene-initial-access-token"
CLIENT_KEY = "client-hygiene-key-do-not-print"
SECRETS = [GOOD_KEY, DEAD_KEY, LEAKED_KEY, REFRESH, REVOKED, INITIAL_ACCESS, CLIENT_KEY]
# Tokens the fake mints while the test runs look like this.
MINTED = re.compile(r"ya29\.fake-[A-Za-z0-9_-]{20,}")


def test_no_secret_appears_anywhere(tmp_path: Path) -> None:
    with ServerThread(create_fake_app(FakeSettings())) as fake_server:
        fake = FakeGemini(fake_server.url)
        creds = tmp_path / "oauth creds"
        creds.mkdir()
        (creds / "ai_studio_keys.txt").write_text(f"{GOOD_KEY}\n{DEAD_KEY}\n{LEAKED_KEY}\n")
        account = {"access_token": INITIAL_ACCESS, "refresh_token": REFRESH, "expiry_date": 1000}
        (creds / "account.json").write_text(json.dumps(account))
        (creds / "revoked.json").write_text(json.dumps({**account, "refresh_token": REVOKED}))
        post_json(f"{fake.url}/_control/accounts", {"refresh_token": REVOKED, "revoked": True})
        fake.fault({"type": "invalid_key"}, key=DEAD_KEY)
        fake.fault({"type": "leaked"}, key=LEAKED_KEY)
        state = tmp_path / "state.sqlite3"
        config = tmp_path / "config.yaml"
        config.write_text(
            f"upstream: {{ai_studio_base_url: '{fake.url}', code_assist_base_url: '{fake.url}', "
            f"oauth_token_url: '{fake.url}/token', max_attempts: 5}}\n"
            f"state: {{backend: sqlite, sqlite_path: '{state}'}}\n"
            "ai_studio: {fallback_mode: combined}\noauth: {onboard_poll_seconds: 0.05}\n"
        )
        env = {**os.environ, "GEMINI_PROXY_API_KEYS": CLIENT_KEY, "LOG_LEVEL": "DEBUG"}
        args = ["--config", str(config), "--creds-dir", str(creds)]
        url, server = start_serve(args, tmp_path, env)
        outputs: list[str] = []
        try:
            wait_healthy(url, server)
            client = OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0)
            for n in range(12):
                messages = [{"role": "user", "content": f"hygiene {n}"}]
                with client.chat.completions.with_streaming_response.create(
                    model="gemini-2.5-flash", messages=messages, stream=n % 2 == 1
                ) as raw:
                    outputs.append(json.dumps(dict(raw.headers)) + raw.read().decode())
            for path in ("/health", "/v1/models", "/admin/credentials", "/openapi.json"):
                reply = call("GET", url + path, headers={"authorization": f"Bearer {CLIENT_KEY}"})
                outputs.append(json.dumps(reply.headers) + reply.body.decode())
            wrong = call("GET", url + "/v1/models", headers={"authorization": f"Bearer {GOOD_KEY}"})
            assert wrong.status == 401
            outputs.append(json.dumps(wrong.headers) + wrong.body.decode())
            status = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "gemini_proxy.cli.main",
                    "status",
                    "--json",
                    "--config",
                    str(config),
                    "--creds-dir",
                    str(creds),
                ],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
            outputs.append(status.stdout + status.stderr)
        finally:
            server.terminate()
            logs, _ = server.communicate(timeout=15)
        outputs.append(logs.decode(errors="replace"))
        minted = {
            r["body"].get("access_token")
            for r in fake.requests()
            if isinstance(r.get("body"), dict) and r["body"].get("access_token")
        }
        stored = b"".join(p.read_bytes() for p in tmp_path.glob("state.sqlite3*"))

    everything = "\n".join(outputs)
    # The scenarios really ran: the dead and leaked keys and the revoked account were refused.
    admin = next(o for o in outputs if '"fingerprint"' in o and "invalid" in o)
    assert admin.count('"invalid"') >= 3
    for secret in SECRETS:
        assert secret not in everything, f"a secret leaked: {secret[:12]}..."
        assert secret.encode() not in stored
    assert not MINTED.search(everything), "a minted access token leaked"
    assert not MINTED.search(stored.decode(errors="ignore")), "an access token is stored unsealed"
    assert not minted  # the fake's log never holds them either
