"""retrieveUserQuota, as Code Assist answers it: buckets per model counting down as the account
is used, or whatever a test sets; the account's own project only; faults like any other call."""

import aiohttp

from gemini_proxy.credentials.fingerprint import fingerprint

from .support import FakeServer, aio
from .test_code_assist import bearer, envelope, login, project_of

REFRESH = "1//refresh-token-quota"
QUOTA = "/v1internal:retrieveUserQuota"


@aio
async def test_buckets_count_down_from_the_tiers_daily_requests(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s, REFRESH)
        project = (await project_of(fake, s, token))["cloudaicompanionProject"]
        for _ in range(3):
            answer = await fake.post(
                s, "/v1internal:generateContent", envelope(project, model="gemini-2.5-flash"),
                bearer(token),
            )  # fmt: skip
            assert answer.status == 200
        reply = await fake.post(s, QUOTA, {"project": project}, bearer(token))
    assert reply.status == 200, reply.raw
    buckets = {b["modelId"]: b for b in reply.json["buckets"]}
    flash, pro = buckets["gemini-2.5-flash"], buckets["gemini-2.5-pro"]
    assert flash["remainingAmount"] == "997" and flash["remainingFraction"] == 0.997
    assert pro["remainingAmount"] == "1000" and pro["tokenType"] == "REQUESTS"
    assert flash["resetTime"].endswith("Z")


@aio
async def test_a_test_sets_the_buckets_and_null_goes_back(fake: FakeServer) -> None:
    set_to = [
        {"modelId": "gemini-2.5-pro", "remainingFraction": 0, "resetTime": "2030-01-01T00:00:00Z"}
    ]
    fake.control("POST", "/_control/accounts", {"refresh_token": REFRESH, "quota": set_to})
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s, REFRESH)
        project = (await project_of(fake, s, token))["cloudaicompanionProject"]
        reply = await fake.post(s, QUOTA, {"project": project}, bearer(token))
        assert reply.json == {"buckets": set_to}
        fake.control("POST", "/_control/accounts", {"refresh_token": REFRESH, "quota": None})
        again = await fake.post(s, QUOTA, {"project": project}, bearer(token))
        assert len(again.json["buckets"]) > 1
    bad = fake.control("POST", "/_control/accounts", {"refresh_token": REFRESH, "quota": 5})
    assert "quota must be" in str(bad)


@aio
async def test_another_project_an_unknown_field_or_no_token_is_refused(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s, REFRESH)
        project = (await project_of(fake, s, token))["cloudaicompanionProject"]
        other = await fake.post(s, QUOTA, {"project": "someone-else"}, bearer(token))
        unknown = await fake.post(s, QUOTA, {"project": project, "mode": 1}, bearer(token))
        anonymous = await fake.post(s, QUOTA, {"project": project}, {})
    assert other.status == 403 and other.error()["status"] == "PERMISSION_DENIED"
    assert unknown.status == 400 and 'Unknown name "mode"' in unknown.error()["message"]
    assert anonymous.status == 401


@aio
async def test_faults_reach_it_when_named(fake: FakeServer) -> None:
    fake.fault("rate_limit_minute", credential=fingerprint(REFRESH), kinds=["retrieve_user_quota"])
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s, REFRESH)
        project = (await project_of(fake, s, token))["cloudaicompanionProject"]
        reply = await fake.post(s, QUOTA, {"project": project}, bearer(token))
    assert reply.status == 429
    assert fake.last()["kind"] == "retrieve_user_quota"
