"""The dashboard's sessions and the edge's gate: a stateless signed cookie that any instance can
verify, accepted on the dashboard's JSON API only, with actions guarded against other sites."""

from typing import Any

import pytest

from gemini_proxy.app.auth import CSRF_HEADER, SESSION_COOKIE, ClientKeys, Gate, Sessions
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.errors import AuthenticationError, ProxyError

KEY = "sk-proxy-alpha-0123456789"
OTHER = "sk-proxy-bravo-9876543210"
STATE = "/dashboard/api/state"
RECHECK = "/dashboard/api/credentials/abc/recheck"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def scope(path: str, method: str = "GET", **headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "path": path,
        "method": method,
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
        "query_string": b"",
        "client": ("127.0.0.1", 5555),
    }


def gate(keys: list[str], clock: Clock | None = None) -> Gate:
    return Gate(ClientKeys(keys), Sessions(keys, 3600, clock or Clock()))


def cookie_of(value: str) -> str:
    return f"theme=dark; {SESSION_COOKIE}={value}"


def test_a_session_opens_on_any_instance_until_it_expires() -> None:
    clock = Clock()
    issued = Sessions([KEY, OTHER], 3600, clock).issue(fingerprint(KEY))
    assert KEY not in issued and issued.startswith(fingerprint(KEY) + ".")
    elsewhere = Sessions([OTHER, KEY], 3600, clock)  # another instance: nothing shared
    assert elsewhere.open(issued) == fingerprint(KEY)
    clock.now += 3601
    assert elsewhere.open(issued) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # the MAC
        lambda c: c.replace(".", ".9", 1),  # a later expiry
        lambda c: c.replace(".", "." + "9" * 5000, 1),  # more digits than int() takes
        lambda c: fingerprint(OTHER) + c[12:],  # another key's name
        lambda c: "",
        lambda c: "..",
    ],
)
def test_a_changed_cookie_opens_nothing(tamper: Any) -> None:
    sessions = Sessions([KEY, OTHER], 3600)
    assert sessions.open(tamper(sessions.issue(fingerprint(KEY)))) is None


def test_a_rotated_key_ends_its_sessions() -> None:
    issued = Sessions([KEY], 3600).issue(fingerprint(KEY))
    assert Sessions([OTHER], 3600).open(issued) is None


def test_the_cookie_works_on_the_dashboards_api_and_nowhere_else() -> None:
    guard = gate([KEY])
    session = guard.sessions.issue(fingerprint(KEY))
    assert guard.check(scope(STATE, cookie=cookie_of(session))) == f"key:{fingerprint(KEY)}"
    for path in ("/v1/chat/completions", "/v1/messages", "/admin/credentials", "/dashboardx"):
        with pytest.raises(AuthenticationError):
            guard.check(scope(path, "POST", cookie=cookie_of(session)))


def test_the_api_also_takes_a_key_as_any_endpoint_does() -> None:
    guard = gate([KEY])
    assert guard.check(scope(STATE, authorization=f"Bearer {KEY}")) == f"key:{fingerprint(KEY)}"
    # A script that sends its key needs no CSRF token: a browser never sends it by itself.
    assert guard.check(scope(RECHECK, "POST", x_api_key=KEY))
    with pytest.raises(AuthenticationError):
        guard.check(scope(STATE))


def test_an_action_needs_the_sessions_csrf_token() -> None:
    guard = gate([KEY])
    session = guard.sessions.issue(fingerprint(KEY))
    token = guard.sessions.csrf(session)
    with pytest.raises(ProxyError) as refused:
        guard.check(scope(RECHECK, "POST", cookie=cookie_of(session)))
    assert refused.value.status == 403
    with pytest.raises(ProxyError):
        guard.check(scope(RECHECK, "POST", cookie=cookie_of(session), **{CSRF_HEADER: "x"}))
    allowed = scope(RECHECK, "POST", cookie=cookie_of(session), **{CSRF_HEADER: token})
    assert guard.check(allowed) == f"key:{fingerprint(KEY)}"


@pytest.mark.parametrize(
    "headers",
    [
        {"sec_fetch_site": "cross-site"},
        {"sec_fetch_site": "same-site"},
        {"origin": "https://evil.example", "host": "proxy.example"},
        {"origin": "null", "host": "proxy.example"},
    ],
)
def test_an_action_from_another_site_is_refused_even_with_the_token(
    headers: dict[str, str],
) -> None:
    guard = gate([KEY])
    session = guard.sessions.issue(fingerprint(KEY))
    token = guard.sessions.csrf(session)
    request = scope(RECHECK, "POST", cookie=cookie_of(session), **{CSRF_HEADER: token}, **headers)
    with pytest.raises(ProxyError) as refused:
        guard.check(request)
    assert refused.value.status == 403


def test_the_same_origin_passes() -> None:
    guard = gate([KEY])
    session = guard.sessions.issue(fingerprint(KEY))
    token = guard.sessions.csrf(session)
    for headers in (
        {"sec_fetch_site": "same-origin", "origin": "https://elsewhere.example"},
        {"origin": "https://proxy.example", "host": "proxy.example"},
        {"origin": "https://api.example", "host": "lambda", "x_forwarded_host": "api.example"},
    ):
        request = scope(
            RECHECK, "POST", cookie=cookie_of(session), **{CSRF_HEADER: token}, **headers
        )
        assert guard.check(request)


def test_without_keys_reading_is_open_and_acting_needs_the_header() -> None:
    guard = gate([])
    assert guard.check(scope(STATE)) == "addr:127.0.0.1"
    with pytest.raises(ProxyError):
        guard.check(scope(RECHECK, "POST"))  # a plain cross-site form could send this
    assert guard.check(scope(RECHECK, "POST", **{CSRF_HEADER: "local"})) == "addr:127.0.0.1"
    with pytest.raises(ProxyError):
        guard.check(scope(RECHECK, "POST", sec_fetch_site="cross-site", **{CSRF_HEADER: "x"}))


def test_admin_keys_replace_the_client_keys_on_the_dashboard_only() -> None:
    guard = Gate(ClientKeys([KEY]), Sessions([OTHER], 3600))
    with pytest.raises(AuthenticationError):
        guard.check(scope(STATE, authorization=f"Bearer {KEY}"))
    assert guard.check(scope(STATE, authorization=f"Bearer {OTHER}"))
    with pytest.raises(AuthenticationError):
        guard.check(scope("/v1/models", authorization=f"Bearer {OTHER}"))
