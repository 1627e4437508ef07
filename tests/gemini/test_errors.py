"""Google's error shape for every ProxyError, with the statuses google.rpc names."""

import json

import pytest

from gemini_proxy.errors import AuthenticationError, InvalidRequest, NotFound, ProxyError
from gemini_proxy.gemini.errors import render_error
from gemini_proxy.pool.verdicts import all_benched


def rendered(error: ProxyError) -> tuple[int, dict[str, object], dict[str, str]]:
    response = render_error(error)
    return response.status_code, json.loads(bytes(response.body)), dict(response.headers)


@pytest.mark.parametrize(
    ("error", "status", "name"),
    [
        (InvalidRequest("bad", param="contents"), 400, "INVALID_ARGUMENT"),
        (AuthenticationError("who?", code="invalid_api_key"), 401, "UNAUTHENTICATED"),
        (ProxyError("no", status=403), 403, "PERMISSION_DENIED"),
        (NotFound("none", code="model_not_found"), 404, "NOT_FOUND"),
        (ProxyError("GET?", status=405, code="method_not_allowed"), 405, "UNIMPLEMENTED"),
        (ProxyError("big", status=413, code="request_too_large"), 413, "INVALID_ARGUMENT"),
        (ProxyError("oops", code="internal_error"), 500, "INTERNAL"),
        (ProxyError("bad answer", status=502, code="bad_answer"), 502, "UNAVAILABLE"),
        (ProxyError("down", status=503, code="unavailable"), 503, "UNAVAILABLE"),
        (ProxyError("slow", status=504), 504, "DEADLINE_EXCEEDED"),
    ],
)
def test_statuses_get_googles_names(error: ProxyError, status: int, name: str) -> None:
    code, body, _ = rendered(error)
    assert code == status
    assert set(body) == {"error"}
    inner = body["error"]
    assert isinstance(inner, dict)
    assert set(inner) == {"code", "message", "status", "details"}
    assert inner["code"] == status and inner["status"] == name
    assert inner["message"] == error.message
    info = inner["details"][0]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert info["reason"] == (error.code or name).upper()


def test_a_429_keeps_retry_after_and_says_it_in_a_retry_info() -> None:
    code, body, headers = rendered(all_benched(12.2))
    assert code == 429 and headers["retry-after"] == "13"
    error = body["error"]
    assert isinstance(error, dict) and error["status"] == "RESOURCE_EXHAUSTED"
    retry = [d for d in error["details"] if d["@type"].endswith("RetryInfo")]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}]


def test_the_param_is_named_in_the_error_info() -> None:
    _, body, _ = rendered(InvalidRequest("bad id", param="model", code="invalid_model"))
    error = body["error"]
    assert isinstance(error, dict)
    assert error["details"][0]["metadata"] == {"param": "model"}
    assert error["details"][0]["reason"] == "INVALID_MODEL"
