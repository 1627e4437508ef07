"""The Gemini dialect, as the edge sees it before routing: Google's own paths (`paths.claims`),
with Google's error shape. Its routes load at its first request."""

from collections.abc import Sequence

from starlette.routing import BaseRoute

from gemini_proxy.app.dialects import Dialect
from gemini_proxy.gemini import paths
from gemini_proxy.gemini.errors import render_error


def _routes() -> Sequence[BaseRoute]:
    from gemini_proxy.gemini import routes

    return routes.ROUTES


DIALECT = Dialect(
    name="gemini", load_routes=_routes, render_error=render_error, claims=paths.claims
)
