"""Client API keys, taken from wherever each dialect's clients put them, compared in constant time.

OpenAI clients send `Authorization: Bearer <key>`, Anthropic's `x-api-key`, Google's
`x-goog-api-key` or `?key=`. Whatever the place, the key only proves who the client is: it
never goes upstream (the pool's credential replaces it).

The dashboard's JSON API also takes a session cookie, and only there (`Gate`): a cookie that a
browser attaches by itself must never authorise a generation request. The session is stateless
(fingerprint, expiry, and an HMAC keyed by the key that signed in), so every instance verifies
it with nothing stored, and changing the key ends its sessions.
"""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from starlette.types import Scope

from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.errors import AuthenticationError, ProxyError

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


# --- the dashboard's sessions ------------------------------------------------------------

SESSION_COOKIE = "gemini_proxy_session"
CSRF_HEADER = "x-gemini-proxy-csrf"
DASHBOARD_API = "/dashboard/api/"
_SAFE_METHODS = frozenset({"GET", "HEAD"})


class Sessions:
    """Sign-in sessions for the dashboard, signed with the key that signed in."""

    def __init__(
        self, keys: list[str], lifetime: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.keys = ClientKeys(keys)
        self._secrets = {fingerprint(key): key.encode() for key in keys if key}
        self.lifetime = lifetime
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self.keys.enabled

    def issue(self, name: str) -> str:
        """The cookie value for the key whose fingerprint is `name` (verified by the caller)."""
        expires = int(self._clock() + self.lifetime)
        body = f"{name}.{expires}"
        return f"{body}.{_mac(self._secrets[name], 'session', body)}"

    def open(self, cookie: str) -> str | None:
        """The signed-in key's fingerprint, if the cookie is genuine and unexpired."""
        name, _, rest = cookie.partition(".")
        expires, _, mac = rest.partition(".")
        secret = self._secrets.get(name)
        if secret is None or not (expires.isdigit() and len(expires) <= 12):
            return None
        if int(expires) <= self._clock():
            return None
        expected = _mac(secret, "session", f"{name}.{expires}")
        return name if hmac.compare_digest(mac.encode(), expected.encode()) else None

    def csrf(self, cookie: str) -> str:
        """The token a state-changing request must echo in `x-gemini-proxy-csrf`: derived
        from the session (call after `open`), so a page on another site cannot know it."""
        name, _, rest = cookie.partition(".")
        return _mac(self._secrets[name], "csrf", f"{name}.{rest.partition('.')[0]}")


def _mac(secret: bytes, purpose: str, body: str) -> str:
    digest = hmac.new(secret, f"gemini-proxy-dashboard|{purpose}|{body}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


class Gate:
    """The edge's authentication: client keys everywhere; on the dashboard's JSON API the
    dashboard's keys (or its session cookie) instead, with cross-site checks on actions."""

    def __init__(self, keys: ClientKeys, sessions: Sessions) -> None:
        self.keys = keys
        self.sessions = sessions

    def check(self, scope: Scope) -> str:
        if scope["path"].startswith(DASHBOARD_API):
            return self._dashboard(scope)
        return self.keys.check(scope)

    def _dashboard(self, scope: Scope) -> str:
        acting = scope["method"] not in _SAFE_METHODS
        if acting and not same_origin(scope):
            raise _forbidden("a dashboard action must come from the dashboard's own page")
        if not self.sessions.enabled:
            # No keys (loopback only): anyone here may act, but only through a script that
            # can set a header, which a page on another site cannot do without CORS.
            if acting and not header(scope, CSRF_HEADER.encode()):
                raise _forbidden(f"a dashboard action needs the {CSRF_HEADER} header")
            return self.keys.check(scope)
        cookie = session_cookie(scope)
        name = self.sessions.open(cookie) if cookie else None
        if cookie and name is not None:
            if acting:
                sent = header(scope, CSRF_HEADER.encode()) or b""
                if not hmac.compare_digest(sent, self.sessions.csrf(cookie).encode()):
                    raise _forbidden(f"a dashboard action needs the {CSRF_HEADER} header")
            return f"key:{name}"
        # A script may send the key itself, as to every other endpoint (never a cookie: no CSRF).
        name = self.sessions.keys.verify(presented_keys(scope))
        if name is None:
            raise AuthenticationError(
                "Sign in to the dashboard with a client key (or a dashboard.admin_keys key).",
                code="invalid_api_key",
            )
        return f"key:{name}"


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def session_cookie(scope: Scope) -> str | None:
    raw = header(scope, b"cookie")
    if raw is None:
        return None
    for part in raw.decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


def same_origin(scope: Scope) -> bool:
    """Does a browser say this request comes from a page of this very origin? Fetch metadata
    first (every current browser sends it), else Origin against Host. No browser headers at
    all: a script, not a page, so nothing to forge."""
    site = header(scope, b"sec-fetch-site")
    if site is not None:
        return site in (b"same-origin", b"none")
    origin = header(scope, b"origin")
    if origin is None:
        return True
    host = header(scope, b"x-forwarded-host") or header(scope, b"host") or b""
    return urlsplit(origin.decode("latin-1")).netloc.encode("latin-1") == host


def _forbidden(message: str) -> ProxyError:
    return ProxyError(message, status=403, type="invalid_request_error", code="forbidden")
