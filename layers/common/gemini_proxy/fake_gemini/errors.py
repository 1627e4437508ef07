"""Google's error bodies, as the real services send them (gemini-wire §5).

Every error the fake produces is a `GoogleError`: an HTTP status plus the exact body. Handlers raise
it anywhere and the route layer renders it, so a validation failure deep in a request walk and a
scripted fault take the same path out.
"""

import time
from typing import Any

from pydantic_core import to_json

JSON_TYPE = "application/json; charset=UTF-8"
_T = "type.googleapis.com/google.rpc."
RATE_LIMIT_DOCS = "https://ai.google.dev/gemini-api/docs/rate-limits"
FAKE_PROJECT_NUMBER = "123456789012"


class GoogleError(Exception):
    """An error answer: status, body (JSON value or verbatim text) and how to frame it."""

    def __init__(
        self,
        status: int,
        body: Any,
        *,
        content_type: str = JSON_TYPE,
        array_wrapped: bool = False,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.array_wrapped = array_wrapped

    def render(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        body = [self.body] if self.array_wrapped else self.body
        return to_json(body)

    @property
    def message(self) -> str:
        if isinstance(self.body, dict):
            err = self.body.get("error")
            if isinstance(err, dict):
                return str(err.get("message", ""))
        return ""


def body(code: int, status: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def error(
    code: int, status: str, message: str, details: list[Any] | None = None, **kw: Any
) -> GoogleError:
    return GoogleError(code, body(code, status, message, details), **kw)


def proto_duration(seconds: float) -> str:
    """Protobuf JSON duration: `15s`, `45.837906927s`."""
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


def go_duration(seconds: float) -> str:
    """Go's Duration.String() form Code Assist uses for quotaResetDelay: `3h12m5.3s`."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    sec_text = f"{secs:.3f}".rstrip("0").rstrip(".")
    out = ""
    if hours:
        out += f"{int(hours)}h"
    if hours or minutes:
        out += f"{int(minutes)}m"
    return out + f"{sec_text}s"


def parse_duration(text: str) -> float:
    """Seconds in a protobuf duration string (`15s`, `900ms`); ValueError otherwise."""
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    if text.endswith("s"):
        return float(text[:-1])
    raise ValueError(f"not a duration: {text!r}")


def _quota_429(model: str, quota_id: str, limit: int, retry_delay: str | None) -> GoogleError:
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more "
        f"information on this error, head to: {RATE_LIMIT_DOCS}. To monitor your current usage, "
        "head to: https://ai.dev/usage?tab=rate-limit. \n"
        f"* Quota exceeded for metric: {metric}, limit: {limit}, model: {model}"
    )
    if retry_delay:
        message += f"\nPlease retry in {retry_delay}."
    details: list[Any] = [
        {
            "@type": _T + "QuotaFailure",
            "violations": [
                {
                    "quotaMetric": metric,
                    "quotaId": quota_id,
                    "quotaDimensions": {"location": "global", "model": model},
                    "quotaValue": str(limit),
                }
            ],
        },
        {
            "@type": _T + "Help",
            "links": [
                {"description": "Learn more about Gemini API quotas", "url": RATE_LIMIT_DOCS}
            ],
        },
    ]
    if retry_delay:
        details.append({"@type": _T + "RetryInfo", "retryDelay": retry_delay})
    return error(429, "RESOURCE_EXHAUSTED", message, details)


def rate_limit_minute(model: str, retry_delay: str = "15s", limit: int = 10) -> GoogleError:
    return _quota_429(
        model, "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", limit, retry_delay
    )


def quota_day(model: str, retry_delay: str | None = "12s", limit: int = 250) -> GoogleError:
    # The daily 429 still carries a short retryDelay: a classifier must read the quotaId.
    return _quota_429(
        model, "GenerateRequestsPerDayPerProjectPerModel-FreeTier", limit, retry_delay
    )


def quota_exhausted(model: str, reset_seconds: float = 11525.300432511) -> GoogleError:
    reset_at = time.gmtime(time.time() + reset_seconds)
    delay = go_duration(reset_seconds)
    return error(
        429,
        "RESOURCE_EXHAUSTED",
        f"You have exhausted your capacity on this model. Your quota will reset after {delay}.",
        [
            {
                "@type": _T + "ErrorInfo",
                "reason": "QUOTA_EXHAUSTED",
                "domain": "cloudcode-pa.googleapis.com",
                "metadata": {
                    "uiMessage": "true",
                    "model": model,
                    "quotaResetDelay": delay,
                    "quotaResetTimeStamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", reset_at),
                },
            },
            {"@type": _T + "RetryInfo", "retryDelay": proto_duration(reset_seconds)},
        ],
    )


def rate_limit_exceeded(model: str, retry_delay: str | None = "10s") -> GoogleError:
    details: list[Any] = [
        {
            "@type": _T + "ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "cloudcode-pa.googleapis.com",
            "metadata": {"model": model},
        }
    ]
    if retry_delay:
        details.append({"@type": _T + "RetryInfo", "retryDelay": retry_delay})
    return error(
        429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", details
    )


def bare_429() -> GoogleError:
    return error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")


def api_key_invalid() -> GoogleError:
    return error(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [
            {
                "@type": _T + "ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ],
    )


def unregistered_caller() -> GoogleError:
    return error(
        403,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
    )


def key_leaked() -> GoogleError:
    return error(
        403, "PERMISSION_DENIED", "Your API key was reported as leaked. Please use another API key."
    )


def _service(api: str) -> tuple[str, str]:
    if api == "code_assist":
        return "cloudaicompanion.googleapis.com", "Gemini for Google Cloud API"
    return "generativelanguage.googleapis.com", "Generative Language API"


def consumer_suspended(api: str) -> GoogleError:
    service, _ = _service(api)
    consumer = f"projects/{FAKE_PROJECT_NUMBER}"
    return error(
        403,
        "PERMISSION_DENIED",
        f"Permission denied: Consumer '{consumer}' has been suspended.",
        [
            {
                "@type": _T + "ErrorInfo",
                "reason": "CONSUMER_SUSPENDED",
                "domain": "googleapis.com",
                "metadata": {"consumer": consumer, "service": service},
            }
        ],
    )


def service_disabled(api: str) -> GoogleError:
    service, title = _service(api)
    url = (
        f"https://console.developers.google.com/apis/api/{service}/overview"
        f"?project={FAKE_PROJECT_NUMBER}"
    )
    return error(
        403,
        "PERMISSION_DENIED",
        f"{title} has not been used in project {FAKE_PROJECT_NUMBER} before or it is disabled. "
        f"Enable it by visiting {url} then retry. If you enabled this API recently, wait a few "
        "minutes for the action to propagate to our systems and retry.",
        [
            {
                "@type": _T + "ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {
                    "activationUrl": url,
                    "consumer": f"projects/{FAKE_PROJECT_NUMBER}",
                    "containerInfo": FAKE_PROJECT_NUMBER,
                    "service": service,
                    "serviceTitle": title,
                },
            },
            {
                "@type": _T + "Help",
                "links": [{"description": "Google developers console API activation", "url": url}],
            },
        ],
    )


def iam_denied(project: str | None) -> GoogleError:
    resource = f"//cloudaicompanion.googleapis.com/projects/{project or ''}/locations/global"
    permission = "cloudaicompanion.companions.generateChat"
    return error(
        403,
        "PERMISSION_DENIED",
        f"Permission '{permission}' denied on resource '{resource}' (or it may not exist).",
        [
            {
                "@type": _T + "ErrorInfo",
                "reason": "IAM_PERMISSION_DENIED",
                "domain": "cloudaicompanion.googleapis.com",
                "metadata": {"permission": permission, "resource": resource.removeprefix("//")},
            }
        ],
    )


DEFAULT_VALIDATION_URL = "https://accounts.google.com/signin/continue?sarp=1&scc=1&fake=1"


def validation_required(url: str = DEFAULT_VALIDATION_URL) -> GoogleError:
    return error(
        403,
        "PERMISSION_DENIED",
        "Verify your account to continue.",
        [
            {
                "@type": _T + "ErrorInfo",
                "reason": "VALIDATION_REQUIRED",
                "domain": "cloudcode-pa.googleapis.com",
                "metadata": {"validation_link": url},
            },
            {
                "@type": _T + "Help",
                "links": [
                    {"description": "Verify your account", "url": url},
                    {
                        "description": "Learn more",
                        "url": "https://support.google.com/accounts?p=al_alert",
                    },
                ],
            },
        ],
    )


def unauthenticated(missing: bool = False) -> GoogleError:
    if missing:
        return error(
            401,
            "UNAUTHENTICATED",
            "Request is missing required authentication credential. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            [
                {
                    "@type": _T + "ErrorInfo",
                    "reason": "CREDENTIALS_MISSING",
                    "domain": "googleapis.com",
                    "metadata": {"service": "cloudcode-pa.googleapis.com"},
                }
            ],
        )
    return error(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    )


# What Gemini CLI users quote since 2026-06-18 for free "Gemini Code Assist for individuals",
# Google AI Pro and Ultra accounts (gemini-cli issues, 2026): as `reasonMessage` of the
# UNSUPPORTED_CLIENT ineligible tier, and as the message of refused generation calls.
UNSUPPORTED_CLIENT_MESSAGE = (
    "This client is no longer supported for Gemini Code Assist for individuals. To continue "
    "using Gemini, please migrate to the Antigravity suite of products: https://antigravity.google"
)


def unsupported_client() -> GoogleError:
    """A generation call refused for such an account. Only the message is public; the status
    and the bare body (no ErrorInfo) are our reading, so a client must go by the message."""
    return error(403, "PERMISSION_DENIED", UNSUPPORTED_CLIENT_MESSAGE)


def unavailable(message: str = "The model is overloaded. Please try again later.") -> GoogleError:
    return error(503, "UNAVAILABLE", message)


def capacity(model: str, status: int = 503) -> GoogleError:
    return error(
        status,
        "RESOURCE_EXHAUSTED" if status == 429 else "UNAVAILABLE",
        f"No capacity available for model {model} on the server",
        [
            {
                "@type": _T + "ErrorInfo",
                "reason": "MODEL_CAPACITY_EXHAUSTED",
                "domain": "cloudcode-pa.googleapis.com",
                "metadata": {"model": model},
            }
        ],
    )


def internal() -> GoogleError:
    return error(
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    )


# Google's front end answers 502 with its own HTML page, not a JSON error: a client that assumes
# every error body is JSON learns otherwise here.
_BAD_GATEWAY_HTML = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 502 (Server Error)!!1"
    "</title>\n  <p><b>502.</b> <ins>That\u2019s an error.</ins>\n  <p>The server encountered a "
    "temporary error and could not complete your request.<p>Please try again in 30 seconds.  "
    "<ins>That\u2019s all we know.</ins>\n"
)


def bad_gateway() -> GoogleError:
    return GoogleError(502, _BAD_GATEWAY_HTML, content_type="text/html; charset=UTF-8")


def gateway_timeout() -> GoogleError:
    return error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")


def invalid_argument(message: str, violations: list[dict[str, str]] | None = None) -> GoogleError:
    details = [{"@type": _T + "BadRequest", "fieldViolations": violations}] if violations else None
    return error(400, "INVALID_ARGUMENT", message, details)


def failed_precondition(message: str) -> GoogleError:
    return error(400, "FAILED_PRECONDITION", message)


def model_not_found(model: str, method: str) -> GoogleError:
    return error(
        404,
        "NOT_FOUND",
        f"models/{model} is not found for API version v1beta, or is not supported for {method}. "
        "Call ListModels to see the list of available models and their supported methods.",
    )


def entity_not_found() -> GoogleError:
    """Code Assist's terse 404 (unknown model, unknown operation)."""
    return error(404, "NOT_FOUND", "Requested entity was not found.")
