"""GET /admin/credentials: every credential's health, by fingerprint only."""

from pydantic_core import to_json
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from gemini_proxy.app.responses import JSONBytes, keyed
from gemini_proxy.app.services import Services
from gemini_proxy.metrics import metrics


@keyed
async def credentials(request: Request) -> Response:
    services: Services = request.app.state.services
    rows = await services.orchestrator.pool.report()
    return JSONBytes(to_json({"object": "list", "data": rows}))


async def prometheus(request: Request) -> Response:
    services: Services = request.app.state.services
    if not services.config.metrics.enabled:
        raise HTTPException(status_code=404)
    return await _prometheus(request)


@keyed
async def _prometheus(request: Request) -> Response:
    services: Services = request.app.state.services
    pool = services.orchestrator.pool
    text = metrics.prometheus(lambda: pool.available_counts(services.config.models))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
