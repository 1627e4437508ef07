"""The Responses dialect, as the edge sees it before routing: `/v1/responses...`, with OpenAI's
error shape. Its routes load at its first request."""

from collections.abc import Sequence

from starlette.routing import BaseRoute
from starlette.types import Scope

from gemini_proxy.app.dialects import Dialect
from gemini_proxy.openai.errors import render_error

PATH = "/v1/responses"


def claims(scope: Scope) -> bool:
    path: str = scope["path"]
    return path == PATH or path.startswith(PATH + "/")


def _routes() -> Sequence[BaseRoute]:
    from gemini_proxy.responses import routes

    return routes.ROUTES


DIALECT = Dialect(name="responses", load_routes=_routes, render_error=render_error, claims=claims)
