"""The API dialects the proxy speaks, and how each one shapes an error.

A dialect brings its routes and its error shape. The edge needs the shape before routing (a 401,
a 404 for a path nobody serves), so each dialect also says which requests are its own by path
and headers; the OpenAI dialect takes whatever no other claims.

A dialect's routes, with its models and translation, are imported at its first request, not at
start: a cold start pays only for the dialects its clients speak (a function behind Claude Code
never loads the Responses API). What the edge needs first (the claim, the error shape) is light.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.datastructures import URLPath
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Router
from starlette.types import Receive, Scope, Send

from gemini_proxy.errors import ProxyError

ErrorRenderer = Callable[[ProxyError], Response]
# Where the edge leaves the name of the dialect it chose, for the router to use.
SCOPE_KEY = "gemini_proxy.dialect"


@dataclass(frozen=True)
class Dialect:
    name: str
    load_routes: Callable[[], Sequence[BaseRoute]]
    render_error: ErrorRenderer
    claims: Callable[[Scope], bool] = lambda scope: False


class Dialects:
    def __init__(self, dialects: Sequence[Dialect], default: Dialect) -> None:
        self._ordered = [d for d in dialects if d is not default]
        self.default = default
        self._by_name = {d.name: d for d in (*dialects, default)}

    def for_scope(self, scope: Scope) -> Dialect:
        for dialect in self._ordered:
            if dialect.claims(scope):
                return dialect
        return self.default

    def named(self, name: str) -> Dialect:
        return self._by_name.get(name, self.default)

    def router(self, common: Sequence[BaseRoute]) -> "DialectRouter":
        return DialectRouter(self, common)


class DialectRouter(BaseRoute):
    """Routes a request among its own dialect's routes only (the edge chose the dialect), then
    the routes every dialect shares: a chat request is matched against a handful of paths, not
    against every dialect's. No route: Starlette's 404 or 405, shaped by the dialect.

    The app's one route: it takes every HTTP request, whatever its path (a path holding a line
    break included, which a dialect must see to refuse it clearly)."""

    def __init__(self, dialects: Dialects, common: Sequence[BaseRoute]) -> None:
        self._dialects = dialects
        self._common = common
        self._routers: dict[str, Router] = {}

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return (Match.FULL, {}) if scope["type"] == "http" else (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope.get(SCOPE_KEY) or self._dialects.for_scope(scope).name
        router = self._routers.get(name) or self._load(name)
        await router(scope, receive, send)

    def _load(self, name: str) -> Router:
        dialect = self._dialects.named(name)
        # The dialect's first: its paths carry the traffic (none overlaps a common one).
        router = Router(routes=[*dialect.load_routes(), *self._common])
        self._routers[name] = router
        return router

    def url_path_for(self, name: str, /, **path_params: object) -> URLPath:
        raise NoMatchFound(name, path_params)
