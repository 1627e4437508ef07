"""The control API: request log, settings, reset, stats; keys appear only as fingerprints."""

import json

import aiohttp

from gemini_proxy.credentials.fingerprint import fingerprint

from .support import KEY, KEY_HEADERS, FakeServer, aio, prompt

GEN = "/v1beta/models/gemini-2.5-flash:generateContent"


@aio
async def test_request_log_records_what_arrived(fake: FakeServer) -> None:
    body = prompt("hello", generationConfig={"temperature": 0.5})
    async with aiohttp.ClientSession() as s:
        await fake.post(s, GEN, body, KEY_HEADERS)
        await fake.post(
            s, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", body, KEY_HEADERS
        )
    entries = fake.requests()
    assert [e["seq"] for e in entries] == [1, 2]
    first, second = entries
    assert first["path"] == GEN and first["kind"] == "generate" and first["api"] == "ai_studio"
    assert first["credential"] == fingerprint(KEY)
    assert first["model"] == "gemini-2.5-flash"
    assert first["status"] == 200 and first["fault"] is None
    assert first["body"] == body
    assert first["started_at"] <= first["ended_at"]
    assert first["client_disconnected"] is False
    assert second["kind"] == "stream" and second["query"] == {"alt": "sse"}
    assert [e["seq"] for e in fake.requests(since="1")] == [2]
    assert KEY not in json.dumps(entries)


@aio
async def test_missing_and_invalid_keys(fake: FakeServer) -> None:
    fake.settings(valid_keys=["good-key"])
    assert fake.control("GET", "/_control/settings")["valid_keys"] == [fingerprint("good-key")]
    async with aiohttp.ClientSession() as s:
        missing = await fake.post(s, GEN, prompt("x"))
        invalid = await fake.post(s, GEN, prompt("x"), {"x-goog-api-key": "bad-key"})
        good = await fake.post(s, GEN, prompt("x"), {"x-goog-api-key": "good-key"})
    assert missing.status == 403
    assert missing.error()["message"].startswith("Method doesn't allow unregistered callers")
    assert invalid.status == 400
    assert invalid.error()["details"][0]["reason"] == "API_KEY_INVALID"
    assert good.status == 200
    assert fake.requests()[1]["credential"] == fingerprint("bad-key")


@aio
async def test_settings_patch_is_validated_and_reset_restores(fake: FakeServer) -> None:
    assert fake.settings(nonsense=1)["http_status"] == 400
    assert fake.settings(latency_ms="slow")["http_status"] == 400
    assert fake.settings(onboard_polls=3)["onboard_polls"] == 3
    fake.fault("internal")
    async with aiohttp.ClientSession() as s:
        assert (await fake.post(s, GEN, prompt("x"), KEY_HEADERS)).status == 500
    fake.control("POST", "/_control/reset")
    assert fake.control("GET", "/_control/settings")["onboard_polls"] == 1
    assert fake.control("GET", "/_control/faults")["faults"] == []
    assert fake.requests() == []
    async with aiohttp.ClientSession() as s:
        assert (await fake.post(s, GEN, prompt("x"), KEY_HEADERS)).status == 200


@aio
async def test_stats_count_requests_and_faults(fake: FakeServer) -> None:
    fake.fault("bare_429", times=1)
    async with aiohttp.ClientSession() as s:
        for _ in range(3):
            await fake.post(s, GEN, prompt("x"), KEY_HEADERS)
    stats = fake.control("GET", "/_control/stats")
    assert stats["requests_total"] == 3
    assert stats["by_kind"] == {"generate": 3}
    assert stats["by_status"] == {"429": 1, "200": 2}
    assert stats["faults_applied"] == {"bare_429": 1}
    fake.control("DELETE", "/_control/requests")
    assert fake.requests() == []
