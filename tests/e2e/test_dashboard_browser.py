"""The dashboard in a real headless browser (Debian's chromium), against the real server and the
fake Gemini: sign in through the form, see every credential, watch a 429's countdown appear, see
why a revoked account is invalid, recheck it from the keyboard, and take screenshots.

Screenshots go to the test's tmp dir (and to $DASHBOARD_SCREENSHOTS when set: that is how
docs/dashboard.png was made).
"""

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gemini_proxy.credentials.fingerprint import fingerprint
from tests.e2e.dashboard_helpers import (
    ALICE,
    BOB,
    CLIENT_KEY,
    FLASH,
    KEY_A,
    SECRETS,
    Pool,
    start_pool,
)
from tests.support.browser import browser
from tests.support.fake import FakeGemini

pytestmark = pytest.mark.timeout(180)

FINGERPRINTS = [fingerprint(secret) for secret in (ALICE, BOB, KEY_A, SECRETS[3])]
WAIT_MS = 15_000


@pytest.fixture
def pool(fake: FakeGemini, tmp_path: Path) -> Iterator[Pool]:
    yield from start_pool(fake, tmp_path / "creds")


def card(page: Any, secret: str) -> Any:
    return page.locator(f'article[data-fingerprint="{fingerprint(secret)}"]')


def seconds_shown(text: str) -> int:
    found = re.search(r"(?:(\d+) m )?(\d+) s", text)
    assert found, text
    return int(found.group(1) or 0) * 60 + int(found.group(2))


def save(page: Any, folder: Path, name: str) -> Path:
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    extra = os.environ.get("DASHBOARD_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / name)
    return path


def quota_for_alice(pool: Pool) -> None:
    reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7 * 3600 + 1234))
    buckets = [
        {"modelId": "gemini-2.5-pro", "tokenType": "REQUESTS", "remainingAmount": "212",
         "remainingFraction": 0.1413, "resetTime": reset},
        {"modelId": "gemini-2.5-flash", "tokenType": "REQUESTS", "remainingAmount": "1342",
         "remainingFraction": 0.8947, "resetTime": reset},
    ]  # fmt: skip
    pool.control("accounts", {"refresh_token": ALICE, "quota": buckets})


def test_sign_in_see_every_credential_watch_a_429_and_recheck_a_revoked_account(
    pool: Pool, tmp_path: Path
) -> None:
    quota_for_alice(pool)
    for n in range(6):
        pool.ask(f"Warm up {n}", "gemini-2.5-pro" if n % 3 == 0 else FLASH)
    # Bob's grant is revoked: his next request fails with invalid_grant and fails over.
    pool.control("accounts", {"refresh_token": BOB, "revoked": True})
    for n in range(8):
        pool.ask(f"After the revocation {n}")
    assert pool.admin()[fingerprint(BOB)]["state"]["status"] == "invalid"

    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{pool.url}/dashboard")

        # Signed out: the form, and nothing else.
        page.locator("#sign-in").wait_for(state="visible", timeout=WAIT_MS)
        assert page.locator("#board").is_hidden()
        page.fill("#key", "not-the-key")
        page.click("#sign-in button[type=submit]")
        page.locator("#sign-in-failed").wait_for(state="visible", timeout=WAIT_MS)
        page.fill("#key", CLIENT_KEY)
        page.keyboard.press("Enter")
        page.locator("#board").wait_for(state="visible", timeout=WAIT_MS)
        assert page.url == f"{pool.url}/dashboard"  # no key, no error flag left in the URL

        cookies = {c["name"]: c for c in context.cookies()}
        session = cookies["gemini_proxy_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert session["path"] == "/dashboard"
        assert page.evaluate("document.cookie") == ""  # scripts cannot read it

        # Every credential, by fingerprint.
        for fp in FINGERPRINTS:
            page.locator(f'article[data-fingerprint="{fp}"]').wait_for(timeout=WAIT_MS)
        assert page.locator("article.card").count() == 4

        # Bob: invalid, and why.
        bob = card(page, BOB)
        assert "Invalid" in bob.locator(".pill").inner_text()
        assert "invalid_grant" in bob.locator(".reason").inner_text()
        # Alice: Google's quota figures.
        alice = card(page, ALICE).inner_text()
        assert "14% left" in alice and "212 of 1,500" in alice and "resets in 7 h" in alice
        # Keys: configured limits, said to be configured.
        key_text = card(page, KEY_A).inner_text()
        found = re.findall(r"gemini-2.5-flash\n(\d+) of 250 left · (\d+) used", key_text)
        left, used = map(int, found[0])
        # The page's own JSON (its cookie, through the browser): the same figure.
        state = page.request.get(f"{pool.url}/dashboard/api/state").json()
        row = next(r for r in state["credentials"] if r["fingerprint"] == fingerprint(KEY_A))
        assert left + used == 250 and used == row["usage"]["models"][FLASH]["requests"] > 0
        assert "configured daily limits" in page.locator("#note").inner_text()

        # A 429 on key A (40 s hint) while the page watches: its countdown appears.
        pool.fake.fault(
            {"type": "rate_limit_minute", "retry_delay": "40s"}, key=KEY_A, model=FLASH, times=1
        )
        for n in range(8):
            pool.ask(f"Trigger {n}")
            if pool.admin()[fingerprint(KEY_A)]["models"].get(FLASH, {}).get("status"):
                break
        key_a = card(page, KEY_A)
        key_a.locator(".pill.rate_limited").wait_for(timeout=WAIT_MS)
        first = seconds_shown(key_a.locator(".pill").inner_text())
        assert 30 <= first <= 40
        page.wait_for_timeout(2200)
        later = seconds_shown(key_a.locator(".pill").inner_text())
        assert first - 4 <= later < first  # counting down, live, between polls
        assert FLASH in key_a.locator(".benches").inner_text()
        failures = page.locator("#failures").inner_text()
        assert "rate_limited" in failures and fingerprint(KEY_A) in failures

        save(page, tmp_path, "dashboard-light.png")

        # Recheck Bob: still revoked, so still failing, with the reason.
        button = bob.locator("button[data-recheck]")
        button.click()
        bob.locator(".result.bad").wait_for(timeout=WAIT_MS)
        assert "revoked" in bob.locator(".result").inner_text()

        # Google takes him back; a recheck from the keyboard restores him at once, and the
        # keyboard's place survives the page redrawing itself.
        pool.control("accounts", {"refresh_token": BOB, "revoked": False})
        button.focus()
        page.keyboard.press("Enter")
        bob.locator(".result.ok").wait_for(timeout=WAIT_MS)
        bob.locator(".pill.available").wait_for(timeout=WAIT_MS)
        assert pool.admin()[fingerprint(BOB)]["state"]["status"] == "available"
        page.wait_for_timeout(1500)  # at least one more poll and redraw
        assert page.evaluate("document.activeElement.dataset.recheck") == fingerprint(BOB)

        # No secret anywhere in the page, its URL or its storage.
        html = page.content()
        assert not [secret for secret in SECRETS if secret in html or secret in page.url]

        dark = chromium.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
        dark.add_cookies([session])
        dark_page = dark.new_page()
        dark_page.goto(f"{pool.url}/dashboard")
        dark_page.locator("article.card").first.wait_for(timeout=WAIT_MS)
        background = dark_page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(14, 17, 22)"
        save(dark_page, tmp_path, "dashboard-dark.png")

        phone = chromium.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
        )
        phone.add_cookies([session])
        phone_page = phone.new_page()
        phone_page.goto(f"{pool.url}/dashboard")
        phone_page.locator("article.card").first.wait_for(timeout=WAIT_MS)
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
        save(phone_page, tmp_path, "dashboard-phone.png")

        # Signing out drops the cookie; the API answers 401 again.
        page.click("#sign-out button")
        page.locator("#sign-in").wait_for(state="visible", timeout=WAIT_MS)
        assert "gemini_proxy_session" not in {c["name"] for c in context.cookies()}
