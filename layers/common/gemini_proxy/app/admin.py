"""The operator's endpoints: `/admin/credentials` and the opt-in Prometheus `/metrics`."""

from pydantic_core import to_json
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.app.services import services_of
from gemini_proxy.metrics import metrics


async def credentials(request: Request) -> Response:
    """Every credential's health, by fingerprint only; models only if the catalog knows them."""
    services = services_of(request)
    rows = await services.orchestrator.pool.report(services.catalog.knows)
    return JSONBytes(to_json({"object": "list", "data": rows}))


async def prometheus(request: Request) -> Response:
    services = services_of(request)
    if not services.config.metrics.enabled:
        raise HTTPException(status_code=404)
    pool = services.orchestrator.pool
    text = metrics.prometheus(lambda: pool.available_counts(services.config.models))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


ROUTES = [
    Route("/admin/credentials", credentials, methods=["GET"]),
    Route("/metrics", prometheus, methods=["GET"]),
]
