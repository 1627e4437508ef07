"""The operator dashboard: a page, its JSON, sign-in and the recheck action.

The page and its two static files are public and hold no data. The JSON API under
`/dashboard/api/` needs a signed-in client: the edge (`app.auth.Gate`) checks the session
cookie, or a key sent as to any other endpoint, and guards actions against cross-site requests.
Sign-in is a POST form; its key is compared, turned into a signed HttpOnly cookie, and never
echoed, logged or put in a URL.
"""

import re
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl

from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gemini_proxy.app.auth import SESSION_COOKIE, Gate, header, same_origin, session_cookie
from gemini_proxy.app.edge import outcome_of
from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.app.services import Services, services_of
from gemini_proxy.config import Config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.dashboard.view import state_json
from gemini_proxy.errors import NotFound, ProxyError
from gemini_proxy.pool.health import ANY_MODEL, Status
from gemini_proxy.pool.recheck import PROBE_MODEL, recheck_one
from gemini_proxy.upstream.classify import redact
from gemini_proxy.usage.book import MESSAGE_CHARS
from gemini_proxy.usage.read import read_day

PAGE = "/dashboard"
STATIC_DIR = Path(__file__).with_name("static")
STATIC = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}
# Only what the page needs: its own script, style and JSON; nothing inline, nothing framed.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-cache",
}
MAX_FORM_BYTES = 4096
# Where the page lives as the browser sees it: /dashboard, or /<stage>/dashboard behind API
# Gateway. The sign-in form sends it, so the cookie's Path and the redirect fit either.
_PAGE_PATH = re.compile(r"/(?:[A-Za-z0-9_.-]+/)*dashboard")


@cache
def _static(name: str) -> bytes:
    """A file of static/, read once (the package ships them beside this module)."""
    return (STATIC_DIR / name).read_bytes()


async def page(request: Request) -> Response:
    return Response(
        _static("index.html"), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS
    )


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        raise NotFound(f"Unknown path: {request.url.path}", code="unknown_url")
    return Response(_static(name), media_type=STATIC[name], headers=SECURITY_HEADERS)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise ProxyError("The form is too large", status=413, type="invalid_request_error")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _page_path(form: dict[str, str]) -> str:
    sent = form.get("page", "")
    return sent if _PAGE_PATH.fullmatch(sent) else PAGE


def _https(request: Request) -> bool:
    forwarded = header(request.scope, b"x-forwarded-proto") or b""
    return request.url.scheme == "https" or forwarded.split(b",")[0].strip() == b"https"


async def sign_in(request: Request) -> Response:
    if not same_origin(request.scope):
        raise ProxyError("Sign in from the dashboard's own page", status=403, code="forbidden")
    form = await _form(request)
    target = _page_path(form)
    sessions = services_of(request).gate.sessions
    if not sessions.enabled:
        return RedirectResponse(target, status_code=303)  # nothing to sign in to
    name = sessions.keys.verify([form.get("key", "").strip().encode()])
    if name is None:
        outcome_of(request).error = "sign_in_failed"
        return RedirectResponse(f"{target}?signin=failed", status_code=303)
    outcome_of(request).client = f"key:{name}"
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        sessions.issue(name),
        max_age=int(sessions.lifetime),
        path=target,
        secure=_https(request),
        httponly=True,
        samesite="strict",
    )
    return answer


async def sign_out(request: Request) -> Response:
    if not same_origin(request.scope):
        raise ProxyError("Sign out from the dashboard's own page", status=403, code="forbidden")
    target = _page_path(await _form(request))
    answer = RedirectResponse(target, status_code=303)
    answer.delete_cookie(
        SESSION_COOKIE, path=target, secure=_https(request), httponly=True, samesite="strict"
    )
    return answer


def _csrf(gate: Gate, request: Request) -> str | None:
    """The token the page must send with actions: derived from its session; any value when
    the proxy has no keys; none needed by a script that sends its key."""
    if not gate.sessions.enabled:
        return "local"
    cookie = session_cookie(request.scope)
    if cookie and gate.sessions.open(cookie) is not None:
        return gate.sessions.csrf(cookie)
    return None


async def state(request: Request) -> Response:
    services = services_of(request)
    body = await gather_state(services, outcome_of(request).client, _csrf(services.gate, request))
    return JSONBytes(to_json(body), headers={"cache-control": "no-store"})


async def gather_state(
    services: Services, client: str | None, csrf: str | None
) -> dict[str, object]:
    pool = services.orchestrator.pool
    rows = await pool.report(services.catalog.knows)
    usage = await read_day(services.store, services.usage)
    # Accounts only, and not the INVALID ones: Google would refuse them anyway.
    asked = [
        c
        for c in services.credentials
        if c.kind == "oauth" and pool.entry(c, ANY_MODEL).status is not Status.INVALID
    ]
    quotas = await services.quota.quotas(asked)
    return state_json(services.config, rows, usage, quotas, services.credentials, client, csrf)


async def recheck(request: Request) -> Response:
    services = services_of(request)
    fingerprint = request.path_params["fingerprint"]
    found = [c for c in services.credentials if c.fingerprint == fingerprint]
    if not found:
        raise NotFound(
            f"No credential has the fingerprint {fingerprint[:40]!r}", code="unknown_credential"
        )
    credential = found[0]
    pool = services.orchestrator.pool

    async def probe(chosen: Credential) -> None:
        await services.upstream.probe(chosen, PROBE_MODEL)

    problem = await recheck_one(pool, probe, credential)
    rows = await pool.report(services.catalog.knows)
    row = next(r for r in rows if r["fingerprint"] == fingerprint)
    body = {
        "object": "dashboard.recheck",
        "credential": fingerprint,
        "works": problem is None,
        "problem": None if problem is None else redact(problem)[:MESSAGE_CHARS],
        "state": row["state"],
        "models": row["models"],
    }
    return JSONBytes(to_json(body), headers={"cache-control": "no-store"})


def routes(config: Config) -> list[BaseRoute]:
    if not config.dashboard.enabled:
        return []
    return [
        Route(PAGE, page, methods=["GET"]),
        Route(f"{PAGE}/static/{{name}}", static, methods=["GET"]),
        Route(f"{PAGE}/sign-in", sign_in, methods=["POST"]),
        Route(f"{PAGE}/sign-out", sign_out, methods=["POST"]),
        Route(f"{PAGE}/api/state", state, methods=["GET"]),
        Route(f"{PAGE}/api/credentials/{{fingerprint}}/recheck", recheck, methods=["POST"]),
    ]
