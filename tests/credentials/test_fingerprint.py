"""`fingerprint`: the one way a secret is named outside the place that uses it."""

import hashlib
import re

import pytest

from gemini_proxy.credentials.fingerprint import fingerprint

SECRETS = [
    "AIzaSyA-fake-key-aaaaaaaaaaaaaaaaaaaaaaa",
    "ya29.fake-access-token",
    "1//fake-refresh-token",
    "ключ-🔑",
    "a",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_fingerprint_is_the_first_12_hex_digits_of_sha256(secret: str) -> None:
    value = fingerprint(secret)
    assert re.fullmatch(r"[0-9a-f]{12}", value)
    assert value == hashlib.sha256(secret.encode()).hexdigest()[:12]


def test_known_value() -> None:
    # sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    assert fingerprint("abc") == "ba7816bf8f01"


def test_fingerprint_is_stable_and_distinguishes_secrets() -> None:
    assert fingerprint(SECRETS[0]) == fingerprint(SECRETS[0])
    assert len({fingerprint(s) for s in SECRETS}) == len(SECRETS)
    assert fingerprint(SECRETS[0]) != fingerprint(SECRETS[0] + " ")


@pytest.mark.parametrize("secret", SECRETS[:3])
def test_fingerprint_does_not_contain_the_secret(secret: str) -> None:
    value = fingerprint(secret)
    assert secret not in value
    assert secret[:6] not in value
