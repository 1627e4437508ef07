"""The ASGI app: the same one under `gemini-proxy serve`, in a container and on Lambda."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gemini_proxy.anthropic.dialect import DIALECT as ANTHROPIC
from gemini_proxy.app import admin, routes
from gemini_proxy.app.dialects import Dialects
from gemini_proxy.app.edge import EdgeMiddleware
from gemini_proxy.app.errors import HANDLERS
from gemini_proxy.app.services import Services
from gemini_proxy.config import Config, ConfigError
from gemini_proxy.credentials.models import Credential
from gemini_proxy.dashboard import routes as dashboard
from gemini_proxy.gemini.dialect import DIALECT as GEMINI
from gemini_proxy.generation.outcome import Outcome
from gemini_proxy.logs import logger
from gemini_proxy.metrics import metrics
from gemini_proxy.openai.dialect import DIALECT as OPENAI
from gemini_proxy.responses.dialect import DIALECT as RESPONSES
from gemini_proxy.runtime import load_runtime
from gemini_proxy.state.base import StateStore


def create_app(
    config: Config,
    credentials: list[Credential],
    client_keys: list[str],
    store: StateStore | None = None,
) -> Starlette:
    services = Services.build(config, credentials, client_keys, store)
    dialects = Dialects(
        [
            ANTHROPIC,
            GEMINI,
            RESPONSES,
            OPENAI,
        ],
        default=OPENAI,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        yield
        await services.close()

    middleware = []
    if config.server.cors_origins:
        # Outside the edge: a browser's preflight carries no key and must not need one.
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=config.server.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "x-api-key",
                    "x-goog-api-key",
                    "x-goog-api-client",
                    "anthropic-version",
                    "anthropic-beta",
                ],
                expose_headers=["x-request-id", "x-gemini-proxy-credential", "retry-after"],
            )
        )
    middleware.append(
        Middleware(
            EdgeMiddleware,
            dialects=dialects,
            gate=services.gate,
            limits=services.limits,
            public=lambda path: path in routes.PUBLIC_PATHS,
            finish=lambda outcome: _finish(services, outcome),
        )
    )
    app = Starlette(
        routes=[dialects.router([*routes.ROUTES, *admin.ROUTES, *dashboard.routes(config)])],
        middleware=middleware,
        exception_handlers=dict(HANDLERS),
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.dialects = dialects
    return app


def _finish(services: Services, outcome: Outcome) -> None:
    """The one log line of a request, its metrics and its usage (counted in memory; written
    in batches by a flush this may start, which the request does not wait for)."""
    total_ms = outcome.total_ms()
    logger.info("request", extra=outcome.log_fields(total_ms))
    services.usage.record(outcome)
    services.flusher.nudge()
    model = outcome.served_model
    # Label values come only from models the proxy knows: invented names must not become series.
    label = model if model is not None and services.catalog.knows(model) else "unknown"
    available = None
    if metrics.emf and model is not None and label != "unknown":
        available = services.orchestrator.pool.available_counts([model])[model]
    metrics.request(outcome, label, total_ms, available)


def app_from_environment() -> Starlette:
    """Factory for uvicorn --factory and the Lambda start script: everything from env."""
    runtime = load_runtime()
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and not runtime.client_keys:
        # A Lambda URL is public: fail closed rather than lend the Gemini quota to anyone.
        raise ConfigError(
            "refusing to start on Lambda without client keys (client_api_keys in the secret)"
        )
    return create_app(runtime.config, runtime.credentials, runtime.client_keys)
