"""The dashboard's JSON, built from the pool's report, the day's usage and the quota views."""

from gemini_proxy.config import Config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.dashboard.view import INVALID_NOTE, bucket_json, key_quota, state_json
from gemini_proxy.upstream.code_assist import QuotaBucket
from gemini_proxy.usage.book import Sheet, Tally
from gemini_proxy.usage.quota import QuotaView
from gemini_proxy.usage.read import DayUsage

KEY = Credential("ai_studio", "AIzaFAKE-view-key")
ACCOUNT = Credential("oauth", "1//view-account", source="alice@example.com.json")


def row(credential: Credential) -> dict[str, object]:
    return {
        "fingerprint": credential.fingerprint,
        "kind": credential.kind,
        "pool": credential.pool,
        "source": credential.source,
        "state": {"status": "available"},
        "models": {},
        "requests": 0,
    }


def test_reset_times_become_seconds_and_junk_becomes_none() -> None:
    good = QuotaBucket("m", "REQUESTS", 0.5, 10, "2026-01-01T01:00:00Z")
    assert bucket_json(good, now=1767225600.0)["reset_in_seconds"] == 3600.0
    bad = QuotaBucket("m", None, None, None, "tomorrow")
    assert bucket_json(bad, now=0)["reset_in_seconds"] is None


def test_a_key_lists_what_it_used_and_every_model_with_a_configured_limit() -> None:
    sheet = Sheet({"gemini-2.5-pro": Tally(requests=4), "gemini-2.5-flash": Tally(requests=7)})
    rows = {r["model"]: r for r in key_quota(sheet, Config())["models"]}
    assert rows["gemini-2.5-flash"] == {
        "model": "gemini-2.5-flash",
        "used": 7,
        "limit": 250,
        "remaining": 243,
    }
    assert rows["gemini-2.5-pro"]["limit"] is None and rows["gemini-2.5-pro"]["used"] == 4
    assert rows["gemini-2.5-flash-lite"]["used"] == 0  # a configured model, unused today


def test_the_page_data_names_credentials_by_fingerprint_only() -> None:
    usage = DayUsage(
        "2026-01-01", {KEY.fingerprint: Sheet({"gemini-2.5-flash": Tally(2, 1, 3, 4)})}, 2
    )
    views = {ACCOUNT.fingerprint: QuotaView(0.0, [], "unavailable: try later")}
    body = state_json(
        Config(), [row(KEY), row(ACCOUNT)], usage, views, [KEY, ACCOUNT], "key:x", "t"
    )
    assert "alice@example.com" not in str(body) and "source" not in body["credentials"][0]
    assert body["totals"] == {"requests": 2, "errors": 1, "input_tokens": 3, "output_tokens": 4}
    assert body["instances"] == 2 and body["csrf"] == "t"
    account = body["credentials"][1]
    assert account["quota"]["error"] == "unavailable: try later"
    without = state_json(Config(), [row(ACCOUNT)], usage, {}, [ACCOUNT], None, None)
    assert without["credentials"][0]["quota"]["error"] == INVALID_NOTE
