"""The Anthropic dialect, as the edge sees it before routing: it claims `/v1/messages...` (so a
401 or 404 there is in Anthropic's shape, which Claude Code reads) and `GET /v1/models...` from
Anthropic clients, which always send `anthropic-version`. Its routes load at its first request."""

from collections.abc import Sequence

from starlette.routing import BaseRoute
from starlette.types import Scope

from gemini_proxy.anthropic.errors import render_error
from gemini_proxy.app.dialects import Dialect

MESSAGES = "/v1/messages"
MODELS = "/v1/models"


def claims(scope: Scope) -> bool:
    path: str = scope["path"]
    if path == MESSAGES or path.startswith(MESSAGES + "/"):
        return True
    if path == MODELS or path.startswith(MODELS + "/"):
        return scope["method"] in ("GET", "HEAD") and _speaks_anthropic(scope)
    return False


def _speaks_anthropic(scope: Scope) -> bool:
    return any(name == b"anthropic-version" for name, _ in scope["headers"])


def _routes() -> Sequence[BaseRoute]:
    from gemini_proxy.anthropic import routes

    return routes.ROUTES


DIALECT = Dialect(name="anthropic", load_routes=_routes, render_error=render_error, claims=claims)
