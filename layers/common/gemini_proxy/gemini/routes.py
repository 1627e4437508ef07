"""The Gemini dialect's routes: Google's own API, passed through the pool.

`POST models/{model}:{method}` for generateContent, streamGenerateContent, countTokens,
embedContent and batchEmbedContents; `GET models` and `GET models/{model}`; under `/v1beta`,
`/v1` and no prefix. The client's key proved who it is at the edge and goes no further: the
pool's credential replaces it, and nothing but the checked model id and method goes into an
upstream URL.
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gemini_proxy.app.body import read_body
from gemini_proxy.app.edge import outcome_of
from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.app.services import Services, services_of
from gemini_proxy.app.streaming import stream_response
from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import NotFound, ProxyError
from gemini_proxy.gemini import paths
from gemini_proxy.gemini import request as checks
from gemini_proxy.gemini.model_list import model_objects, page
from gemini_proxy.gemini.stream import framing
from gemini_proxy.generation.outcome import Outcome
from gemini_proxy.generation.service import Call
from gemini_proxy.upstream.router import AI_STUDIO_ONLY


@dataclass(frozen=True, slots=True)
class ModelCall:
    """One `models/{model}:{method}` request, its model resolved and its body read."""

    request: Request
    services: Services
    outcome: Outcome
    requested: str  # the model as the client named it (an alias, say)
    model: str  # the resolved Gemini model id
    method: str
    body: bytes


async def model_method(request: Request) -> Response:
    services, outcome = services_of(request), outcome_of(request)
    requested, method = paths.split_target(request.path_params["target"])
    model = services.generation.resolve(outcome, requested)
    handler = _HANDLERS[paths.served_method(method)]
    body = await read_body(request, services.config.server.max_body_bytes)
    return await handler(ModelCall(request, services, outcome, requested, model, method, body))


async def _generate(job: ModelCall) -> Response:
    call = Call(job.model, checks.generate_body(job.body))
    return JSONBytes(await job.services.generation.complete_raw(job.outcome, call))


async def _stream(job: ModelCall) -> Response:
    frames, media_type = framing(job.request.query_params.get("alt"))
    call = Call(job.model, checks.generate_body(job.body))
    stream = await job.services.generation.stream_raw(job.outcome, call, frames)
    return stream_response(stream, media_type)


async def _count_tokens(job: ModelCall) -> Response:
    call = Call(job.model, checks.count_tokens_body(job.body))
    return JSONBytes(await job.services.generation.count_tokens(job.outcome, call))


async def _embed(job: ModelCall) -> Response:
    """Embeddings exist only on AI Studio: only its keys may serve them."""
    sent = checks.embed_body(job.body, job.requested, job.model)
    upstream = job.services.upstream

    async def embed(credential: Credential) -> bytes:
        return await upstream.call(credential, job.model, job.method, sent)

    answer = await job.services.generation.run(job.outcome, job.model, embed, AI_STUDIO_ONLY)
    return JSONBytes(answer)


_HANDLERS: dict[str, Callable[[ModelCall], Awaitable[Response]]] = {
    paths.GENERATE: _generate,
    paths.STREAM: _stream,
    paths.COUNT_TOKENS: _count_tokens,
    paths.EMBED: _embed,
    paths.BATCH_EMBED: _embed,
}


async def _models(services: Services) -> list[dict[str, Any]]:
    names = await services.catalog.names()
    return model_objects(names, services.model_details, services.catalog.aliases)


async def list_models(request: Request) -> Response:
    models = await _models(services_of(request))
    query = request.query_params
    return JSONBytes(to_json(page(models, query.get("pageSize"), query.get("pageToken"))))


async def get_model(request: Request) -> Response:
    services, outcome = services_of(request), outcome_of(request)
    requested, method = paths.split_target(request.path_params["target"])
    services.generation.resolve(outcome, requested)  # the id's charset, checked
    if method:
        raise ProxyError(
            f"Method GET is not allowed on models/{{model}}:{method}; use POST",
            status=405,
            code="method_not_allowed",
            headers={"allow": "POST"},
        )
    name = f"models/{requested.removeprefix('models/')}"
    for model in await _models(services):
        if model["name"] == name:
            return JSONBytes(to_json(model))
    raise NotFound(f"Model '{name}' is not found", param="model", code="model_not_found")


class GeminiRoute(Route):
    """`{target:path}` must take anything, a decoded CR/LF too, so that the model check answers
    a hostile name with a 400 (Starlette's `.*` stops at a newline). Which requests reach these
    routes at all is `paths.claims`' call (the edge routes by dialect): `GET /v1/models` from an
    OpenAI client goes to OpenAI's route of the same path."""

    def __init__(self, path: str, endpoint: Callable[..., Any], methods: list[str]) -> None:
        super().__init__(path, endpoint, methods=methods)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def _routes() -> list[Route]:
    routes: list[Route] = []
    for prefix in paths.PREFIXES:
        routes += [
            GeminiRoute(f"{prefix}/models", list_models, methods=["GET"]),
            GeminiRoute(f"{prefix}/models/{{target:path}}", get_model, methods=["GET"]),
            GeminiRoute(f"{prefix}/models/{{target:path}}", model_method, methods=["POST"]),
        ]
    return routes


ROUTES = _routes()
