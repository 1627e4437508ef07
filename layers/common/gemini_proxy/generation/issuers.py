"""Which credential issued the thought signatures that Gemini's own API passes through.

The other dialects carry each signature in a token that names its issuer (`signatures.py`). A
native client sends Google's signatures back exactly as they came, and the proxy passes answers
on unchanged, so there is no carrier: this process remembers instead. It keeps a digest of each
signature it passed on, with the credential that issued it, so that a follow-up goes first to
that credential (Google refuses a signature that another account issued). When the follow-up
must go to another credential all the same (the issuer is rate limited), the signatures known
to be another's are replaced as the other dialects replace them: Google's skip value on a
function call, nothing on any other part. Everything else goes as the client sent it.

The memory is bounded and per process. A follow-up that reaches another instance, or whose
signatures were forgotten, gets no preference, as if this did not exist.
"""

import hashlib
import re
from collections import OrderedDict
from typing import Any

from pydantic_core import from_json, to_json

from gemini_proxy.generation.signatures import SKIP

_MARK = b'"thoughtSignature"'
_SIGNATURE = re.compile(rb'"thoughtSignature"\s*:\s*"([^"]{1,200000})"')
# Base64url and standard base64 of the same bytes read alike, and `\/` (a JSON escape) as `/`.
_NORMAL = bytes.maketrans(b"-_", b"+/")
CAPACITY = 8192


class Issuers:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._by_digest: OrderedDict[bytes, str] = OrderedDict()

    def note(self, answer: bytes, fingerprint: str) -> None:
        """Remember the signatures in an answer (or a stream event) as `fingerprint`'s."""
        if _MARK not in answer:  # most events: one substring search, nothing parsed
            return
        for signature in _SIGNATURE.findall(answer):
            key = _digest(signature)
            self._by_digest[key] = fingerprint
            self._by_digest.move_to_end(key)
        while len(self._by_digest) > self._capacity:
            self._by_digest.popitem(last=False)

    def issuer(self, request: bytes) -> str | None:
        """The credential that issued the newest signature this process knows in a request's
        history (contents come oldest first)."""
        if _MARK not in request:
            return None
        for signature in reversed(_SIGNATURE.findall(request)):
            found = self._by_digest.get(_digest(signature))
            if found is not None:
                return found
        return None

    def for_credential(self, request: bytes, fingerprint: str) -> bytes:
        """The request as `fingerprint` may send it (see above): unchanged, byte for byte,
        unless its history holds a signature this process knows another credential issued."""
        if _MARK not in request:
            return request
        foreign = set()
        for signature in _SIGNATURE.findall(request):
            key = _digest(signature)
            issuer = self._by_digest.get(key)
            if issuer is not None and issuer != fingerprint:
                foreign.add(key)
        if not foreign:
            return request
        data = from_json(request)
        for part in _parts(data):
            signature = part.get("thoughtSignature")
            if isinstance(signature, str) and _digest(signature.encode()) in foreign:
                if "functionCall" in part:
                    part["thoughtSignature"] = SKIP
                else:
                    del part["thoughtSignature"]
        return to_json(data)

    def __len__(self) -> int:
        return len(self._by_digest)


def _parts(data: Any) -> list[dict[str, Any]]:
    contents = data.get("contents") if isinstance(data, dict) else None
    found = []
    for content in contents if isinstance(contents, list) else ():
        parts = content.get("parts") if isinstance(content, dict) else None
        if isinstance(parts, list):
            found += [part for part in parts if isinstance(part, dict)]
    return found


def _digest(signature: bytes) -> bytes:
    normal = signature.replace(b"\\/", b"/").translate(_NORMAL).rstrip(b"=")
    return hashlib.blake2b(normal, digest_size=16).digest()
