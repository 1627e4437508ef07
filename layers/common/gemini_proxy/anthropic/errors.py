"""Errors in Anthropic's shape: `{"type": "error", "error": {"type", "message"}}`.

Anthropic's types go with its statuses. Claude Code reads a 529 (or an `overloaded_error` body)
as "the model is overloaded": it retries, then may fall back to its fallback model. So Google
failing on its side (the proxy's 503 `unavailable`) is a 529 here; a pool that is rate limited
stays a 429 `rate_limit_error` with its `retry-after`. A pool whose every credential is dead
is no passing overload: a 503 `api_error` that tells the client not to retry.
"""

from typing import Any

from pydantic_core import to_json
from starlette.responses import Response

from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.errors import ProxyError

OVERLOADED = 529
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    OVERLOADED: "overloaded_error",
}
# The proxy's codes for "Google could not answer now": retrying later helps.
_OVERLOADED_CODES = {"unavailable"}


def status_and_type(error: ProxyError) -> tuple[int, str]:
    status = error.status
    if status == 503 and error.code in _OVERLOADED_CODES:
        status = OVERLOADED
    if status in _TYPES:
        return status, _TYPES[status]
    return status, "invalid_request_error" if status < 500 else "api_error"


def error_body(error: ProxyError) -> dict[str, Any]:
    _, kind = status_and_type(error)
    return {"type": "error", "error": {"type": kind, "message": error.message}}


def render_error(error: ProxyError) -> Response:
    status, _ = status_and_type(error)
    headers = dict(error.headers)
    if status == 503:
        # Every credential refused (dead, revoked, unprovisioned): retrying will not help.
        headers["x-should-retry"] = "false"
    return JSONBytes(to_json(error_body(error)), status_code=status, headers=headers)
