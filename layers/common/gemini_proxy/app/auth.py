"""Client API keys: `Authorization: Bearer <key>`, compared in constant time."""

import hmac

from gemini_proxy.errors import AuthenticationError

_PREFIX = "bearer "


class ClientKeys:
    def __init__(self, keys: list[str]) -> None:
        self._keys = [key.encode() for key in keys if key]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def check(self, authorization: str | None) -> None:
        """Raise 401 unless the header holds one of the keys (no-op when none are configured)."""
        if not self._keys:
            return
        token = b""
        if authorization and authorization[: len(_PREFIX)].lower() == _PREFIX:
            token = authorization[len(_PREFIX) :].strip().encode()
        # Compare against every key, so timing says nothing about which one (or how much) matched.
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(token, key)
        if not matched:
            raise AuthenticationError(
                "Invalid or missing API key. Send 'Authorization: Bearer <key>' with one of the "
                "keys set in GEMINI_PROXY_API_KEYS.",
                code="invalid_api_key",
            )
