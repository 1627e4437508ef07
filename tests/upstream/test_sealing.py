"""Sealed access tokens: readable with the refresh token that sealed them, and nothing else."""

from gemini_proxy.upstream.sealing import seal, unseal

TOKEN = "ya29.a0AfB_byC-some-realistic-looking-access-token-0123456789"
SECRET = "1//0g-refresh-token"


def test_round_trip_and_a_fresh_nonce_each_time() -> None:
    first, second = seal(TOKEN, SECRET), seal(TOKEN, SECRET)
    assert first != second
    assert unseal(first, SECRET) == TOKEN and unseal(second, SECRET) == TOKEN
    assert TOKEN not in first and "ya29" not in first


def test_another_secret_or_an_altered_value_reads_nothing() -> None:
    sealed = seal(TOKEN, SECRET)
    assert unseal(sealed, "1//another-account") is None
    body = sealed[3:]
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    assert unseal("v1." + flipped, SECRET) is None
    assert unseal(sealed[:-4], SECRET) is None
    assert unseal("v2." + body, SECRET) is None
    assert unseal("v1.not base64!", SECRET) is None


def test_empty_and_long_values() -> None:
    assert unseal(seal("", SECRET), SECRET) == ""
    long = "x" * 5000
    assert unseal(seal(long, SECRET), SECRET) == long
