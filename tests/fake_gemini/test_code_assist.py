"""Code Assist: OAuth refresh, bearer auth, envelope, project discovery and onboarding."""

import asyncio
import json
from typing import Any

import aiohttp

from gemini_proxy.credentials.fingerprint import fingerprint

from .support import FakeServer, Reply, aio, prompt, user

REFRESH = "1//refresh-token-alice"
ALICE = fingerprint(REFRESH)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(fake: FakeServer, s: aiohttp.ClientSession, refresh: str = REFRESH) -> str:
    reply = await fake.refresh(s, refresh)
    assert reply.status == 200, reply.raw
    return str(reply.json["access_token"])


async def project_of(fake: FakeServer, s: aiohttp.ClientSession, token: str) -> Any:
    body = {
        "metadata": {
            "ideType": "IDE_UNSPECIFIED",
            "platform": "PLATFORM_UNSPECIFIED",
            "pluginType": "GEMINI",
        }
    }
    reply = await fake.post(s, "/v1internal:loadCodeAssist", body, bearer(token))
    assert reply.status == 200, reply.raw
    return reply.json


def envelope(
    project: str | None, text: str = "hello", model: str = "gemini-2.5-pro", **inner: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "user_prompt_id": "p-1",
        "request": prompt(text, **inner),
    }
    if project is not None:
        body["project"] = project
    return body


@aio
async def test_refresh_then_generate_in_envelope(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        refreshed = await fake.refresh(s, REFRESH)
        token = refreshed.json["access_token"]
        loaded = await project_of(fake, s, token)
        project = loaded["cloudaicompanionProject"]
        reply = await fake.post(s, "/v1internal:generateContent", envelope(project), bearer(token))
        again = await login(fake, s)
    assert refreshed.json["token_type"] == "Bearer"
    assert refreshed.json["expires_in"] == 3600
    assert "cloud-platform" in refreshed.json["scope"]
    assert again != token  # a fresh access token every refresh
    assert loaded["currentTier"]["id"] == "free-tier"
    assert project.startswith("fake-project-")
    assert reply.status == 200
    assert set(reply.json) == {"response", "traceId"}
    assert reply.json["response"]["candidates"][0]["content"]["parts"][0]["text"] == "Echo: hello"
    entry = fake.requests(kind="generate")[0]
    assert entry["api"] == "code_assist" and entry["credential"] == ALICE
    assert entry["model"] == "gemini-2.5-pro" and entry["body"]["project"] == project
    assert fake.control("GET", "/_control/stats")["token_refreshes"] == {ALICE: 2}


@aio
async def test_stream_events_are_wrapped(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s)
        project = (await project_of(fake, s, token))["cloudaicompanionProject"]
        reply = await fake.post(
            s,
            "/v1internal:streamGenerateContent?alt=sse",
            envelope(project, "a b c d e f g h i"),
            bearer(token),
        )
    chunks = [c for c in reply.raw.split(b"\r\n\r\n") if c]
    events = [json.loads(c[len(b"data: ") :]) for c in chunks]
    assert len(events) > 1
    assert all(set(e) == {"response", "traceId"} for e in events)
    assert events[-1]["response"]["candidates"][0]["finishReason"] == "STOP"


@aio
async def test_bad_tokens_are_401_and_revoked_grant_is_invalid_grant(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        missing = await fake.post(s, "/v1internal:generateContent", envelope("p"))
        unknown = await fake.post(
            s, "/v1internal:generateContent", envelope("p"), bearer("ya29.nope")
        )
        token = await login(fake, s)
        fake.control("POST", "/_control/accounts", {"refresh_token": REFRESH, "revoked": True})
        dead = await fake.post(s, "/v1internal:loadCodeAssist", {}, bearer(token))
        refused = await fake.refresh(s, REFRESH)
    assert missing.status == 401 and missing.error()["status"] == "UNAUTHENTICATED"
    assert unknown.status == 401
    assert unknown.error()["message"].startswith("Request had invalid authentication credentials.")
    assert dead.status == 401
    assert refused.status == 400
    assert refused.json == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    logged = fake.requests(kind="token")[-1]
    assert logged["body"]["refresh_token"] == ALICE
    assert "client_secret" not in logged["body"]
    assert REFRESH not in json.dumps(fake.requests())


@aio
async def test_expired_token_and_wrong_client(fake: FakeServer) -> None:
    fake.settings(access_token_ttl_seconds=7)
    seeded = {"refresh_token": REFRESH, "access_token": "ya29.short", "expires_in": 0.2}
    fake.control("POST", "/_control/accounts", seeded)
    async with aiohttp.ClientSession() as s:
        minted = await fake.refresh(s, REFRESH)
        assert minted.json["expires_in"] == 7
        ok = await fake.post(s, "/v1internal:loadCodeAssist", {}, bearer("ya29.short"))
        assert ok.status == 200
        await asyncio.sleep(0.3)
        expired = await fake.post(s, "/v1internal:loadCodeAssist", {}, bearer("ya29.short"))
        async with s.post(
            fake.url + "/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": REFRESH,
                "client_id": "someone-else",
            },
        ) as resp:
            wrong_status, wrong_body = resp.status, await resp.json()
    assert expired.status == 401
    assert wrong_status == 401 and wrong_body["error"] == "invalid_client"


@aio
async def test_preseeded_access_token(fake: FakeServer) -> None:
    fake.control(
        "POST",
        "/_control/accounts",
        {
            "refresh_token": REFRESH,
            "tier": "standard-tier",
            "project": "my-proj",
            "access_token": "ya29.seeded",
            "expires_in": 600,
        },
    )
    async with aiohttp.ClientSession() as s:
        reply = await fake.post(
            s, "/v1internal:generateContent", envelope("my-proj"), bearer("ya29.seeded")
        )
    assert reply.status == 200
    accounts = fake.control("GET", "/_control/accounts")["accounts"]
    assert accounts[0]["refresh_token_fingerprint"] == ALICE
    assert accounts[0]["access_tokens"][0]["fingerprint"] == fingerprint("ya29.seeded")
    assert "ya29.seeded" not in json.dumps(accounts)


@aio
async def test_project_must_match_the_account(fake: FakeServer) -> None:
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s)
        missing = await fake.post(s, "/v1internal:generateContent", envelope(None), bearer(token))
        wrong = await fake.post(
            s, "/v1internal:generateContent", envelope("not-mine"), bearer(token)
        )
    for reply in (missing, wrong):
        assert reply.status == 403
        error = reply.error()
        assert error["status"] == "PERMISSION_DENIED"
        assert error["details"][0]["reason"] == "IAM_PERMISSION_DENIED"
        assert "cloudaicompanion.companions.generateChat" in error["message"]


@aio
async def test_onboarding_long_running_operation(fake: FakeServer) -> None:
    fake.settings(onboard_polls=2)
    fake.control("POST", "/_control/accounts", {"refresh_token": REFRESH, "tier": None})
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s)
        loaded = await project_of(fake, s, token)
        assert "currentTier" not in loaded
        default = next(t for t in loaded["allowedTiers"] if t.get("isDefault"))
        assert default["id"] == "free-tier"
        refused = await fake.post(
            s,
            "/v1internal:onboardUser",
            {"tierId": "free-tier", "cloudaicompanionProject": "x"},
            bearer(token),
        )
        assert refused.status == 400
        body = {"tierId": "free-tier", "metadata": {"pluginType": "GEMINI"}}
        first = (await fake.post(s, "/v1internal:onboardUser", body, bearer(token))).json
        assert first["done"] is False
        polls = []
        for _ in range(3):
            async with s.get(
                f"{fake.url}/v1internal/{first['name']}", headers=bearer(token)
            ) as resp:
                polls.append(await resp.json())
            if polls[-1]["done"]:
                break
        project = polls[-1]["response"]["cloudaicompanionProject"]["id"]
        after = await project_of(fake, s, token)
        reply = await fake.post(s, "/v1internal:generateContent", envelope(project), bearer(token))
    assert [p["done"] for p in polls] == [False, True]
    assert project.startswith("fake-project-")
    assert after["currentTier"]["id"] == "free-tier" and after["cloudaicompanionProject"] == project
    assert reply.status == 200


@aio
async def test_ineligible_and_validation_required(fake: FakeServer) -> None:
    fake.control(
        "POST",
        "/_control/accounts",
        {"refresh_token": REFRESH, "tier": None, "ineligible": "VALIDATION_REQUIRED"},
    )
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s)
        loaded = await project_of(fake, s, token)
    assert "currentTier" not in loaded
    tier = loaded["ineligibleTiers"][0]
    assert tier["reasonCode"] == "VALIDATION_REQUIRED" and tier["validationUrl"].startswith(
        "https://"
    )


@aio
async def test_code_assist_validation_uses_request_prefix_and_count_tokens(
    fake: FakeServer,
) -> None:
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s)
        project = (await project_of(fake, s, token))["cloudaicompanionProject"]
        bad = await fake.post(
            s,
            "/v1internal:generateContent",
            envelope(project, generationConfig={"tools": []}),
            bearer(token),
        )
        counted = await fake.post(
            s,
            "/v1internal:countTokens",
            {"request": {"model": "models/gemini-2.5-flash", "contents": [user("a b c d")]}},
            bearer(token),
        )
        unknown_model = await fake.post(
            s,
            "/v1internal:generateContent",
            envelope(project, model="gemini-1.0-pro"),
            bearer(token),
        )
    assert bad.status == 400
    assert bad.error()["message"] == (
        'Invalid JSON payload received. Unknown name "tools" at '
        "'request.generation_config': Cannot find field."
    )
    assert counted.json == {"totalTokens": 4}
    assert unknown_model.status == 404


@aio
async def test_faults_target_accounts_by_refresh_fingerprint(fake: FakeServer) -> None:
    fake.fault({"type": "quota_exhausted", "array_wrapped": True}, credential=ALICE, times=1)
    fake.fault("internal", kinds=["token"], times=1)
    async with aiohttp.ClientSession() as s:
        broken_refresh = await fake.refresh(s, REFRESH)
        token = await login(fake, s)
        project = (await project_of(fake, s, token))["cloudaicompanionProject"]
        limited: Reply = await fake.post(
            s, "/v1internal:generateContent", envelope(project), bearer(token)
        )
        ok = await fake.post(s, "/v1internal:generateContent", envelope(project), bearer(token))
    assert broken_refresh.status == 500
    assert limited.status == 429
    assert isinstance(limited.json, list)
    info = limited.error()["details"][0]
    assert info["reason"] == "QUOTA_EXHAUSTED" and info["metadata"]["model"] == "gemini-2.5-pro"
    assert ok.status == 200


@aio
async def test_an_unsupported_client_account_is_refused_everywhere(fake: FakeServer) -> None:
    """As Google answers free Code Assist for individuals / AI Pro / Ultra since 2026-06-18."""
    async with aiohttp.ClientSession() as s:
        token = await login(fake, s)
        project = (await project_of(fake, s, token))["cloudaicompanionProject"]
        fake.control(
            "POST", "/_control/accounts", {"refresh_token": REFRESH, "unsupported_client": True}
        )
        loaded = await project_of(fake, s, token)
        onboard = await fake.post(
            s, "/v1internal:onboardUser", {"tierId": "free-tier", "metadata": {}}, bearer(token)
        )
        generated = await fake.post(
            s, "/v1internal:generateContent", envelope(project), bearer(token)
        )
        streamed = await fake.post(
            s, "/v1internal:streamGenerateContent?alt=sse", envelope(project), bearer(token)
        )
    assert "currentTier" not in loaded and "cloudaicompanionProject" not in loaded
    (tier,) = loaded["ineligibleTiers"]
    assert tier["reasonCode"] == "UNSUPPORTED_CLIENT" and tier["tierId"] == "free-tier"
    assert tier["reasonMessage"].startswith("This client is no longer supported")
    assert onboard.status == 400
    for refused in (generated, streamed):
        assert refused.status == 403
        assert refused.error()["message"].startswith("This client is no longer supported")
    account = fake.control("GET", "/_control/accounts")["accounts"][0]
    assert account["unsupported_client"] is True
