"""GET /admin/credentials: every credential's health, by fingerprint only."""

from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response

from gemini_proxy.app.responses import JSONBytes, error_response
from gemini_proxy.app.services import Services
from gemini_proxy.errors import ProxyError


async def credentials(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        services.client_keys.check(request.headers.get("authorization"))
    except ProxyError as exc:
        return error_response(exc)
    rows = await services.orchestrator.pool.report()
    return JSONBytes(to_json({"object": "list", "data": rows}))
