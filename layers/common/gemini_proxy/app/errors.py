"""Exceptions to responses, registered once for every route: each in its dialect's shape."""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gemini_proxy.app.dialects import Dialects
from gemini_proxy.app.edge import outcome_of
from gemini_proxy.errors import ProxyError


def _dialects(request: Request) -> Dialects:
    found: Dialects = request.app.state.dialects
    return found


async def proxy_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProxyError)
    outcome = outcome_of(request)
    outcome.error = exc.code or exc.type
    return _dialects(request).named(outcome.dialect).render_error(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405 (no route, wrong method)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ProxyError(
            f"Unknown path: {request.method} {request.url.path}",
            status=404,
            type="invalid_request_error",
            code="unknown_url",
        )
    elif exc.status_code == 405:
        error = ProxyError(
            f"Method {request.method} is not allowed on {request.url.path}",
            status=405,
            type="invalid_request_error",
            code="method_not_allowed",
            headers=dict(exc.headers or {}),
        )
    else:
        error = ProxyError(str(exc.detail), status=exc.status_code, type="invalid_request_error")
    return await proxy_error(request, error)


HANDLERS = {ProxyError: proxy_error, HTTPException: http_error}
