"""The Responses dialect's routes: create (streamed or not), retrieve, delete, input items,
input token counts.

Handlers parse, translate with the pure functions beside them and hand the Gemini request to
the generation service; the edge has already authenticated, limited and will log. Errors have
OpenAI's shape, as the chat dialect's.
"""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from pydantic_core import from_json, to_json
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gemini_proxy.app.body import parse_body, read_body
from gemini_proxy.app.edge import outcome_of
from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.app.services import Services, services_of
from gemini_proxy.app.streaming import stream_response
from gemini_proxy.errors import InvalidRequest, NotFound, ProxyError, Unsupported
from gemini_proxy.generation.outcome import Outcome
from gemini_proxy.generation.service import Call, note_schema_changes
from gemini_proxy.generation.signatures import Signer
from gemini_proxy.logs import logger
from gemini_proxy.responses.dialect import PATH
from gemini_proxy.responses.items import parse_items, resources
from gemini_proxy.responses.models import (
    Deleted,
    InputItem,
    InputTokens,
    ItemList,
    ResponseObject,
    ResponsesRequest,
)
from gemini_proxy.responses.store import ResponseStore, Stored, TooLarge
from gemini_proxy.responses.stream import ResponseFrames, ResponseStream
from gemini_proxy.responses.translate_request import (
    ENCRYPTED_REASONING,
    Translated,
    media_urls,
    refuse_unsupported,
    request_items,
    to_gemini,
    without_search,
)
from gemini_proxy.responses.translate_response import (
    AnswerOptions,
    Shell,
    new_id,
    to_response,
)
from gemini_proxy.upstream.wire import GenerateContentRequest, GenerateContentResponse

T = TypeVar("T")
# Models seen refusing Google Search beside function declarations (Gemini 2.x: "Tool use with
# function calling is unsupported"): later requests to them drop search up front.
_REFUSE_SEARCH_WITH_FUNCTIONS: set[str] = set()


def _store(services: Services) -> ResponseStore:
    return ResponseStore(services.store, services.config.responses.store_ttl_seconds)


async def create_response(request: Request) -> Response:
    services, outcome = services_of(request), outcome_of(request)
    body = await read_body(request, services.config.server.max_body_bytes)
    wanted = parse_body(ResponsesRequest, body)
    refuse_unsupported(wanted)
    previous = await _previous(services, outcome, wanted)
    items, offset = _conversation(previous, wanted)
    model_name = _model_name(wanted, previous)
    model = services.generation.resolve(outcome, model_name)
    media = await services.media.fetch_all(media_urls(items, offset))
    translated = to_gemini(wanted, items, model, media, _include_thoughts(services, wanted), offset)
    note_schema_changes(outcome, translated.tools.schema_changes)
    store = wanted.store is not False
    shell = Shell(new_id("resp"), int(time.time()), model_name, _echoed(wanted, translated, store))
    options = AnswerOptions(
        refs=translated.tools.refs,
        encrypted=ENCRYPTED_REASONING in (wanted.include or []),
        single_call=wanted.parallel_tool_calls is False,
    )

    async def save(response: ResponseObject) -> None:
        if store:
            await _save(services, outcome, response, items)

    if wanted.stream:
        made: list[ResponseFrames] = []

        def frames(signer: Signer) -> ResponseFrames:
            bound = AnswerOptions(options.refs, options.encrypted, options.single_call, signer.bind)
            made.append(ResponseFrames(ResponseStream(shell, bound)))
            return made[-1]

        stream = await _searching(
            outcome,
            model,
            translated,
            lambda call: services.generation.stream(outcome, call, frames),
        )
        sent = stream_response(stream)
        if store:
            sent.body_iterator = _saving_before_the_end(sent, made[-1], save)
        return sent

    def read(answer: GenerateContentResponse, signer: Signer) -> ResponseObject:
        bound = AnswerOptions(options.refs, options.encrypted, options.single_call, signer.bind)
        return to_response(answer, shell, bound, int(time.time()))

    response = await _searching(
        outcome, model, translated, lambda call: services.generation.complete(outcome, call, read)
    )
    await save(response)
    return JSONBytes(response.model_dump_json().encode())


def _saving_before_the_end(
    sent: StreamingResponse,
    frames: ResponseFrames,
    save: Callable[[ResponseObject], Awaitable[None]],
) -> AsyncIterator[Any]:
    """The stream, with the response stored just before its closing event goes out: a client
    that continues at once from `response.completed` finds it on any instance."""
    inner = sent.body_iterator

    async def body() -> AsyncIterator[Any]:
        async for chunk in inner:
            final = frames.translator.final
            if chunk is frames.closing and final is not None:
                await save(final)
            yield chunk

    return body()


async def _searching(
    outcome: Outcome,
    model: str,
    translated: Translated,
    run: Callable[[Call], Awaitable[T]],
) -> T:
    """Run the request; if the model refuses search beside functions, run it without search."""
    gemini_request = translated.request
    both = _searches_with_functions(gemini_request)
    if both and model in _REFUSE_SEARCH_WITH_FUNCTIONS:
        return await run(Call(model, without_search(gemini_request)))
    try:
        return await run(Call(model, gemini_request))
    except InvalidRequest as exc:
        if not both or not _refuses_search(exc):
            raise
    _REFUSE_SEARCH_WITH_FUNCTIONS.add(model)
    logger.info(
        "web search dropped: the model refuses it beside function tools",
        extra={"request_id": outcome.request_id, "model": model},
    )
    return await run(Call(model, without_search(gemini_request)))


def _searches_with_functions(request: GenerateContentRequest) -> bool:
    tools = request.tools or []
    return any("googleSearch" in t for t in tools) and any(
        "functionDeclarations" in t for t in tools
    )


def _refuses_search(error: ProxyError) -> bool:
    message = error.message.lower()
    return "function" in message and ("search" in message or "tool use" in message)


async def _save(
    services: Services, outcome: Outcome, response: ResponseObject, items: list[InputItem]
) -> None:
    stored = Stored(response.model_dump(mode="json"), resources(items), _owner(outcome))
    try:
        await _store(services).save(response.id, stored)
    except TooLarge as exc:
        logger.warning(
            "response too large to store",
            extra={"request_id": outcome.request_id, "size": str(exc)},
        )
    except Exception:
        # The client has its answer; only a later previous_response_id will miss it.
        logger.exception("storing a response failed", extra={"request_id": outcome.request_id})


def _owner(outcome: Outcome) -> str | None:
    """The client key behind the request; without client keys, anyone (an address is no
    identity worth tying a conversation to)."""
    client = outcome.client
    return client if client is not None and client.startswith("key:") else None


async def _previous(
    services: Services, outcome: Outcome, wanted: ResponsesRequest
) -> Stored | None:
    wanted_id = wanted.previous_response_id
    if wanted_id is None:
        return None
    found = await _store(services).load(wanted_id, _owner(outcome))
    if found is None:
        raise NotFound(
            f"Previous response with id '{wanted_id}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    return found


def _conversation(previous: Stored | None, wanted: ResponsesRequest) -> tuple[list[InputItem], int]:
    """The items to translate, and where this request's own `input` starts among them."""
    items: list[InputItem] = []
    if previous is not None:
        items = parse_items([*previous.context, *previous.response.get("output", [])])
    return [*items, *request_items(wanted)], len(items)


def _model_name(wanted: ResponsesRequest, previous: Stored | None) -> str:
    name = wanted.model or (previous.response.get("model") if previous else None)
    if not isinstance(name, str) or not name:
        raise InvalidRequest("'model' is required", param="model")
    return name


def _include_thoughts(services: Services, wanted: ResponsesRequest) -> bool:
    mode = services.config.reasoning.include_thoughts
    asked = wanted.reasoning is not None and wanted.reasoning.wants_summary()
    return mode == "always" or (mode == "when_asked" and asked)


def _echoed(wanted: ResponsesRequest, translated: Translated, store: bool) -> dict[str, Any]:
    """The request's settings, as every response object repeats them."""
    reasoning = wanted.reasoning
    text_format = wanted.text.format if wanted.text and wanted.text.format else None
    return {
        "instructions": wanted.instructions,
        "max_output_tokens": wanted.max_output_tokens,
        "parallel_tool_calls": wanted.parallel_tool_calls is not False,
        "previous_response_id": wanted.previous_response_id,
        "reasoning": (
            {"effort": reasoning.effort, "summary": reasoning.summary or reasoning.generate_summary}
            if reasoning is not None
            else None
        ),
        "store": store,
        "temperature": wanted.temperature,
        "text": {"format": text_format or {"type": "text"}},
        "tool_choice": wanted.tool_choice if wanted.tool_choice is not None else "auto",
        "tools": translated.tools.echo,
        "top_p": wanted.top_p,
        "truncation": wanted.truncation or "disabled",
        "metadata": wanted.metadata or {},
    }


# --- stored responses -----------------------------------------------------------------------


def _not_found(response_id: str) -> NotFound:
    return NotFound(f"Response with id '{response_id}' not found.", param="response_id")


async def _stored(request: Request) -> tuple[str, Stored]:
    response_id = str(request.path_params["response_id"])
    found = await _store(services_of(request)).load(response_id, _owner(outcome_of(request)))
    if found is None:
        raise _not_found(response_id)
    return response_id, found


async def get_response(request: Request) -> Response:
    if request.query_params.get("stream", "").lower() == "true":
        raise Unsupported("stream", "only background responses can be streamed again")
    _, found = await _stored(request)
    return JSONBytes(to_json(found.response))


async def delete_response(request: Request) -> Response:
    response_id = str(request.path_params["response_id"])
    owner = _owner(outcome_of(request))
    if not await _store(services_of(request)).delete(response_id, owner):
        raise _not_found(response_id)
    return JSONBytes(Deleted(id=response_id).model_dump_json().encode())


async def cancel_response(request: Request) -> Response:
    await _stored(request)
    raise InvalidRequest(
        "Only background responses can be cancelled, and this proxy runs none",
        param="response_id",
    )


async def list_input_items(request: Request) -> Response:
    _, found = await _stored(request)
    query = request.query_params
    limit = _limit(query.get("limit"))
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequest("'order' must be 'asc' or 'desc'", param="order")
    items = found.context if order == "asc" else found.context[::-1]
    after = query.get("after")
    if after:
        ids = [item.get("id") for item in items]
        if after not in ids:
            raise InvalidRequest(f"No input item with id '{after}'", param="after")
        items = items[ids.index(after) + 1 :]
    page = items[:limit]
    listed = ItemList(
        data=page,
        first_id=page[0].get("id") if page else None,
        last_id=page[-1].get("id") if page else None,
        has_more=len(items) > limit,
    )
    return JSONBytes(listed.model_dump_json().encode())


def _limit(value: str | None) -> int:
    if value is None:
        return 20
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise InvalidRequest("'limit' must be a whole number from 1 to 100", param="limit")
    return int(value)


async def input_tokens(request: Request) -> Response:
    """Gemini's countTokens for what `POST /v1/responses` would send."""
    services, outcome = services_of(request), outcome_of(request)
    body = await read_body(request, services.config.server.max_body_bytes)
    wanted = parse_body(ResponsesRequest, body)
    previous = await _previous(services, outcome, wanted)
    items, offset = _conversation(previous, wanted)
    model_name = _model_name(wanted, previous)
    model = services.generation.resolve(outcome, model_name)
    media = await services.media.fetch_all(media_urls(items, offset))
    translated = to_gemini(wanted, items, model, media, False, offset)
    counted = from_json(
        await services.generation.count_tokens(outcome, Call(model, translated.request))
    )
    total = counted.get("totalTokens", 0) if isinstance(counted, dict) else 0
    return JSONBytes(InputTokens(input_tokens=int(total)).model_dump_json().encode())


ROUTES = [
    Route(PATH, create_response, methods=["POST"]),
    Route(PATH + "/input_tokens", input_tokens, methods=["POST"]),
    Route(PATH + "/{response_id}", get_response, methods=["GET"]),
    Route(PATH + "/{response_id}", delete_response, methods=["DELETE"]),
    Route(PATH + "/{response_id}/cancel", cancel_response, methods=["POST"]),
    Route(PATH + "/{response_id}/input_items", list_input_items, methods=["GET"]),
]
