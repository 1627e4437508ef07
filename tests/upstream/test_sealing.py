"""Sealed access tokens: readable with the refresh token that sealed them, for the record they
were sealed for, and nothing else; values sealed the old way (v1) still read."""

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gemini_proxy.upstream.sealing import seal, unseal

TOKEN = "ya29.a0AfB_byC-some-realistic-looking-access-token-0123456789"
SECRET = "1//0g-refresh-token"
RECORD = "oauth_token/fp-alice"

# Sealed by the v1 code (HMAC keystream, encrypt-then-MAC) before it was replaced, with SECRET.
V1_SEALED = (
    "v1.IcKNSNJmK8n_vKLOC1cFODl6_f4N-vhsV59XV4DHXQJJo2yORR_UxXoGvJZ93NhOMQ_2MH_qNVZUFQV8anWfjMd2_"
    "ipq2Bere8iCYGptnXleCszphBQZlaLCrbl3rdCXHBMDBCx-4GhGCfRHww=="
)


def raw(sealed: str) -> bytes:
    assert sealed.startswith("v2.")
    return base64.urlsafe_b64decode(sealed[3:])


def v2(data: bytes) -> str:
    return "v2." + base64.urlsafe_b64encode(data).decode()


def test_round_trip_and_a_fresh_nonce_each_time() -> None:
    first, second = seal(TOKEN, SECRET, RECORD), seal(TOKEN, SECRET, RECORD)
    assert first.startswith("v2.") and first != second
    assert raw(first)[:12] != raw(second)[:12]  # 96-bit nonces, never reused
    assert unseal(first, SECRET, RECORD) == TOKEN and unseal(second, SECRET, RECORD) == TOKEN
    assert TOKEN not in first and "ya29" not in first


def test_it_is_aes_256_gcm_with_an_hkdf_key_and_the_record_as_associated_data() -> None:
    # Opened with the primitives themselves, not through the module: the construction is the
    # one the module says, so anyone can audit (or re-implement) it.
    sealed = raw(seal(TOKEN, SECRET, RECORD))
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"gemini-proxy/token-seal",
        info=b"gemini-proxy/token-seal/v2/aes-256-gcm",
    ).derive(SECRET.encode())
    plain = AESGCM(key).decrypt(sealed[:12], sealed[12:], RECORD.encode())
    assert plain == TOKEN.encode()
    assert len(sealed) == 12 + len(TOKEN) + 16  # nonce, ciphertext, 128-bit tag


def test_another_secret_reads_nothing() -> None:
    assert unseal(seal(TOKEN, SECRET, RECORD), "1//another-account", RECORD) is None


def test_a_value_copied_to_another_record_reads_nothing() -> None:
    sealed = seal(TOKEN, SECRET, RECORD)
    assert unseal(sealed, SECRET, "oauth_token/fp-bob") is None
    assert unseal(sealed, SECRET, "oauth_project/fp-alice") is None


def test_an_altered_value_reads_nothing() -> None:
    sealed = seal(TOKEN, SECRET, RECORD)
    data = raw(sealed)
    for position in (0, 11, 12, len(data) // 2, len(data) - 1):  # nonce, ciphertext, tag
        altered = bytearray(data)
        altered[position] ^= 0x01
        assert unseal(v2(bytes(altered)), SECRET, RECORD) is None, f"byte {position}"
    assert unseal(v2(data[:-1]), SECRET, RECORD) is None
    assert unseal(v2(data[:27]), SECRET, RECORD) is None  # shorter than nonce and tag
    assert unseal("v3." + sealed[3:], SECRET, RECORD) is None
    assert unseal(sealed[3:], SECRET, RECORD) is None
    assert unseal("v2.not base64!", SECRET, RECORD) is None
    assert unseal("", SECRET, RECORD) is None


def test_empty_and_long_values() -> None:
    assert unseal(seal("", SECRET, RECORD), SECRET, RECORD) == ""
    long = "x" * 5000
    assert unseal(seal(long, SECRET, RECORD), SECRET, RECORD) == long


# --- legacy v1 ----------------------------------------------------------------------------------


def test_a_v1_value_from_before_the_upgrade_still_reads() -> None:
    # v1 bound no record: any record name reads it, as it did before.
    assert unseal(V1_SEALED, SECRET, RECORD) == TOKEN
    assert unseal(V1_SEALED, SECRET, "oauth_token/anything") == TOKEN


def test_a_v1_value_still_needs_its_secret_and_must_be_intact() -> None:
    assert unseal(V1_SEALED, "1//another-account", RECORD) is None
    body = V1_SEALED[3:]
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    assert unseal("v1." + flipped, SECRET, RECORD) is None
    assert unseal(V1_SEALED[:-4], SECRET, RECORD) is None
    assert unseal("v1.not base64!", SECRET, RECORD) is None
    # The v1 body under the v2 prefix is not read either way.
    assert unseal("v2." + body, SECRET, RECORD) is None
