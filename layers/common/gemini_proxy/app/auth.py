"""Client API keys, taken from wherever each dialect's clients put them, compared in constant time.

OpenAI clients send `Authorization: Bearer <key>`, Anthropic's `x-api-key`, Google's
`x-goog-api-key` or `?key=`. Whatever the place, the key only proves who the client is: it
never goes upstream (the pool's credential replaces it).
"""

import hashlib
import hmac
from urllib.parse import parse_qsl

from starlette.types import Scope

from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.errors import AuthenticationError

_BEARER = b"bearer "
_KEY_HEADERS = (b"x-api-key", b"x-goog-api-key")
# Any more than this many presented keys is not a client, it is someone guessing.
MAX_PRESENTED = 4


class ClientKeys:
    def __init__(self, keys: list[str]) -> None:
        # Digests, so every comparison is over 32 bytes and says nothing about a key's length.
        self._digests = {_digest(key.encode()): fingerprint(key) for key in keys if key}

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def verify(self, presented: list[bytes]) -> str | None:
        """The fingerprint of the configured key among `presented`, or None."""
        found = None
        for candidate in presented[:MAX_PRESENTED]:
            digest = _digest(candidate)
            # Compare against every key, so timing says nothing about which one matched.
            for known, name in self._digests.items():
                if hmac.compare_digest(digest, known):
                    found = name
        return found

    def check(self, scope: Scope) -> str:
        """The verified client for this request; raises 401 when keys are set and none matches."""
        if not self._digests:
            client = scope.get("client")
            return f"addr:{client[0]}" if client else "addr:unknown"
        name = self.verify(presented_keys(scope))
        if name is None:
            raise AuthenticationError(
                "Invalid or missing API key. Send one of the keys set in GEMINI_PROXY_API_KEYS "
                "as 'Authorization: Bearer <key>' (or 'x-api-key', 'x-goog-api-key', '?key=').",
                code="invalid_api_key",
            )
        return f"key:{name}"


def presented_keys(scope: Scope) -> list[bytes]:
    keys: list[bytes] = []
    for name, value in scope["headers"]:
        if name == b"authorization" and value[: len(_BEARER)].lower() == _BEARER:
            keys.append(value[len(_BEARER) :].strip())
        elif name in _KEY_HEADERS:
            keys.append(value.strip())
    query = scope.get("query_string", b"")
    if b"key=" in query:
        keys += [v.encode() for k, v in parse_qsl(query.decode("latin-1")) if k == "key"]
    return [key for key in keys if key]


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()
