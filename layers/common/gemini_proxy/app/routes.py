"""The proxy's own endpoints, outside every dialect: `/`, `/health`, `/openapi.json`."""

from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gemini_proxy import __version__
from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.app.services import services_of

# Answered without a client key: load balancers, adapters and clients probe them; and the
# dashboard's page, which holds no data, with its sign-in (its JSON API needs a client).
PUBLIC_PATHS = frozenset(
    {
        "/",
        "/health",
        "/openapi.json",
        "/dashboard",
        "/dashboard/",  # redirected to /dashboard
        "/dashboard/static/dashboard.css",
        "/dashboard/static/dashboard.js",
        "/dashboard/sign-in",
        "/dashboard/sign-out",
    }
)


async def root(request: Request) -> Response:
    # Claude Code and others probe `HEAD /` before their first call.
    return JSONBytes(to_json({"status": "ok", "service": "gemini-cli-proxy"}))


async def health(request: Request) -> Response:
    credentials = services_of(request).credentials
    count = len(credentials)
    body: dict[str, object] = {
        "status": "ok",
        "version": __version__,
        "credentials": {
            "loaded": count,
            "ai_studio": sum(1 for c in credentials if c.kind == "ai_studio"),
            "oauth": sum(1 for c in credentials if c.kind == "oauth"),
        },
    }
    if count == 0:
        body["message"] = (
            "No credentials loaded: put AI Studio keys in 'oauth creds/ai_studio_keys.txt' "
            "or Gemini CLI accounts (oauth_creds.json files) in 'oauth creds/'"
        )
    return JSONBytes(to_json(body))


async def openapi(request: Request) -> Response:
    # Imported here: the document is built from every dialect's models, which load at their
    # dialect's first request, not at start.
    from gemini_proxy.app.openapi import openapi_document

    return JSONBytes(to_json(openapi_document()))


ROUTES = [
    Route("/", root, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]
