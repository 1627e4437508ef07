"""The edge: one middleware every request passes through, whatever its path or its fate.

It gives the request an id and an `Outcome`, finds its dialect (for the shape of any error),
authenticates the client (`auth.Gate`; the dashboard's API also takes its session cookie),
applies the per-client limits (after authentication, so a guessed key costs no limit state),
adds the request id and the serving credential to the answer's headers, turns an unexpected
exception into the dialect's 500, and writes one log line at the end. A handler behind it
contains none of that.
"""

import secrets
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gemini_proxy.app.auth import Gate
from gemini_proxy.app.dialects import SCOPE_KEY, Dialects
from gemini_proxy.app.limits import Limits
from gemini_proxy.errors import ProxyError
from gemini_proxy.generation.outcome import Outcome
from gemini_proxy.logs import logger

STATE_KEY = "outcome"


def outcome_of(request: Request) -> Outcome:
    """The request's outcome; the edge put it there."""
    found: Outcome = request.scope["state"][STATE_KEY]
    return found


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        dialects: Dialects,
        gate: Gate,
        limits: Limits,
        public: Callable[[str], bool],
        finish: Callable[[Outcome], None],
    ) -> None:
        self.app = app
        self.dialects = dialects
        self.gate = gate
        self.limits = limits
        self.public = public
        self.finish = finish

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dialect = self.dialects.for_scope(scope)
        outcome = Outcome(
            request_id=f"req_{secrets.token_hex(8)}",
            method=scope["method"],
            path=scope["path"],  # never the query string: `?key=` may hold a client key
            dialect=dialect.name,
        )
        scope.setdefault("state", {})[STATE_KEY] = outcome
        scope[SCOPE_KEY] = dialect.name
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                outcome.status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = outcome.request_id
                if outcome.credential is not None:
                    headers["x-gemini-proxy-credential"] = outcome.credential
                    headers["x-gemini-proxy-attempts"] = str(outcome.attempts)
            await send(message)

        try:
            if not self.public(scope["path"]):
                outcome.client = self.gate.check(scope)
                self.limits.take_request(outcome.client)
            await self.app(scope, receive, send_with_headers)
        except ProxyError as exc:
            outcome.error = exc.code or exc.type
            await dialect.render_error(exc)(scope, receive, send_with_headers)
        except Exception:
            # The traceback goes to our log, never to the client.
            logger.exception("unhandled error", extra={"request_id": outcome.request_id})
            outcome.error = "internal_error"
            if not started:
                error = ProxyError("The proxy hit an internal error", code="internal_error")
                await dialect.render_error(error)(scope, receive, send_with_headers)
        finally:
            outcome.route = getattr(scope.get("route"), "path", None)
            self.finish(outcome)
