"""Errors in Google's shape: `{"error": {"code", "message", "status", "details"}}`.

google-genai and Gemini CLI read `code` (ClientError for 4xx, ServerError for 5xx), `status`
and the `details`: a 429 carries a RetryInfo with the wait, as Google's own 429s do.
"""

from typing import Any

from pydantic_core import to_json
from starlette.responses import Response

from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.errors import ProxyError

_TYPE = "type.googleapis.com/google.rpc."
DOMAIN = "gemini-cli-proxy"

# google.rpc.Code's names for HTTP statuses (code.proto's mapping). 405 as grpc-gateway
# answers it; 502 is no Google status, the nearest is UNAVAILABLE (grpc's HTTP mapping).
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def status_name(status: int) -> str:
    if status in STATUS_NAMES:
        return STATUS_NAMES[status]
    return "INVALID_ARGUMENT" if status < 500 else "INTERNAL"


def error_body(error: ProxyError) -> dict[str, Any]:
    details: list[dict[str, Any]] = []
    reason = (error.code or status_name(error.status)).upper()
    info: dict[str, Any] = {"@type": _TYPE + "ErrorInfo", "reason": reason, "domain": DOMAIN}
    if error.param:
        info["metadata"] = {"param": error.param}
    details.append(info)
    retry_after = error.headers.get("retry-after")
    if retry_after is not None and retry_after.isdigit():
        details.append({"@type": _TYPE + "RetryInfo", "retryDelay": f"{retry_after}s"})
    return {
        "error": {
            "code": error.status,
            "message": error.message,
            "status": status_name(error.status),
            "details": details,
        }
    }


def encoded(error: ProxyError) -> bytes:
    return to_json(error_body(error))


def render_error(error: ProxyError) -> Response:
    return JSONBytes(encoded(error), status_code=error.status, headers=error.headers)
