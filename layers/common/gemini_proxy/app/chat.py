"""POST /v1/chat/completions: parse, translate, call through the orchestrator, answer."""

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gemini_proxy.app.body import parse_body, read_body
from gemini_proxy.app.responses import JSONBytes, error_response
from gemini_proxy.app.services import Services
from gemini_proxy.app.sse import DONE, error_event, event
from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import ProxyError
from gemini_proxy.logs import logger
from gemini_proxy.metrics import metrics
from gemini_proxy.openai.models import ChatCompletion, ChatCompletionChunk, ChatCompletionRequest
from gemini_proxy.openai.translate_request import (
    Translated,
    media_urls,
    refuses_json_schema,
    to_gemini,
)
from gemini_proxy.openai.translate_response import (
    AnswerOptions,
    StreamTranslator,
    to_chat_completion,
)
from gemini_proxy.pool.orchestrator import OpenStream, client_error
from gemini_proxy.upstream.classify import FailureKind, UpstreamError
from gemini_proxy.upstream.wire import Blob, GenerateContentResponse

STREAM_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


async def chat_completions(request: Request) -> Response:
    services: Services = request.app.state.services
    log: dict[str, Any] = {"request_id": f"req_{secrets.token_hex(8)}", "path": request.url.path}
    started = time.perf_counter()
    try:
        services.client_keys.check(request.headers.get("authorization"))
        body = await read_body(request, services.config.server.max_body_bytes)
        chat = parse_body(ChatCompletionRequest, body)
        log.update(model=chat.model, stream=bool(chat.stream))
        model = services.catalog.resolve(chat.model)
        if metrics.emf:  # only the Lambda's CredentialsAvailable metric needs it
            log["available"] = services.orchestrator.pool.available_counts([model])[model]
        translated = await _translate(services, chat, model, log)
        options = AnswerOptions(
            tool_names=translated.tool_names,
            think_tags=services.config.reasoning.think_tags,
            single_tool_call=chat.parallel_tool_calls is False,
        )
        if chat.stream:
            return await _stream(services, chat, model, translated, options, log, started)
        return await _complete(services, chat, model, translated, options, log, started)
    except ProxyError as exc:
        log_request(log, exc.status, started, error=exc.code)
        return error_response(exc, {"x-request-id": log["request_id"]})


async def _translate(
    services: Services, chat: ChatCompletionRequest, model: str, log: dict[str, Any]
) -> Translated:
    media: dict[str, Blob] = {}
    for url, param in media_urls(chat):
        if url not in media:
            media[url] = await services.media.fetch(url, param)
    wanted = services.config.reasoning.include_thoughts
    include_thoughts = wanted == "always" or (
        wanted == "when_asked" and chat.reasoning_effort is not None
    )
    translated = to_gemini(chat, model, media, include_thoughts)
    if translated.schema_changes:
        # Worth knowing: a tool schema Gemini would have refused was rewritten.
        logger.info(
            "tool schemas adjusted for Gemini",
            extra={"request_id": log["request_id"], "changes": translated.schema_changes},
        )
    return translated


def _ids() -> tuple[str, int]:
    return f"chatcmpl-{secrets.token_hex(12)}", int(time.time())


async def _complete(
    services: Services,
    chat: ChatCompletionRequest,
    model: str,
    translated: Translated,
    options: AnswerOptions,
    log: dict[str, Any],
    started: float,
) -> Response:
    completion_id, created = _ids()

    async def complete(credential: Credential) -> ChatCompletion:
        try:
            answer = await services.upstream.generate(credential, model, translated.request)
        except UpstreamError as exc:
            if not _use_fallback(translated, exc) or translated.fallback is None:
                raise
            answer = await services.upstream.generate(credential, model, translated.fallback)
        return to_chat_completion(answer, chat.model, completion_id, created, options)

    served = await services.orchestrator.run(model, complete)
    log.update(
        credential=served.credential.fingerprint,
        attempts=served.attempts,
        upstream_ms=round(served.upstream_ms, 2),
    )
    log_request(log, 200, started)
    return JSONBytes(served.value.model_dump_json().encode(), headers=_served_headers(log))


async def _stream(
    services: Services,
    chat: ChatCompletionRequest,
    model: str,
    translated: Translated,
    options: AnswerOptions,
    log: dict[str, Any],
    started: float,
) -> Response:
    completion_id, created = _ids()
    include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
    opened = await services.orchestrator.stream(
        model,
        lambda credential: _open_stream(services, credential, model, translated),
        lambda: StreamTranslator(chat.model, completion_id, created, include_usage, options),
    )
    log.update(
        credential=opened.credential.fingerprint,
        attempts=opened.attempts,
        upstream_ms=round(opened.upstream_ms, 2),
    )
    return StreamingResponse(
        _sse(opened, log, started),
        media_type="text/event-stream",
        headers={**STREAM_HEADERS, **_served_headers(log)},
    )


def _use_fallback(translated: Translated, error: UpstreamError) -> bool:
    failure = error.failure
    return (
        translated.fallback is not None
        and failure.kind is FailureKind.CLIENT_ERROR
        and refuses_json_schema(failure.message)
    )


@asynccontextmanager
async def _open_stream(
    services: Services, credential: Credential, model: str, translated: Translated
) -> AsyncIterator[AsyncIterator[GenerateContentResponse]]:
    """The upstream stream; once more with the sanitised schema if the model wants that."""
    entered = False
    try:
        async with services.upstream.stream(credential, model, translated.request) as events:
            entered = True
            yield events
            return
    except UpstreamError as exc:
        # Only a refusal of the request itself, before any event, may be retried this way.
        if entered or not _use_fallback(translated, exc) or translated.fallback is None:
            raise
    async with services.upstream.stream(credential, model, translated.fallback) as events:
        yield events


async def _sse(
    opened: OpenStream[GenerateContentResponse, ChatCompletionChunk], log: dict[str, Any], started: float
) -> AsyncIterator[bytes]:
    outcome: str | None = "client_disconnected"
    try:
        for chunk in opened.first:
            yield event(chunk)
        try:
            async for chunk in opened.rest():
                yield event(chunk)
            outcome = None
        except UpstreamError as exc:
            # Text already went out: no failover now, or the client would see it twice.
            outcome = exc.failure.kind.value
            yield error_event(client_error([exc.failure]))
        except ProxyError as exc:
            outcome = exc.code
            yield error_event(exc)
        yield DONE
    finally:
        # Shielded: when the client hung up, this task is cancelled, and the upstream
        # connection must still be closed so Google stops generating.
        with anyio.CancelScope(shield=True):
            await opened.aclose()
        log_request(log, 200, started, error=outcome)


def _served_headers(log: dict[str, Any]) -> dict[str, str]:
    return {
        "x-request-id": log["request_id"],
        "x-gemini-proxy-credential": log["credential"],
        "x-gemini-proxy-attempts": str(log["attempts"]),
    }


def log_request(log: dict[str, Any], status: int, started: float, error: str | None = None) -> None:
    log["status"] = status
    log["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
    if error:
        log["error"] = error
    logger.info("request", extra=log)
    metrics.request(log)
