"""Client API keys (`ClientKeys`): wherever each dialect's clients send them."""

from typing import Any

import pytest

from gemini_proxy.app.auth import ClientKeys, presented_keys
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.errors import AuthenticationError
from tests.support.openai_schema import validate

KEYS = ["sk-proxy-alpha-0123456789", "sk-proxy-bravo-9876543210"]


def scope(headers: dict[str, str] | None = None, query: str = "") -> dict[str, Any]:
    return {
        "type": "http",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "query_string": query.encode(),
        "client": ("203.0.113.9", 5555),
    }


@pytest.mark.parametrize(
    "header", [None, "", "Bearer ", "Bearer anything", "Basic dXNlcjpwYXNz", "garbage"]
)
def test_without_configured_keys_the_client_is_its_address(header: str | None) -> None:
    keys = ClientKeys([])
    assert not keys.enabled
    headers = {"authorization": header} if header is not None else {}
    assert keys.check(scope(headers)) == "addr:203.0.113.9"


def test_empty_strings_are_not_keys() -> None:
    assert not ClientKeys(["", ""]).enabled


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_each_configured_key_passes_with_any_case_of_bearer(key: str, scheme: str) -> None:
    keys = ClientKeys(KEYS)
    assert keys.check(scope({"authorization": f"{scheme} {key}"})) == f"key:{fingerprint(key)}"


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"x-api-key": KEYS[1]}, ""),
        ({"x-goog-api-key": KEYS[1]}, ""),
        ({}, f"alt=sse&key={KEYS[1]}"),
        ({"authorization": "Bearer not-it", "x-api-key": KEYS[1]}, ""),
    ],
    ids=["x-api-key", "x-goog-api-key", "query", "one-of-several"],
)
def test_the_other_places_dialects_use(headers: dict[str, str], query: str) -> None:
    assert ClientKeys(KEYS).check(scope(headers, query)) == f"key:{fingerprint(KEYS[1])}"


def test_surrounding_whitespace_around_the_token_is_ignored() -> None:
    assert ClientKeys(KEYS).check(scope({"authorization": f"Bearer  {KEYS[0]}  "}))


def test_more_presented_keys_than_a_client_needs_are_not_all_tried() -> None:
    wrong = [("x-api-key", f"wrong-{n}") for n in range(10)]
    raw = scope()
    raw["headers"] = [(k.encode(), v.encode()) for k, v in wrong] + [
        (b"x-api-key", KEYS[0].encode())
    ]
    assert len(presented_keys(raw)) == 11
    with pytest.raises(AuthenticationError):
        ClientKeys(KEYS).check(raw)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-key",
        f"Bearer {KEYS[0][:-1]}",  # a prefix of a key
        f"Bearer {KEYS[0][:5]}",
        f"Bearer {KEYS[0]}x",  # a key plus more
        f"Bearer {KEYS[0].upper()}",  # keys are case-sensitive
        KEYS[0],  # no scheme
        f"Basic {KEYS[0]}",
        f"Bearer{KEYS[0]}",
        f"Token {KEYS[1]}",
        f"Bearer {KEYS[0]} {KEYS[1]}",
        "Bearer ключ",  # non-ASCII must not crash
    ],
)
def test_wrong_or_missing_key_is_401(header: str | None) -> None:
    raw = scope()
    if header is not None:
        raw["headers"] = [(b"authorization", header.encode())]
    with pytest.raises(AuthenticationError) as caught:
        ClientKeys(KEYS).check(raw)
    error = caught.value
    assert error.status == 401
    assert error.code == "invalid_api_key"
    assert error.type == "invalid_request_error"
    validate("ErrorResponse", error.body())
    text = f"{error.message} {error.body()} {error!r} {error}"
    for key in KEYS:
        assert key not in text
        assert key[:8] not in text
