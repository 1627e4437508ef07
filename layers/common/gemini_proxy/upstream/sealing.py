"""Seal an access token before it goes into the shared state store.

The key is derived from the account's refresh token, which only the credential files (or the
secret) hold and the store never does. So whoever can read the state table or the SQLite file
(a backup, a colleague with read access to DynamoDB) finds no bearer token they could use, while
every proxy instance that loaded the account can read what another one stored.

The construction uses the standard library only, so the Lambda layer needs no native wheel:
HMAC-SHA256 as a PRF in counter mode for the keystream, then encrypt-then-MAC with a separate
HMAC-SHA256 key over nonce and ciphertext. Tokens are short (a few hundred bytes).
"""

import base64
import hashlib
import hmac
import os

_VERSION = "v1."
_NONCE_BYTES = 16
_TAG_BYTES = 32
_BLOCK = hashlib.sha256().digest_size


def _keys(secret: str) -> tuple[bytes, bytes]:
    root = secret.encode()
    encrypt = hmac.digest(root, b"gemini-proxy/token-seal/encrypt", "sha256")
    mac = hmac.digest(root, b"gemini-proxy/token-seal/mac", "sha256")
    return encrypt, mac


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + _BLOCK - 1) // _BLOCK
    return b"".join(
        hmac.digest(key, nonce + counter.to_bytes(4, "big"), "sha256") for counter in range(blocks)
    )[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


def seal(plaintext: str, secret: str) -> str:
    encrypt, mac = _keys(secret)
    nonce = os.urandom(_NONCE_BYTES)
    data = plaintext.encode()
    ciphertext = _xor(data, _keystream(encrypt, nonce, len(data)))
    tag = hmac.digest(mac, nonce + ciphertext, "sha256")
    return _VERSION + base64.urlsafe_b64encode(nonce + ciphertext + tag).decode()


def unseal(sealed: str, secret: str) -> str | None:
    """The plaintext, or None when the value was altered or sealed with another secret."""
    if not sealed.startswith(_VERSION):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed[len(_VERSION) :])
    except ValueError:
        return None
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        return None
    nonce, ciphertext, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
    encrypt, mac = _keys(secret)
    if not hmac.compare_digest(tag, hmac.digest(mac, nonce + ciphertext, "sha256")):
        return None
    try:
        return _xor(ciphertext, _keystream(encrypt, nonce, len(ciphertext))).decode()
    except UnicodeDecodeError:
        return None
