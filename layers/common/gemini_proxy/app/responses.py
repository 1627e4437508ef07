"""Response helpers: OpenAI-shaped errors and JSON bodies that are already bytes."""

from pydantic_core import to_json
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
