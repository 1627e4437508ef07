"""Gemini 3 thought signatures, bound to the credential and model that issued them.

Google refuses a signature it did not issue ("Corrupted thought signature"), and peers saw that
after failing over to another account: a signature must go back only to the credential and model
it came from. Clients drop fields they do not know, so the signature rides in something each
dialect's clients return untouched (a tool-call id, a reasoning item, a thinking block), as a
token that names its issuer and carries a MAC keyed by that credential's own secret. Nothing is
stored anywhere: any instance that holds the credential can open the token, a forged or altered
one opens nowhere, and a token of a credential no longer loaded opens nowhere.

With another credential or model, a function call gets Google's documented skip value instead
(and any other part loses its signature): Gemini accepts that for history it cannot verify.
"""

import base64
import binascii
import hmac
from dataclasses import dataclass
from functools import lru_cache

from gemini_proxy.credentials.models import Credential

SKIP = "skip_thought_signature_validator"
# Base64url of what follows; Gemini's own signatures are standard base64, which has no `_`.
PREFIX = "gts1_"
_MAC_BYTES = 16
_FINGERPRINT_BYTES = 6  # the 12 hex digits of a fingerprint


@lru_cache(maxsize=1024)
def _key(secret: str) -> bytes:
    return hmac.digest(secret.encode(), b"gemini-proxy/thought-signature/v1", "sha256")


@dataclass(frozen=True)
class Signer:
    """Binds the signatures of one answer to the credential and model that produced it."""

    credential: Credential
    model: str

    def bind(self, signature: str) -> str:
        model = self.model.encode()[:255]
        payload = (
            bytes.fromhex(self.credential.fingerprint)
            + len(model).to_bytes(1, "big")
            + model
            + signature.encode()
        )
        mac = hmac.digest(_key(self.credential.secret), payload, "sha256")[:_MAC_BYTES]
        return PREFIX + base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")


def is_bound(value: str) -> bool:
    return value.startswith(PREFIX)


def _decode(token: str) -> bytes:
    body = token[len(PREFIX) :]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return b""


def release(token: str, credential: Credential, model: str) -> str | None:
    """The signature inside `token` if `credential` issued it for `model`, else None."""
    raw = _decode(token)
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if payload[:_FINGERPRINT_BYTES].hex() != credential.fingerprint:
        return None
    expected = hmac.digest(_key(credential.secret), payload, "sha256")[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        return None
    rest = payload[_FINGERPRINT_BYTES:]
    if not rest:
        return None
    size = rest[0]
    if rest[1 : 1 + size] != model.encode()[:255]:
        return None
    try:
        return rest[1 + size :].decode()
    except UnicodeDecodeError:
        return None


def issuer(token: str) -> str | None:
    """The issuing credential's fingerprint, unverified: only to prefer that credential."""
    payload = _decode(token)[_MAC_BYTES:]
    return payload[:_FINGERPRINT_BYTES].hex() if len(payload) > _FINGERPRINT_BYTES else None
