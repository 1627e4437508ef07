"""The OpenAI dialect, as the edge sees it before routing: the default for every request no
other dialect claims, with OpenAI's error shape. Its routes load at its first request."""

from collections.abc import Sequence

from starlette.routing import BaseRoute

from gemini_proxy.app.dialects import Dialect
from gemini_proxy.openai.errors import render_error


def _routes() -> Sequence[BaseRoute]:
    from gemini_proxy.openai import routes

    return routes.ROUTES


DIALECT = Dialect(name="openai", load_routes=_routes, render_error=render_error)
