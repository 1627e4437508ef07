"""No secret through the dashboard: a `serve` process logging at DEBUG, signed in to by form
(a wrong key first), read, rechecked and signed out of; then its whole output and every answer
are searched for the client key, the AI Studio keys and the refresh tokens."""

import json
import os
import urllib.parse
from pathlib import Path

from gemini_proxy.credentials.fingerprint import fingerprint
from tests.e2e.dashboard_helpers import ALICE, BOB, CLIENT_KEY, KEY_A, KEY_B, SECRETS, write_account
from tests.e2e.test_dashboard_api import send, session_of, sign_in
from tests.support.fake import FakeGemini
from tests.support.http import call, post_json
from tests.support.processes import start_serve, wait_healthy


def test_no_secret_in_logs_answers_or_urls(fake: FakeGemini, tmp_path: Path) -> None:
    creds = tmp_path / "oauth creds"
    creds.mkdir()
    write_account(creds, ALICE)
    write_account(creds, BOB)
    (creds / "ai_studio_keys.txt").write_text(f"{KEY_A}\n{KEY_B}\n")
    post_json(f"{fake.url}/_control/accounts", {"refresh_token": BOB, "revoked": True})
    config = tmp_path / "config.yaml"
    config.write_text(
        f"upstream: {{ai_studio_base_url: '{fake.url}', code_assist_base_url: '{fake.url}', "
        f"oauth_token_url: '{fake.url}/token'}}\n"
        f"state: {{backend: sqlite, sqlite_path: '{tmp_path / 'state.sqlite3'}'}}\n"
        "ai_studio: {fallback_mode: combined}\noauth: {onboard_poll_seconds: 0.01}\n"
        "usage: {flush_seconds: 0.2}\n"
    )
    env = {**os.environ, "GEMINI_PROXY_API_KEYS": CLIENT_KEY, "LOG_LEVEL": "DEBUG"}
    log = tmp_path / "serve.log"
    seen: list[str] = []
    with log.open("wb") as output:
        url, server = start_serve(
            ["--config", str(config), "--creds-dir", str(creds)], tmp_path, env, output
        )
        try:
            wait_healthy(url, server)
            for n in range(6):
                reply = post_json(
                    f"{url}/v1/chat/completions",
                    {
                        "model": "gemini-2.5-flash",
                        "messages": [{"role": "user", "content": f"{n}"}],
                    },
                    {"authorization": f"Bearer {CLIENT_KEY}"},
                )
                assert reply.status == 200
            wrong = sign_in(url, KEY_A)  # a Gemini key is no client key
            right = sign_in(url, CLIENT_KEY)
            session = session_of(right)
            cookie = {"cookie": f"gemini_proxy_session={session}"}
            state = call("GET", f"{url}/dashboard/api/state", headers=cookie)
            body = state.json()
            assert body["credentials"] and body["csrf"]
            recheck = call(
                "POST",
                f"{url}/dashboard/api/credentials/{fingerprint(BOB)}/recheck",
                headers={**cookie, "x-gemini-proxy-csrf": body["csrf"]},
            )
            assert recheck.status == 200 and recheck.json()["works"] is False
            out = send(
                "POST",
                f"{url}/dashboard/sign-out",
                urllib.parse.urlencode({"page": "/dashboard"}).encode(),
                {**cookie, "content-type": "application/x-www-form-urlencoded"},
            )
            assert out.status == 303 and "max-age=0" in out.headers["set-cookie"].lower()
            for reply in (wrong, right, state, recheck, out):
                seen.append(json.dumps(reply.headers) + reply.body.decode())
            page = call("GET", f"{url}/dashboard")
            seen.append(page.body.decode())
        finally:
            server.terminate()
            server.wait(timeout=20)
    logged = log.read_text()
    assert '"path":"/dashboard/sign-in"' in logged  # the sign-ins were logged, without keys
    for text in (logged, *seen):
        assert [secret for secret in SECRETS if secret in text] == []
