"""Upstream failures -> what they mean for the credential and the request (gemini-wire §5)."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from gemini_proxy.upstream.classify import (
    DEFAULT_RATE_LIMIT_SECONDS,
    SHORT_RATE_LIMIT_SECONDS,
    FailureKind,
    bad_answer,
    classify_http,
    network_failure,
    parse_duration,
    seconds_until_pacific_midnight,
)

# 12:00 PST, so the next midnight US Pacific is 12 h away (08:00 UTC the next day).
NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
HOURS_12 = 12 * 3600.0

# --- the three examples of gemini-wire §5, verbatim ---------------------------------------------

AI_STUDIO_429 = b"""{"error": {"code": 429, "message": "You exceeded your current quota, please check your plan and billing details. ...",
  "status": "RESOURCE_EXHAUSTED",
  "details": [
    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
      {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
       "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
       "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"}, "quotaValue": "10"}]},
    {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "15s"}]}}"""  # noqa: E501

CODE_ASSIST_429 = b"""{"error": {"code": 429, "message": "You have exhausted your capacity on this model. Your quota will reset after 3h12m5s.",
  "status": "RESOURCE_EXHAUSTED",
  "details": [
    {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "QUOTA_EXHAUSTED", "domain": "cloudcode-pa.googleapis.com",
     "metadata": {"uiMessage": "true", "model": "gemini-2.5-pro", "quotaResetDelay": "3h12m5.3s", "quotaResetTimeStamp": "2026-11-25T01:10:00Z"}},
    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "11525.300432511s"}]}}"""  # noqa: E501

INVALID_KEY_400 = b"""{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
  "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
               "metadata": {"service": "generativelanguage.googleapis.com"}}]}}"""  # noqa: E501

# --- bodies built from the §5 table -----------------------------------------------------------


def body(code: int, status: str, message: str, *details: dict[str, Any]) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = list(details)
    return json.dumps({"error": error}).encode()


def retry_info(delay: str) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}


def quota_failure(*quota_ids: str) -> dict[str, Any]:
    violations = [
        {
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": q,
        }
        for q in quota_ids
    ]
    return {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": violations}


def error_info(reason: str, domain: str = "googleapis.com", **metadata: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": domain,
        "metadata": metadata,
    }


PER_MINUTE = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
PER_DAY = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
QUOTA_MSG = "You exceeded your current quota, please check your plan and billing details."


def per_minute(*delay: str) -> bytes:
    return body(
        429, "RESOURCE_EXHAUSTED", QUOTA_MSG, quota_failure(PER_MINUTE), *map(retry_info, delay)
    )


def quota_exhausted(**metadata: str) -> bytes:
    return body(
        429,
        "RESOURCE_EXHAUSTED",
        "You have exhausted your capacity on this model.",
        error_info(
            "QUOTA_EXHAUSTED", "cloudcode-pa.googleapis.com", model="gemini-2.5-pro", **metadata
        ),
    )


@dataclass(frozen=True)
class Case:
    status: int
    body: bytes
    kind: FailureKind
    cooldown: float | None
    reason: str | None
    retry_elsewhere: bool


CASES = {
    # 429 -----------------------------------------------------------------------------------
    "ai-studio-example-per-minute-15s": Case(
        429, AI_STUDIO_429, FailureKind.RATE_LIMITED, 15.0, PER_MINUTE, True
    ),
    "per-minute-fractional": Case(
        429, per_minute("45.837906927s"), FailureKind.RATE_LIMITED, 45.837906927, PER_MINUTE, True
    ),
    "per-minute-900ms": Case(
        429, per_minute("900ms"), FailureKind.RATE_LIMITED, 0.9, PER_MINUTE, True
    ),
    "per-minute-no-retry-info": Case(
        429, per_minute(), FailureKind.RATE_LIMITED, DEFAULT_RATE_LIMIT_SECONDS, PER_MINUTE, True
    ),
    "per-day-with-short-retry-delay": Case(
        429,
        body(429, "RESOURCE_EXHAUSTED", QUOTA_MSG, quota_failure(PER_DAY), retry_info("20s")),
        FailureKind.DAILY_QUOTA,
        HOURS_12,
        PER_DAY,
        True,
    ),
    "per-day-beats-per-minute": Case(
        429,
        body(
            429,
            "RESOURCE_EXHAUSTED",
            QUOTA_MSG,
            quota_failure(PER_MINUTE, PER_DAY),
            retry_info("5s"),
        ),
        FailureKind.DAILY_QUOTA,
        HOURS_12,
        PER_DAY,
        True,
    ),
    "code-assist-example-quota-exhausted": Case(
        429,
        CODE_ASSIST_429,
        FailureKind.QUOTA_EXHAUSTED,
        5 * 3600.0 + 10 * 60,  # 20:00 -> 01:10 UTC
        "QUOTA_EXHAUSTED",
        True,
    ),
    "code-assist-example-array-wrapped": Case(
        429,
        b"[" + CODE_ASSIST_429 + b"]",
        FailureKind.QUOTA_EXHAUSTED,
        5 * 3600.0 + 10 * 60,
        "QUOTA_EXHAUSTED",
        True,
    ),
    "quota-exhausted-only-reset-delay": Case(
        429,
        quota_exhausted(quotaResetDelay="3h12m5.3s"),
        FailureKind.QUOTA_EXHAUSTED,
        3 * 3600 + 12 * 60 + 5.3,
        "QUOTA_EXHAUSTED",
        True,
    ),
    "quota-exhausted-timestamp-with-nanoseconds": Case(
        429,
        quota_exhausted(quotaResetTimeStamp="2026-11-24T21:00:00.500000000Z"),
        FailureKind.QUOTA_EXHAUSTED,
        3600.5,
        "QUOTA_EXHAUSTED",
        True,
    ),
    "rate-limit-exceeded-with-retry-info": Case(
        429,
        body(
            429,
            "RESOURCE_EXHAUSTED",
            "Rate limited.",
            error_info("RATE_LIMIT_EXCEEDED"),
            retry_info("3s"),
        ),
        FailureKind.RATE_LIMITED,
        3.0,
        "RATE_LIMIT_EXCEEDED",
        True,
    ),
    "rate-limit-exceeded-no-delay": Case(
        429,
        body(429, "RESOURCE_EXHAUSTED", "Rate limited.", error_info("RATE_LIMIT_EXCEEDED")),
        FailureKind.RATE_LIMITED,
        SHORT_RATE_LIMIT_SECONDS,
        "RATE_LIMIT_EXCEEDED",
        True,
    ),
    "bare-429": Case(
        429,
        body(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        FailureKind.RATE_LIMITED,
        10.0,
        "RESOURCE_EXHAUSTED",
        True,
    ),
    "bare-429-empty-body": Case(
        429, b"", FailureKind.RATE_LIMITED, 10.0, "RESOURCE_EXHAUSTED", True
    ),
    # 400 -----------------------------------------------------------------------------------
    "invalid-key-example": Case(
        400, INVALID_KEY_400, FailureKind.INVALID_CREDENTIAL, None, "API_KEY_INVALID", True
    ),
    "invalid-key-message-only": Case(
        400,
        body(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."),
        FailureKind.INVALID_CREDENTIAL,
        None,
        "API_KEY_INVALID",
        True,
    ),
    "payload-error": Case(
        400,
        body(
            400,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received. Unknown name \"tools\" at 'generation_config': "
            "Cannot find field.",
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {"field": "generation_config", "description": "Cannot find field."}
                ],
            },
        ),
        FailureKind.CLIENT_ERROR,
        None,
        None,
        False,
    ),
    "payload-error-counts": Case(
        400,
        body(
            400,
            "INVALID_ARGUMENT",
            "Please ensure that the number of function response parts is equal to the number of "
            "function call parts of the function call turn.",
        ),
        FailureKind.CLIENT_ERROR,
        None,
        None,
        False,
    ),
    # 401 / 403 -----------------------------------------------------------------------------
    "unauthenticated": Case(
        401,
        body(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
            "cookie or other valid authentication credential.",
        ),
        FailureKind.UNAUTHENTICATED,
        None,
        "UNAUTHENTICATED",
        True,
    ),
    "leaked-key": Case(
        403,
        body(
            403,
            "PERMISSION_DENIED",
            "Your API key was reported as leaked. Please use another API key.",
        ),
        FailureKind.INVALID_CREDENTIAL,
        None,
        "PERMISSION_DENIED",
        True,
    ),
    "consumer-suspended": Case(
        403,
        body(
            403,
            "PERMISSION_DENIED",
            "Permission denied: Consumer 'projects/123456789' has been suspended.",
            error_info("CONSUMER_SUSPENDED", consumer="projects/123456789"),
        ),
        FailureKind.INVALID_CREDENTIAL,
        None,
        "CONSUMER_SUSPENDED",
        True,
    ),
    "service-disabled": Case(
        403,
        body(
            403,
            "PERMISSION_DENIED",
            "Generative Language API has not been used in project 123456789 before or it is "
            "disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
            "generativelanguage.googleapis.com/overview?project=123456789 then retry.",
            error_info("SERVICE_DISABLED", service="generativelanguage.googleapis.com"),
        ),
        FailureKind.INVALID_CREDENTIAL,
        None,
        "SERVICE_DISABLED",
        True,
    ),
    "api-key-service-blocked": Case(
        403,
        body(
            403,
            "PERMISSION_DENIED",
            "Requests to this API generativelanguage.googleapis.com method "
            "google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent are blocked.",
            error_info("API_KEY_SERVICE_BLOCKED"),
        ),
        FailureKind.INVALID_CREDENTIAL,
        None,
        "API_KEY_SERVICE_BLOCKED",
        True,
    ),
    "iam-permission-denied-cloudaicompanion": Case(
        403,
        body(
            403,
            "PERMISSION_DENIED",
            "Permission 'cloudaicompanion.companions.generateChat' denied on resource "
            "'//cloudaicompanion.googleapis.com/projects/my-project/locations/global' (or it may "
            "not exist).",
            error_info(
                "IAM_PERMISSION_DENIED", permission="cloudaicompanion.companions.generateChat"
            ),
        ),
        FailureKind.NOT_PROVISIONED,
        None,
        "IAM_PERMISSION_DENIED",
        True,
    ),
    "validation-required": Case(
        403,
        body(
            403,
            "PERMISSION_DENIED",
            "Verify your account to continue.",
            error_info("VALIDATION_REQUIRED", "cloudcode-pa.googleapis.com"),
        ),
        FailureKind.NOT_PROVISIONED,
        None,
        "VALIDATION_REQUIRED",
        True,
    ),
    "403-array-wrapped": Case(
        403,
        b"["
        + body(
            403,
            "PERMISSION_DENIED",
            "Verify your account to continue.",
            error_info("VALIDATION_REQUIRED", "cloudcode-pa.googleapis.com"),
        )
        + b"]",
        FailureKind.NOT_PROVISIONED,
        None,
        "VALIDATION_REQUIRED",
        True,
    ),
    # 404 / 5xx -----------------------------------------------------------------------------
    "model-not-found": Case(
        404,
        body(
            404,
            "NOT_FOUND",
            "models/gemini-9-ultra is not found for API version v1beta, or is not supported for "
            "generateContent.",
        ),
        FailureKind.MODEL_NOT_FOUND,
        None,
        None,
        False,
    ),
    "503-unavailable": Case(
        503,
        body(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        FailureKind.UNAVAILABLE,
        None,
        "UNAVAILABLE",
        True,
    ),
    "503-model-capacity-exhausted": Case(
        503,
        b"["
        + body(
            503,
            "UNAVAILABLE",
            "No capacity available for model gemini-2.5-pro on the server",
            error_info(
                "MODEL_CAPACITY_EXHAUSTED", "cloudcode-pa.googleapis.com", model="gemini-2.5-pro"
            ),
        )
        + b"]",
        FailureKind.UNAVAILABLE,
        None,
        "MODEL_CAPACITY_EXHAUSTED",
        True,
    ),
    "500-internal": Case(
        500,
        body(500, "INTERNAL", "An internal error has occurred. Please retry or report."),
        FailureKind.UNAVAILABLE,
        None,
        "INTERNAL",
        True,
    ),
    "502-html": Case(
        502,
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        FailureKind.UNAVAILABLE,
        None,
        None,
        True,
    ),
    "504-deadline": Case(
        504,
        body(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
        FailureKind.UNAVAILABLE,
        None,
        "DEADLINE_EXCEEDED",
        True,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_classify_http(case: Case) -> None:
    failure = classify_http(case.status, case.body, NOW)
    assert failure.kind is case.kind
    assert failure.status == case.status
    assert failure.reason == case.reason
    assert failure.retry_elsewhere is case.retry_elsewhere
    if case.cooldown is None:
        assert failure.cooldown_seconds is None
    else:
        assert failure.cooldown_seconds == pytest.approx(case.cooldown, abs=1e-6)
    assert failure.message


def test_google_message_is_kept_for_logs() -> None:
    assert classify_http(429, AI_STUDIO_429, NOW).message.startswith(
        "You exceeded your current quota"
    )
    assert classify_http(400, INVALID_KEY_400, NOW).message == (
        "API key not valid. Please pass a valid API key."
    )


def test_quota_reset_timestamp_in_the_past_falls_back_to_retry_delay() -> None:
    stale = CODE_ASSIST_429.replace(b"2026-11-25T01:10:00Z", b"2026-11-24T19:00:00Z")
    failure = classify_http(429, stale, NOW)
    assert failure.kind is FailureKind.QUOTA_EXHAUSTED
    assert failure.cooldown_seconds == pytest.approx(11525.300432511)


def test_unreadable_quota_reset_timestamp_falls_back_to_reset_delay() -> None:
    failure = classify_http(
        429, quota_exhausted(quotaResetTimeStamp="soon", quotaResetDelay="90s"), NOW
    )
    assert failure.kind is FailureKind.QUOTA_EXHAUSTED
    assert failure.cooldown_seconds == 90.0


def test_daily_quota_without_explicit_now_uses_the_clock() -> None:
    failure = classify_http(429, body(429, "RESOURCE_EXHAUSTED", QUOTA_MSG, quota_failure(PER_DAY)))
    assert failure.kind is FailureKind.DAILY_QUOTA
    assert failure.cooldown_seconds is not None
    assert 0 < failure.cooldown_seconds <= 25 * 3600


GARBAGE = {
    "empty": b"",
    "html": b"<html><body>Too Many Requests</body></html>",
    "plain-text": b"upstream connect error or disconnect/reset before headers",
    "null": b"null",
    "number": b"42",
    "empty-array": b"[]",
    "array-of-strings": b'["error"]',
    "error-is-string": b'{"error": "invalid_grant", "error_description": "Bad Request"}',
    "details-not-list": b'{"error": {"code": 429, "details": {"reason": "QUOTA_EXHAUSTED"}}}',
    "details-not-objects": b'{"error": {"code": 429, "details": ["RetryInfo", 5, null]}}',
    "bad-utf8": b"\xff\xfe\x00{",
    "truncated-json": AI_STUDIO_429[:120],
    "deeply-nested": b"[" * 10_000,
}


@pytest.mark.parametrize("raw", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_429_body_is_a_short_rate_limit(raw: bytes) -> None:
    failure = classify_http(429, raw, NOW)
    assert failure.kind is FailureKind.RATE_LIMITED
    assert failure.cooldown_seconds == SHORT_RATE_LIMIT_SECONDS
    assert failure.retry_elsewhere


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, FailureKind.CLIENT_ERROR),
        (401, FailureKind.UNAUTHENTICATED),
        (403, FailureKind.INVALID_CREDENTIAL),
        (404, FailureKind.MODEL_NOT_FOUND),
        (408, FailureKind.UNAVAILABLE),
        (413, FailureKind.CLIENT_ERROR),
        (500, FailureKind.UNAVAILABLE),
        (502, FailureKind.UNAVAILABLE),
        (503, FailureKind.UNAVAILABLE),
        (504, FailureKind.UNAVAILABLE),
        # Any 5xx is Google's side (a front end's 520 as much as a 500): never the key's fault.
        (501, FailureKind.UNAVAILABLE),
        (520, FailureKind.UNAVAILABLE),
        (599, FailureKind.UNAVAILABLE),
        (302, FailureKind.UNKNOWN),
    ],
)
@pytest.mark.parametrize(
    "raw", [b"", b"<html>oops</html>", b"[1, 2]"], ids=["empty", "html", "array"]
)
def test_garbage_bodies_are_classified_by_status(
    status: int, kind: FailureKind, raw: bytes
) -> None:
    failure = classify_http(status, raw, NOW)
    assert failure.kind is kind
    assert failure.status == status
    assert failure.message == f"Gemini answered HTTP {status}"


def test_unknown_status_counts_as_retry_elsewhere() -> None:
    assert classify_http(302, b"", NOW).retry_elsewhere


def test_network_failure_and_bad_answer_helpers() -> None:
    network = network_failure("connection reset")
    assert (network.kind, network.status, network.reason) == (FailureKind.UNAVAILABLE, 0, "NETWORK")
    assert "connection reset" in network.message
    assert network.retry_elsewhere
    empty = bad_answer("empty")
    assert (empty.kind, empty.status, empty.message) == (FailureKind.BAD_ANSWER, 200, "empty")
    assert empty.retry_elsewhere


# --- midnight US Pacific ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "hours"),
    [
        (datetime(2026, 11, 24, 20, 0, tzinfo=UTC), 12.0),  # 12:00 PST
        (datetime(2026, 6, 15, 12, 0, tzinfo=UTC), 19.0),  # 05:00 PDT
        (datetime(2026, 6, 15, 7, 0, tzinfo=UTC), 24.0),  # exactly 00:00 PDT
        (datetime(2026, 6, 16, 6, 59, 30, tzinfo=UTC), 0.5 / 60),  # 23:59:30 PDT
        (datetime(2026, 3, 7, 20, 0, tzinfo=UTC), 12.0),  # day before DST starts, 12:00 PST
    ],
)
def test_seconds_until_pacific_midnight(now: datetime, hours: float) -> None:
    assert seconds_until_pacific_midnight(now) == pytest.approx(hours * 3600)


DST_BUG = (
    "BUG: classify.py seconds_until_pacific_midnight subtracts two datetimes sharing the PACIFIC "
    "tzinfo, which Python does as wall-clock (naive) arithmetic, so on DST-change days the "
    "cooldown is off by one hour"
)


@pytest.mark.parametrize(
    ("now", "hours"),
    [
        # 2026-03-08: clocks go 02:00 PST -> 03:00 PDT. 00:30 PST -> next midnight (07:00 UTC).
        (datetime(2026, 3, 8, 8, 30, tzinfo=UTC), 22.5),
        # 2026-11-01: clocks go 02:00 PDT -> 01:00 PST. 00:30 PDT -> next midnight (08:00 UTC).
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), 24.5),
    ],
    ids=["dst-starts", "dst-ends"],
)
def test_seconds_until_pacific_midnight_on_dst_change_days(now: datetime, hours: float) -> None:
    assert seconds_until_pacific_midnight(now) == pytest.approx(hours * 3600)


def test_daily_quota_cooldown_on_dst_start_day() -> None:
    now = datetime(2026, 3, 8, 8, 30, tzinfo=UTC)  # 00:30 PST, midnight is at 07:00 UTC tomorrow
    failure = classify_http(
        429, body(429, "RESOURCE_EXHAUSTED", QUOTA_MSG, quota_failure(PER_DAY)), now
    )
    assert failure.kind is FailureKind.DAILY_QUOTA
    assert failure.cooldown_seconds == pytest.approx(22.5 * 3600)


# --- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15s", 15.0),
        ("45.837906927s", 45.837906927),
        ("900ms", 0.9),
        ("0s", 0.0),
        ("1m", 60.0),
        ("2h", 7200.0),
        ("3h12m5.3s", 11525.3),
        ("161h39m41.3s", 161 * 3600 + 39 * 60 + 41.3),
        ("11525.300432511s", 11525.300432511),
        ("1m500ms", 60.5),
        (" 15s ", 15.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "s",
        "15",
        "15x",
        "abc",
        "-5s",
        "1.5.5s",
        "15 s",
        "1h 2m",
        "15sec",
        "ms",
        "1e3s",
        ".5s",
        "5.s",
    ],
)
def test_parse_duration_rejects_invalid_strings(text: str) -> None:
    assert parse_duration(text) is None


# --- bugs ---------------------------------------------------------------------------------------

FAKE_KEY = "AIzaSyFAKE0fake1FAKE2fake3FAKE4fake5FAK"


def test_failure_message_never_holds_the_api_key() -> None:
    raw = body(
        403,
        "PERMISSION_DENIED",
        f"Permission denied: Consumer 'api_key:{FAKE_KEY}' has been suspended.",
        error_info(
            "CONSUMER_SUSPENDED", consumer="projects/123", containerInfo=f"api_key:{FAKE_KEY}"
        ),
    )
    failure = classify_http(403, raw, NOW)
    assert failure.kind is FailureKind.INVALID_CREDENTIAL
    assert FAKE_KEY not in failure.message
    assert FAKE_KEY not in repr(failure)


def test_429_model_capacity_exhausted_is_unavailable() -> None:
    raw = (
        b"["
        + body(
            429,
            "RESOURCE_EXHAUSTED",
            "No capacity available for model gemini-2.5-pro on the server",
            error_info(
                "MODEL_CAPACITY_EXHAUSTED", "cloudcode-pa.googleapis.com", model="gemini-2.5-pro"
            ),
        )
        + b"]"
    )
    failure = classify_http(429, raw, NOW)
    assert failure.kind is FailureKind.UNAVAILABLE
    assert failure.reason == "MODEL_CAPACITY_EXHAUSTED"


ODD_SHAPES = {
    "metadata-is-string": error_info("QUOTA_EXHAUSTED") | {"metadata": "quota"},
    "violations-not-list": {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": 5,
    },
    "naive-reset-timestamp": error_info(
        "QUOTA_EXHAUSTED", quotaResetTimeStamp="2026-11-25T01:10:00"
    ),
}


@pytest.mark.parametrize("detail", ODD_SHAPES.values(), ids=ODD_SHAPES.keys())
def test_structurally_odd_details_never_crash_the_classifier(detail: dict[str, Any]) -> None:
    failure = classify_http(429, body(429, "RESOURCE_EXHAUSTED", "m", detail), NOW)
    assert failure.status == 429
    assert failure.retry_elsewhere


# --- accounts Google no longer serves through Code Assist (2026-06-18) ----------------------

NO_LONGER_SUPPORTED = (
    "This client is no longer supported for Gemini Code Assist for individuals. To continue "
    "using Gemini, please migrate to the Antigravity suite of products: https://antigravity.google"
)


@pytest.mark.parametrize(
    "raw",
    [
        body(403, "PERMISSION_DENIED", NO_LONGER_SUPPORTED),
        body(400, "FAILED_PRECONDITION", NO_LONGER_SUPPORTED),
        body(
            403,
            "PERMISSION_DENIED",
            "The caller does not have permission",
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "UNSUPPORTED_CLIENT"},
        ),
        b"[" + body(403, "PERMISSION_DENIED", NO_LONGER_SUPPORTED) + b"]",
    ],
    ids=["403-message", "400-message", "403-reason", "array-wrapped"],
)
def test_unsupported_client_refusal_is_the_accounts_not_the_requests(raw: bytes) -> None:
    status = json.loads(raw.strip(b"[]"))["error"]["code"]
    failure = classify_http(status, raw, NOW)
    # Never a CLIENT_ERROR (which would send a 400 back without trying another credential).
    assert failure.kind is FailureKind.NOT_PROVISIONED
    assert failure.reason == "UNSUPPORTED_CLIENT" and failure.retry_elsewhere


def test_other_no_longer_supported_messages_are_not_unsupported_client() -> None:
    raw = body(
        403,
        "PERMISSION_DENIED",
        "This version of Antigravity is no longer supported. Please update.",
    )
    assert classify_http(403, raw, NOW).reason != "UNSUPPORTED_CLIENT"


def test_only_a_missing_answer_is_a_lost_connection() -> None:
    assert network_failure("ServerDisconnectedError").connection_lost
    assert not classify_http(500, body(500, "INTERNAL", "boom"), NOW).connection_lost
    assert not classify_http(503, body(503, "UNAVAILABLE", "overloaded"), NOW).connection_lost
