"""Seal an access token before it goes into the shared state store.

The key is derived from the account's refresh token, which only the credential files (or the
secret) hold and the store never does. So whoever can read the state table or the SQLite file
(a backup, a colleague with read access to DynamoDB) finds no bearer token they could use, while
every proxy instance that loaded the account can read what another one stored.

AES-256-GCM from `cryptography`, a vetted AEAD: the key comes from the refresh token through
HKDF-SHA256, each value has a random 96-bit nonce, and the name of the store record the value
is written to is bound as associated data, so a sealed value copied into another record does
not open there.
"""

import base64
import hashlib
import hmac
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v2."
_NONCE_BYTES = 12
_TAG_BYTES = 16
# Fixed labels: a key derived for this purpose is good for nothing else.
_SALT = b"gemini-proxy/token-seal"
_INFO = b"gemini-proxy/token-seal/v2/aes-256-gcm"


def _cipher(secret: str) -> "AESGCM":
    # Imported here: only OAuth accounts seal anything, and a key-only deployment should not
    # pay for loading the library at every cold start.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO)
    return AESGCM(hkdf.derive(secret.encode()))


def seal(plaintext: str, secret: str, record: str) -> str:
    """`plaintext` sealed with a key from `secret`, openable only for the store `record`."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(secret).encrypt(nonce, plaintext.encode(), record.encode())
    return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(sealed: str, secret: str, record: str) -> str | None:
    """The plaintext, or None when the value was altered, sealed with another secret, or
    sealed for another record."""
    if sealed.startswith(_LEGACY_VERSION):
        return _unseal_legacy(sealed, secret)
    raw = _decoded(sealed, _VERSION)
    if raw is None or len(raw) < _NONCE_BYTES + _TAG_BYTES:
        return None
    from cryptography.exceptions import InvalidTag

    nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    try:
        return _cipher(secret).decrypt(nonce, body, record.encode()).decode()
    except (InvalidTag, UnicodeDecodeError):
        return None


def _decoded(sealed: str, version: str) -> bytes | None:
    if not sealed.startswith(version):
        return None
    try:
        return base64.urlsafe_b64decode(sealed[len(version) :])
    except ValueError:
        return None


# --- Legacy: v1, read only ----------------------------------------------------------------------
# What this module sealed before v2: an HMAC-SHA256 keystream with encrypt-then-MAC, bound to no
# record. Nothing is sealed this way any more; values already in a store are still read until
# they expire (a stored token lives an hour at most), so an upgrade refreshes no token early.
# Delete this section once every instance runs v2 and an hour has passed.

_LEGACY_VERSION = "v1."
_LEGACY_NONCE_BYTES = 16
_LEGACY_TAG_BYTES = 32
_LEGACY_BLOCK = hashlib.sha256().digest_size


def _unseal_legacy(sealed: str, secret: str) -> str | None:
    raw = _decoded(sealed, _LEGACY_VERSION)
    if raw is None or len(raw) < _LEGACY_NONCE_BYTES + _LEGACY_TAG_BYTES:
        return None
    nonce = raw[:_LEGACY_NONCE_BYTES]
    ciphertext, tag = raw[_LEGACY_NONCE_BYTES:-_LEGACY_TAG_BYTES], raw[-_LEGACY_TAG_BYTES:]
    root = secret.encode()
    encrypt = hmac.digest(root, b"gemini-proxy/token-seal/encrypt", "sha256")
    mac = hmac.digest(root, b"gemini-proxy/token-seal/mac", "sha256")
    if not hmac.compare_digest(tag, hmac.digest(mac, nonce + ciphertext, "sha256")):
        return None
    blocks = (len(ciphertext) + _LEGACY_BLOCK - 1) // _LEGACY_BLOCK
    stream = b"".join(
        hmac.digest(encrypt, nonce + counter.to_bytes(4, "big"), "sha256")
        for counter in range(blocks)
    )
    plain = bytes(c ^ s for c, s in zip(ciphertext, stream, strict=False))
    try:
        return plain.decode()
    except UnicodeDecodeError:
        return None
