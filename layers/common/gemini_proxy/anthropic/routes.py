"""The Anthropic dialect's routes: messages (whole or streamed), token counts, models.

Each handler parses, translates with the pure functions beside it, and hands the Gemini request
to the generation service; the edge has already authenticated (`x-api-key` or a Bearer token),
limited and will log. What the dialect claims is in `dialect.py`.
"""

from dataclasses import replace

from pydantic_core import from_json, to_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from gemini_proxy.anthropic.dialect import MESSAGES, MODELS, claims
from gemini_proxy.anthropic.models import MessagesRequest, TokenCount
from gemini_proxy.anthropic.names import ModelMap
from gemini_proxy.anthropic.stream import MessageFrames
from gemini_proxy.anthropic.translate_request import for_counting, media_urls, to_gemini
from gemini_proxy.anthropic.translate_response import AnswerOptions, message_id, to_message
from gemini_proxy.app.body import parse_body, read_body
from gemini_proxy.app.edge import outcome_of
from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.app.services import Services, services_of
from gemini_proxy.app.streaming import stream_response
from gemini_proxy.errors import InvalidRequest, NotFound
from gemini_proxy.generation.service import Call, note_schema_changes
from gemini_proxy.generation.signatures import Signer
from gemini_proxy.upstream.wire import GenerateContentResponse

# Gemini's list has no creation dates; a fixed stamp keeps the answer stable across restarts.
MODEL_CREATED = "2025-01-01T00:00:00Z"


def _model_map(request: Request, services: Services) -> ModelMap:
    """Built once per app from the configuration, not per request."""
    state = request.app.state
    found: ModelMap | None = getattr(state, "anthropic_model_map", None)
    if found is None:
        found = ModelMap.from_config(services.config.anthropic.model_map)
        state.anthropic_model_map = found
    return found


async def _parsed(request: Request, services: Services) -> tuple[MessagesRequest, str]:
    """The request, and the Gemini model behind the name it gives."""
    body = await read_body(request, services.config.server.max_body_bytes)
    parsed = parse_body(MessagesRequest, body)
    outcome = outcome_of(request)
    mapped = _model_map(request, services).resolve(parsed.model)
    model = services.generation.resolve(outcome, mapped)
    outcome.model = parsed.model
    return parsed, model


async def messages(request: Request) -> Response:
    services, outcome = services_of(request), outcome_of(request)
    wanted, model = await _parsed(request, services)
    if wanted.max_tokens is None:
        raise InvalidRequest("max_tokens: Field required", param="max_tokens")
    media = await services.media.fetch_all(media_urls(wanted))
    translated = to_gemini(wanted, model, media)
    note_schema_changes(outcome, translated.tools.schema_changes)
    call = Call(model, translated.request)
    options = AnswerOptions(
        model=wanted.model,
        tool_names=translated.tools.names,
        single_call=translated.tools.single_call,
    )
    answer_id = message_id()
    if wanted.stream:

        def frames(signer: Signer) -> MessageFrames:
            return MessageFrames(answer_id, replace(options, bind=signer.bind))

        return stream_response(await services.generation.stream(outcome, call, frames))

    def read(answer: GenerateContentResponse, signer: Signer) -> bytes:
        message = to_message(answer, answer_id, replace(options, bind=signer.bind))
        return message.model_dump_json().encode()

    return JSONBytes(await services.generation.complete(outcome, call, read))


async def count_tokens(request: Request) -> Response:
    services, outcome = services_of(request), outcome_of(request)
    wanted, model = await _parsed(request, services)
    media = await services.media.fetch_all(media_urls(wanted))
    translated = to_gemini(wanted, model, media)
    counted = await services.generation.count_tokens(
        outcome, Call(model, for_counting(translated.request))
    )
    total = from_json(counted).get("totalTokens", 0)
    return JSONBytes(TokenCount(input_tokens=int(total)).model_dump_json().encode())


async def _model_cards(request: Request) -> list[dict[str, str]]:
    """The Claude names the map answers (with the Gemini model behind each), then Gemini's."""
    services = services_of(request)
    cards = [
        _card(name, f"{name} -> {target}")
        for name, target in _model_map(request, services).entries()
    ]
    cards += [_card(name, name) for name in await services.catalog.names()]
    return cards


def _card(model_id: str, display_name: str) -> dict[str, str]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": display_name,
        "created_at": MODEL_CREATED,
    }


async def list_models(request: Request) -> Response:
    cards = await _model_cards(request)
    page = {
        "data": cards,
        "has_more": False,
        "first_id": cards[0]["id"] if cards else None,
        "last_id": cards[-1]["id"] if cards else None,
    }
    return JSONBytes(to_json(page))


async def get_model(request: Request) -> Response:
    services = services_of(request)
    wanted = str(request.path_params["model"])
    target = _model_map(request, services).target(wanted)
    if target is not None:
        return JSONBytes(to_json(_card(wanted, f"{wanted} -> {target}")))
    if wanted in await services.catalog.names():
        return JSONBytes(to_json(_card(wanted, wanted)))
    raise NotFound(f"model: {wanted[:128]}", param="model", code="model_not_found")


class AnthropicRoute(Route):
    """Matches only what the dialect claims: `GET /v1/models` from an OpenAI client falls
    through to OpenAI's route of the same path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not claims(scope):
            return Match.NONE, {}
        return super().matches(scope)


ROUTES = [
    Route(MESSAGES, messages, methods=["POST"]),
    Route(MESSAGES + "/count_tokens", count_tokens, methods=["POST"]),
    AnthropicRoute(MODELS, list_models, methods=["GET"]),
    AnthropicRoute(MODELS + "/{model:path}", get_model, methods=["GET"]),
]
