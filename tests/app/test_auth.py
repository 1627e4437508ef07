"""Client API keys (`ClientKeys`): `Authorization: Bearer <key>`."""

import pytest

from gemini_proxy.app.auth import ClientKeys
from gemini_proxy.errors import AuthenticationError
from tests.support.openai_schema import validate

KEYS = ["sk-proxy-alpha-0123456789", "sk-proxy-bravo-9876543210"]


@pytest.mark.parametrize(
    "header", [None, "", "Bearer ", "Bearer anything", "Basic dXNlcjpwYXNz", "garbage"]
)
def test_without_configured_keys_everything_passes(header: str | None) -> None:
    keys = ClientKeys([])
    assert not keys.enabled
    keys.check(header)


def test_empty_strings_are_not_keys() -> None:
    keys = ClientKeys(["", ""])
    assert not keys.enabled
    keys.check(None)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_each_configured_key_passes_with_any_case_of_bearer(key: str, scheme: str) -> None:
    keys = ClientKeys(KEYS)
    assert keys.enabled
    keys.check(f"{scheme} {key}")


def test_surrounding_whitespace_around_the_token_is_ignored() -> None:
    ClientKeys(KEYS).check(f"Bearer  {KEYS[0]}  ")


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
    with pytest.raises(AuthenticationError) as caught:
        ClientKeys(KEYS).check(header)
    error = caught.value
    assert error.status == 401
    assert error.code == "invalid_api_key"
    assert error.type == "invalid_request_error"
    validate("ErrorResponse", error.body())
    text = f"{error.message} {error.body()} {error!r} {error}"
    for key in KEYS:
        assert key not in text
        assert key[:8] not in text
