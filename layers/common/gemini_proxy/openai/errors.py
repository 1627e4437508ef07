"""Errors in OpenAI's shape, which the Responses dialect shares."""

from pydantic_core import to_json
from starlette.responses import Response

from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.errors import ProxyError


def render_error(error: ProxyError) -> Response:
    """`{"error": {"message", "type", "param", "code"}}`, as OpenAI answers."""
    return JSONBytes(to_json(error.body()), status_code=error.status, headers=error.headers)
