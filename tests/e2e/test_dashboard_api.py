"""The dashboard over HTTP against a real server and the fake Gemini: a public page that holds
no data, sign-in by POST form into a strict cookie, a JSON API that takes the cookie (and only
it takes it), actions safe against other sites, quota from Code Assist, and no secret anywhere.
"""

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gemini_proxy.credentials.fingerprint import fingerprint
from tests.e2e.dashboard_helpers import (
    ALICE,
    BOB,
    CLIENT_KEY,
    KEY_A,
    SECRETS,
    Pool,
    dashboard_config,
    start_pool,
)
from tests.support.fake import FakeGemini
from tests.support.http import Reply, call

STATE = "/dashboard/api/state"


@pytest.fixture
def pool(fake: FakeGemini, tmp_path: Path) -> Iterator[Pool]:
    yield from start_pool(fake, tmp_path / "creds")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    """One request, redirects not followed (a sign-in answers 303)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return Reply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers.items()), error.read())


def sign_in(url: str, key: str, page: str = "", **headers: str) -> Reply:
    form = urllib.parse.urlencode({"key": key, "page": page}).encode()
    sent = {name.replace("_", "-"): value for name, value in headers.items()}
    sent["content-type"] = "application/x-www-form-urlencoded"
    return send("POST", f"{url}/dashboard/sign-in", form, sent)


def session_of(reply: Reply) -> str:
    found = re.match(r"gemini_proxy_session=([^;]+)", reply.headers.get("set-cookie", ""))
    assert found, reply.headers
    return found.group(1)


def cookie(session: str) -> dict[str, str]:
    return {"cookie": f"gemini_proxy_session={session}"}


def test_the_page_is_public_holds_no_data_and_runs_no_inline_script(pool: Pool) -> None:
    page = call("GET", f"{pool.url}/dashboard")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert (
        "frame-ancestors 'none'" in policy and page.headers["x-content-type-options"] == "nosniff"
    )
    html = page.body.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [] and " style=" not in html
    assert not any(fingerprint(s) in html for s in SECRETS)  # data comes from the API only
    for name, kind in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        asset = call("GET", f"{pool.url}/dashboard/static/{name}")
        assert asset.status == 200 and asset.headers["content-type"].startswith(kind)
    script = call("GET", f"{pool.url}/dashboard/static/dashboard.js").body.decode()
    assert "innerHTML" not in script and "eval(" not in script
    assert call("GET", f"{pool.url}/dashboard/static/../../config.py").status in (401, 404)


def test_a_trailing_slash_leads_to_the_page(pool: Pool) -> None:
    reply = send("GET", f"{pool.url}/dashboard/")
    assert reply.status == 307 and reply.headers["location"].endswith("/dashboard")


def test_the_json_needs_a_sign_in_and_a_get_never_signs_in(pool: Pool) -> None:
    refused = call("GET", f"{pool.url}{STATE}")
    assert refused.status == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    assert call("GET", f"{pool.url}/dashboard/sign-in?key={CLIENT_KEY}").status == 405


def test_sign_in_sets_a_strict_http_only_cookie_that_opens_the_api(pool: Pool) -> None:
    reply = sign_in(pool.url, CLIENT_KEY)
    assert reply.status == 303 and reply.headers["location"] == "/dashboard"
    attributes = reply.headers["set-cookie"].lower()
    for attribute in ("httponly", "samesite=strict", "path=/dashboard", "max-age=43200"):
        assert attribute in attributes
    assert "secure" not in attributes  # plain http on loopback
    session = session_of(reply)
    assert CLIENT_KEY not in session and CLIENT_KEY not in str(reply.headers)
    state = call("GET", f"{pool.url}{STATE}", headers=cookie(session))
    assert state.status == 200
    body = state.json()
    assert body["client"] == f"key:{fingerprint(CLIENT_KEY)}" and body["csrf"]
    assert {row["fingerprint"] for row in body["credentials"]} == {
        fingerprint(s) for s in (ALICE, BOB, KEY_A, SECRETS[3])
    }
    assert state.headers["cache-control"] == "no-store"


def test_behind_https_and_a_stage_the_cookie_is_secure_and_scoped_to_the_page(
    pool: Pool,
) -> None:
    reply = sign_in(pool.url, CLIENT_KEY, page="/api/dashboard", x_forwarded_proto="https")
    attributes = reply.headers["set-cookie"].lower()
    assert "secure" in attributes and "path=/api/dashboard" in attributes
    assert reply.headers["location"] == "/api/dashboard"
    # Anything else the form claims is ignored: no open redirect, no broader cookie.
    for page in ("//evil.example/dashboard", "https://evil.example/dashboard", "/", "/v1"):
        assert sign_in(pool.url, CLIENT_KEY, page=page).headers["location"] == "/dashboard"


def test_a_wrong_key_signs_in_nobody_and_says_so_without_the_key(pool: Pool) -> None:
    reply = sign_in(pool.url, "sk-guess-0000000000")
    assert reply.status == 303 and reply.headers["location"] == "/dashboard?signin=failed"
    assert "set-cookie" not in {name.lower() for name in reply.headers}


def test_sign_in_from_another_site_is_refused(pool: Pool) -> None:
    assert sign_in(pool.url, CLIENT_KEY, sec_fetch_site="cross-site").status == 403
    assert sign_in(pool.url, CLIENT_KEY, origin="https://evil.example").status == 403


def test_the_cookie_authorises_nothing_outside_the_dashboards_api(pool: Pool) -> None:
    session = session_of(sign_in(pool.url, CLIENT_KEY))
    for method, path in (
        ("GET", "/v1/models"),
        ("GET", "/admin/credentials"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/messages"),
    ):
        reply = call(
            method,
            f"{pool.url}{path}",
            b"{}",
            {**cookie(session), "content-type": "application/json"},
        )
        assert reply.status == 401, path


def test_recheck_needs_the_csrf_token_and_the_same_origin(pool: Pool) -> None:
    session = session_of(sign_in(pool.url, CLIENT_KEY))
    token = call("GET", f"{pool.url}{STATE}", headers=cookie(session)).json()["csrf"]
    url = f"{pool.url}/dashboard/api/credentials/{fingerprint(KEY_A)}/recheck"
    assert call("POST", url, headers=cookie(session)).status == 403
    cross = {**cookie(session), "x-gemini-proxy-csrf": token, "sec-fetch-site": "cross-site"}
    assert call("POST", url, headers=cross).status == 403
    done = call("POST", url, headers={**cookie(session), "x-gemini-proxy-csrf": token})
    assert done.status == 200
    assert done.json() == {
        "object": "dashboard.recheck",
        "credential": fingerprint(KEY_A),
        "works": True,
        "problem": None,
        "state": {"status": "available"},
        "models": {},
    }
    probes = [r for r in pool.fake.requests() if r["kind"] == "get_model"]
    assert [r["credential"] for r in probes] == [fingerprint(KEY_A)]
    missing = call(
        "POST",
        f"{pool.url}/dashboard/api/credentials/000000000000/recheck",
        headers={**cookie(session), "x-gemini-proxy-csrf": token},
    )
    assert missing.status == 404


def test_recheck_finds_a_dead_key_at_once(pool: Pool) -> None:
    pool.fake.fault({"type": "invalid_key"}, key=KEY_A, kinds=["get_model"])
    url = f"{pool.url}/dashboard/api/credentials/{fingerprint(KEY_A)}/recheck"
    done = call("POST", url, headers={"authorization": f"Bearer {CLIENT_KEY}"})
    assert done.status == 200 and done.json()["works"] is False
    assert done.json()["problem"].startswith("invalid_credential")
    assert pool.admin()[fingerprint(KEY_A)]["state"]["status"] == "invalid"


def test_code_assist_quota_is_googles_cached_and_failures_are_shown(pool: Pool) -> None:
    headers = {"authorization": f"Bearer {CLIENT_KEY}"}
    for n in range(6):
        pool.ask(f"count me {n}")
    accounts_answered = {
        fp: sum(
            1 for r in pool.fake.requests() if r["kind"] == "generate" and r["credential"] == fp
        )
        for fp in (fingerprint(ALICE), fingerprint(BOB))
    }
    body = call("GET", f"{pool.url}{STATE}", headers=headers).json()
    rows = {row["fingerprint"]: row for row in body["credentials"]}
    for fp, answered in accounts_answered.items():
        quota = rows[fp]["quota"]
        assert quota["source"] == "code_assist" and quota["error"] is None
        flash = next(b for b in quota["buckets"] if b["model"] == "gemini-2.5-flash")
        # The fake counts down from the tier's 1,000 a day, as Google does.
        assert flash["remaining"] == 1000 - answered and flash["limit"] == 1000
        assert 0 < flash["reset_in_seconds"] <= 86400
        assert rows[fp]["usage"]["requests"] == answered
    key = rows[fingerprint(KEY_A)]["quota"]
    assert key["source"] == "configured"
    assert {m["model"]: m["limit"] for m in key["models"]}["gemini-2.5-flash"] == 250
    # A page polling every second asks Google once per account per cache period.
    for _ in range(4):
        call("GET", f"{pool.url}{STATE}", headers=headers)
    asked = [r for r in pool.fake.requests() if r["kind"] == "retrieve_user_quota"]
    assert sorted(r["credential"] for r in asked) == sorted(accounts_answered)
    assert all(r["body"] == {"project": r["body"]["project"]} for r in asked)


def test_a_quota_google_refuses_is_shown_and_an_invalid_account_is_not_asked(
    fake: FakeGemini, tmp_path: Path
) -> None:
    config = dashboard_config(fake, usage={"quota_cache_seconds": 0})
    for pool in start_pool(fake, tmp_path / "creds", config):
        fake.fault({"type": "rate_limit_minute"}, kinds=["retrieve_user_quota"])
        pool.control("accounts", {"refresh_token": BOB, "revoked": True})
        for n in range(6):
            pool.ask(f"spend {n}")
        assert pool.admin()[fingerprint(BOB)]["state"]["status"] == "invalid"
        headers = {"authorization": f"Bearer {CLIENT_KEY}"}
        rows = {
            r["fingerprint"]: r
            for r in call("GET", f"{pool.url}{STATE}", headers=headers).json()["credentials"]
        }
        assert rows[fingerprint(ALICE)]["quota"]["error"].startswith("rate_limited")
        assert rows[fingerprint(BOB)]["quota"]["error"].startswith("not asked")
        assert rows[fingerprint(BOB)]["state"]["reason"] == "invalid_credential: invalid_grant"
        asked = {r["credential"] for r in fake.requests() if r["kind"] == "retrieve_user_quota"}
        assert asked == {fingerprint(ALICE)}
        # The page's request is not the pool's: nothing was benched by the quota's failure.
        assert pool.admin()[fingerprint(ALICE)]["state"]["status"] == "available"


def test_off_means_gone(fake: FakeGemini, tmp_path: Path) -> None:
    config = dashboard_config(fake, dashboard={"enabled": False})
    for pool in start_pool(fake, tmp_path / "creds", config):
        assert call("GET", f"{pool.url}/dashboard").status == 404
        headers = {"authorization": f"Bearer {CLIENT_KEY}"}
        assert call("GET", f"{pool.url}{STATE}", headers=headers).status == 404
