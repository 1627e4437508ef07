"""Scripted faults: exact error bodies, matching rules, broken connections and broken answers."""

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from gemini_proxy.credentials.fingerprint import fingerprint

from .support import KEY, KEY_HEADERS, FakeServer, aio, prompt

GEN = "/v1beta/models/gemini-2.5-flash:generateContent"
SSE = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
T = "type.googleapis.com/google.rpc."


async def generate(fake: FakeServer, path: str = GEN, headers: dict[str, str] | None = None) -> Any:
    async with aiohttp.ClientSession() as s:
        return await fake.post(
            s, path, prompt("one two three four five six seven eight"), headers or KEY_HEADERS
        )


def detail(error: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(d for d in error["details"] if d["@type"] == T + kind)


@aio
async def test_rate_limit_minute_body_has_retry_delay_and_no_retry_after(fake: FakeServer) -> None:
    fake.fault({"type": "rate_limit_minute", "retry_delay": "45.837906927s"}, times=1)
    reply = await generate(fake)
    assert reply.status == 429
    assert "Retry-After" not in reply.headers
    error = reply.error()
    assert error["status"] == "RESOURCE_EXHAUSTED"
    violation = detail(error, "QuotaFailure")["violations"][0]
    assert "PerMinute" in violation["quotaId"]
    assert violation["quotaDimensions"]["model"] == "gemini-2.5-flash"
    assert detail(error, "RetryInfo") == {"@type": T + "RetryInfo", "retryDelay": "45.837906927s"}
    assert (await generate(fake)).status == 200  # times=1 used up


@pytest.mark.parametrize(
    ("fault", "status", "check"),
    [
        (
            "quota_day",
            429,
            lambda e: (
                "PerDay" in detail(e, "QuotaFailure")["violations"][0]["quotaId"]
                and detail(e, "RetryInfo")["retryDelay"]
            ),
        ),
        (
            "quota_exhausted",
            429,
            lambda e: (
                detail(e, "ErrorInfo")["reason"] == "QUOTA_EXHAUSTED"
                and detail(e, "ErrorInfo")["metadata"]["quotaResetTimeStamp"].endswith("Z")
                and detail(e, "ErrorInfo")["domain"] == "cloudcode-pa.googleapis.com"
            ),
        ),
        (
            "rate_limit_exceeded",
            429,
            lambda e: detail(e, "ErrorInfo")["reason"] == "RATE_LIMIT_EXCEEDED",
        ),
        ("bare_429", 429, lambda e: "details" not in e and e["status"] == "RESOURCE_EXHAUSTED"),
        (
            "invalid_key",
            400,
            lambda e: (
                e
                == {
                    "code": 400,
                    "message": "API key not valid. Please pass a valid API key.",
                    "status": "INVALID_ARGUMENT",
                    "details": [
                        {
                            "@type": T + "ErrorInfo",
                            "reason": "API_KEY_INVALID",
                            "domain": "googleapis.com",
                            "metadata": {"service": "generativelanguage.googleapis.com"},
                        }
                    ],
                }
            ),
        ),
        (
            "leaked",
            403,
            lambda e: "reported as leaked" in e["message"] and e["status"] == "PERMISSION_DENIED",
        ),
        ("suspended", 403, lambda e: detail(e, "ErrorInfo")["reason"] == "CONSUMER_SUSPENDED"),
        ("service_disabled", 403, lambda e: detail(e, "ErrorInfo")["reason"] == "SERVICE_DISABLED"),
        (
            "iam_denied",
            403,
            lambda e: (
                detail(e, "ErrorInfo")["reason"] == "IAM_PERMISSION_DENIED"
                and "cloudaicompanion.companions.generateChat" in e["message"]
            ),
        ),
        (
            "validation_required",
            403,
            lambda e: (
                detail(e, "ErrorInfo")["reason"] == "VALIDATION_REQUIRED"
                and detail(e, "Help")["links"][0]["url"].startswith("https://")
            ),
        ),
        ("unauthenticated", 401, lambda e: e["status"] == "UNAUTHENTICATED"),
        (
            "unsupported_client",
            403,
            lambda e: e["message"].startswith("This client is no longer supported for Gemini"),
        ),
        ("unavailable", 503, lambda e: e["status"] == "UNAVAILABLE"),
        ("capacity", 503, lambda e: detail(e, "ErrorInfo")["reason"] == "MODEL_CAPACITY_EXHAUSTED"),
        ("internal", 500, lambda e: e["status"] == "INTERNAL"),
        ("gateway_timeout", 504, lambda e: e["status"] == "DEADLINE_EXCEEDED"),
        ("payload", 400, lambda e: e["status"] == "INVALID_ARGUMENT"),
    ],
)
@aio
async def test_error_fault_bodies(fake: FakeServer, fault: str, status: int, check: Any) -> None:
    fake.fault({"type": fault})
    reply = await generate(fake)
    assert reply.status == status
    error = reply.error()
    assert error["code"] == status
    assert check(error), error
    assert fake.last()["fault"] == fault


@aio
async def test_bad_gateway_is_html_and_raw_is_verbatim(fake: FakeServer) -> None:
    fake.fault("bad_gateway", times=1)
    fake.fault({"type": "raw", "status": 418, "body": {"weird": True}}, times=1)
    gateway = await generate(fake)
    raw = await generate(fake)
    assert gateway.status == 502 and gateway.headers["Content-Type"].startswith("text/html")
    assert raw.status == 418 and raw.json == {"weird": True}


@aio
async def test_array_wrapped_error(fake: FakeServer) -> None:
    fake.fault({"type": "rate_limit_exceeded", "array_wrapped": True})
    reply = await generate(fake)
    body = reply.json
    assert isinstance(body, list) and body[0]["error"]["code"] == 429


@aio
async def test_faults_match_credential_and_model(fake: FakeServer) -> None:
    fake.fault("internal", credential=fingerprint("other-key"))
    fake.fault("unavailable", model="gemini-2.5-pro")
    fake.fault("bare_429", credential=fingerprint(KEY), model="gemini-2.5-flash", times=2)
    assert (await generate(fake, headers={"x-goog-api-key": "other-key"})).status == 500
    assert (await generate(fake, "/v1beta/models/gemini-2.5-pro:generateContent")).status == 503
    assert [(await generate(fake)).status for _ in range(3)] == [429, 429, 200]
    rules = fake.control("GET", "/_control/faults")["faults"]
    assert rules[2]["times_left"] == 0 and rules[2]["applied"] == 2
    fake.control("DELETE", "/_control/faults")
    assert (await generate(fake, headers={"x-goog-api-key": "other-key"})).status == 200


@aio
async def test_bad_fault_spec_is_rejected(fake: FakeServer) -> None:
    assert (
        fake.control("POST", "/_control/faults", {"fault": {"type": "nope"}})["http_status"] == 400
    )
    reply = fake.control("POST", "/_control/faults", {"fault": {"type": "slow", "delay": 1}})
    assert reply["http_status"] == 400


@aio
async def test_reset_is_a_connection_error(fake: FakeServer) -> None:
    fake.fault("reset", times=1)
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientConnectionError):
            await fake.post(s, GEN, prompt("hi"), KEY_HEADERS)
        ok = await fake.post(s, GEN, prompt("hi"), KEY_HEADERS)
    assert ok.status == 200
    entry = fake.requests()[0]
    assert entry["fault"] == "reset" and entry["status"] is None


@aio
async def test_drop_mid_stream_sends_some_events_then_cuts(fake: FakeServer) -> None:
    fake.fault({"type": "drop_mid_stream", "after_events": 2}, times=1)
    received: list[bytes] = []
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            fake.url + SSE, json=prompt("a b c d e f g h i j k l m n"), headers=KEY_HEADERS
        ) as resp,
    ):
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            async for line in resp.content:
                received.append(line)
    events = [line for line in received if line.startswith(b"data: ")]
    assert len(events) == 2


@aio
async def test_drop_on_non_stream_cuts_the_body(fake: FakeServer) -> None:
    fake.fault({"type": "drop_mid_stream"}, times=1)
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientPayloadError):
            await fake.post(s, GEN, prompt("hi"), KEY_HEADERS)


@aio
async def test_answer_shape_faults(fake: FakeServer) -> None:
    fake.fault("empty_stream", times=1)
    empty = await generate(fake, SSE)
    assert empty.status == 200 and empty.raw == b""

    fake.fault("thought_only_stream", times=1)
    thoughts = await generate(fake, SSE)
    events = [json.loads(c[6:]) for c in thoughts.raw.split(b"\r\n\r\n") if c]
    parts = [p for e in events for p in e["candidates"][0]["content"]["parts"]]
    assert parts and all(p.get("thought") for p in parts)
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"

    fake.fault("empty_answer", times=1)
    blank = (await generate(fake)).json["candidates"][0]
    assert blank["finishReason"] == "STOP" and "parts" not in blank["content"]

    fake.fault("blocked_prompt", times=1)
    blocked = (await generate(fake)).json
    assert "candidates" not in blocked and blocked["promptFeedback"]["blockReason"] == "SAFETY"

    fake.fault("malformed_function_call", times=1)
    malformed = (await generate(fake)).json["candidates"][0]
    assert malformed["finishReason"] == "MALFORMED_FUNCTION_CALL" and "content" not in malformed

    fake.fault("max_tokens", times=1)
    capped = (await generate(fake)).json["candidates"][0]
    assert capped["finishReason"] == "MAX_TOKENS" and capped["content"]["parts"][0]["text"]


@aio
async def test_slow_fault_and_latency_setting_delay_the_answer(fake: FakeServer) -> None:
    loop = asyncio.get_running_loop()
    fake.fault({"type": "slow", "delay_ms": 300}, times=1)
    start = loop.time()
    await generate(fake)
    assert loop.time() - start >= 0.3
    fake.settings(latency_ms=200)
    start = loop.time()
    await generate(fake)
    assert loop.time() - start >= 0.2


@aio
async def test_client_disconnect_mid_stream_is_logged(fake: FakeServer) -> None:
    fake.settings(chunk_delay_ms=100)
    async with aiohttp.ClientSession() as s:
        resp = await s.post(fake.url + SSE, json=prompt(" ".join(["w"] * 60)), headers=KEY_HEADERS)
        await resp.content.readline()
        resp.close()  # drop the connection after the first event
    entry = fake.wait_logged(lambda e: e["kind"] == "stream" and e["ended_at"] is not None)
    assert entry["client_disconnected"] is True
    assert fake.control("GET", "/_control/stats")["client_disconnects"] == 1


@aio
async def test_chunk_delay_spaces_events(fake: FakeServer) -> None:
    fake.settings(chunk_delay_ms=50)
    loop = asyncio.get_running_loop()
    start = loop.time()
    reply = await generate(fake, SSE)
    events = [c for c in reply.raw.split(b"\r\n\r\n") if c]
    assert loop.time() - start >= 0.05 * (len(events) - 1)
    entry = fake.last()
    assert entry["client_disconnected"] is False and entry["status"] == 200


@aio
async def test_probability_applies_a_rule_to_about_that_share_of_requests(
    fake: FakeServer,
) -> None:
    fake.fault("internal", probability=0.25)
    statuses = [(await generate(fake)).status for _ in range(200)]
    failed = statuses.count(500)
    assert 25 <= failed <= 75 and statuses.count(200) == 200 - failed
    rule = fake.control("GET", "/_control/faults")["faults"][0]
    assert rule["probability"] == 0.25 and rule["applied"] == failed
    # The generator restarts on reset: the same requests meet the same faults again.
    fake.control("POST", "/_control/reset")
    fake.fault("internal", probability=0.25)
    assert [(await generate(fake)).status for _ in range(200)] == statuses


@aio
async def test_a_rule_whose_chance_fails_leaves_the_request_to_the_next_rule(
    fake: FakeServer,
) -> None:
    # Times are used only when the rule applies: five 429s, however many coins it takes.
    fake.fault("bare_429", probability=0.5, times=5)
    fake.fault("internal")
    statuses = [(await generate(fake)).status for _ in range(40)]
    assert statuses.count(429) == 5 and statuses.count(500) == 35


@aio
async def test_probability_must_be_a_share(fake: FakeServer) -> None:
    for bad in (0, 1.5, "half", True):
        reply = fake.control("POST", "/_control/faults", {"fault": "internal", "probability": bad})
        assert reply["http_status"] == 400 and "probability" in reply["error"]
