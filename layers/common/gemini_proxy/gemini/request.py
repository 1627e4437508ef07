"""What the proxy checks in a Gemini request body, and nothing more.

The body is Gemini's own and goes upstream as the client sent it, so a field Google adds
tomorrow works without a proxy release. The proxy only makes sure it is a JSON object (and has
`contents` where Google needs them): a malformed body costs no pool attempt. Pure functions.
"""

from typing import Any

from pydantic_core import from_json, to_json

from gemini_proxy.errors import InvalidRequest


def json_object(body: bytes) -> dict[str, Any]:
    """The body as one JSON object and nothing after it: Code Assist's envelope splices these
    bytes in as its `request`, so trailing text could otherwise add envelope fields."""
    if not body.strip():
        raise InvalidRequest("The request body is empty; expected a JSON object")
    try:
        data = from_json(body, cache_strings="keys")
    except ValueError as exc:
        raise InvalidRequest(f"Invalid JSON payload received: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRequest("Invalid JSON payload received: expected a JSON object")
    return data


def _require_contents(request: dict[str, Any], where: str = "") -> None:
    contents = request.get("contents")
    if not isinstance(contents, list) or not contents:
        raise InvalidRequest(
            f"'{where}contents' is required: a non-empty list of Content",
            param=f"{where}contents",
            code="missing_contents",
        )


def generate_body(body: bytes) -> bytes:
    """A generateContent / streamGenerateContent body, unchanged once checked."""
    _require_contents(json_object(body))
    return body


def count_tokens_body(body: bytes) -> bytes:
    """The request to count: `{contents}` as sent, or the inner `generateContentRequest`
    (the upstream client names the model itself, so the client's `model` there is ignored)."""
    data = json_object(body)
    inner = data.get("generateContentRequest")
    if isinstance(inner, dict):
        _require_contents(inner, "generateContentRequest.")
        return to_json(inner)
    _require_contents(data)
    return body


def embed_body(body: bytes, requested: str, model: str) -> bytes:
    """An embedContent / batchEmbedContents body. Google wants each request's `model` to be the
    URL's: when the client named an alias, the alias in the body is renamed with it."""
    data = json_object(body)
    alias = f"models/{requested.removeprefix('models/')}"
    target = f"models/{model}"
    if alias == target:
        return body
    renamed = False
    requests = data.get("requests")
    for item in [data, *(requests if isinstance(requests, list) else [])]:
        if isinstance(item, dict) and item.get("model") in (alias, alias.removeprefix("models/")):
            item["model"] = target
            renamed = True
    return to_json(data) if renamed else body
