"""The ASGI app: the same one under `gemini-proxy serve`, in a container and on Lambda."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gemini_proxy.app import admin
from gemini_proxy.app.chat import chat_completions
from gemini_proxy.app.embeddings import embeddings
from gemini_proxy.app.limits import LimitsMiddleware
from gemini_proxy.app.openapi import openapi_document
from gemini_proxy.app.responses import error_response
from gemini_proxy.app.routes import get_model, health, list_models
from gemini_proxy.app.services import Services
from gemini_proxy.app.transcriptions import transcriptions
from gemini_proxy.config import Config, ConfigError
from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import ProxyError
from gemini_proxy.logs import logger
from gemini_proxy.runtime import load_runtime
from gemini_proxy.state.base import StateStore


def create_app(
    config: Config,
    credentials: list[Credential],
    client_keys: list[str],
    store: StateStore | None = None,
) -> Starlette:
    services = Services.build(config, credentials, client_keys, store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await services.close()

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/admin/credentials", admin.credentials, methods=["GET"]),
            Route("/metrics", admin.prometheus, methods=["GET"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/v1/models/{model:path}", get_model, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/audio/transcriptions", transcriptions, methods=["POST"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected_error},
        lifespan=lifespan,
    )
    app.state.services = services
    limits = config.limits
    if limits.requests_per_minute or limits.max_concurrent_streams:
        app.add_middleware(
            LimitsMiddleware,
            requests_per_minute=limits.requests_per_minute,
            max_concurrent_streams=limits.max_concurrent_streams,
        )
    if config.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.server.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["authorization", "content-type"],
            expose_headers=["x-request-id", "x-gemini-proxy-credential", "retry-after"],
        )
    return app


def app_from_environment() -> Starlette:
    """Factory for uvicorn --factory and the Lambda start script: everything from env."""
    runtime = load_runtime()
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and not runtime.client_keys:
        # A Lambda URL is public: fail closed rather than lend the Gemini quota to anyone.
        raise ConfigError(
            "refusing to start on Lambda without client keys (client_api_keys in the secret)"
        )
    return create_app(runtime.config, runtime.credentials, runtime.client_keys)


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ProxyError(
            f"Unknown path: {request.method} {request.url.path}",
            status=404,
            type="invalid_request_error",
            code="unknown_url",
        )
    else:
        error = ProxyError(str(exc.detail), status=exc.status_code, type="invalid_request_error")
    return error_response(error, dict(exc.headers or {}))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The traceback goes to our log, never to the client.
    logger.exception("unhandled error", extra={"path": request.url.path})
    return error_response(ProxyError("The proxy hit an internal error", code="internal_error"))
