"""Response helpers: OpenAI-shaped errors and JSON bodies that are already bytes."""

import functools
from collections.abc import Awaitable, Callable

from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response

from gemini_proxy.errors import ProxyError


class JSONBytes(Response):
    """A JSON body serialised elsewhere (by pydantic, in Rust); no second encoding pass."""

    media_type = "application/json"


def error_response(error: ProxyError, headers: dict[str, str] | None = None) -> Response:
    return JSONBytes(
        to_json(error.body()),
        status_code=error.status,
        headers={**error.headers, **(headers or {})},
    )


Handler = Callable[[Request], Awaitable[Response]]


def keyed(handler: Handler) -> Handler:
    """Answer the handler only for a request with a valid client key; every ProxyError it
    raises becomes the OpenAI-shaped error."""

    @functools.wraps(handler)
    async def checked(request: Request) -> Response:
        services = request.app.state.services
        try:
            services.client_keys.check(request.headers.get("authorization"))
            return await handler(request)
        except ProxyError as exc:
            return error_response(exc)

    return checked
