"""The OpenAI dialect's routes: chat completions, embeddings, transcriptions, models.

Each handler parses, translates with the pure functions beside it, and hands the Gemini request
to the generation service; the edge has already authenticated, limited and will log.
"""

import secrets
import time
from dataclasses import replace

from pydantic_core import to_json
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gemini_proxy.app.body import parse_body, read_body, read_form
from gemini_proxy.app.edge import outcome_of
from gemini_proxy.app.responses import JSONBytes
from gemini_proxy.app.services import Services, services_of
from gemini_proxy.app.streaming import stream_response
from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import InvalidRequest, NotFound
from gemini_proxy.generation.service import Call, note_schema_changes
from gemini_proxy.generation.signatures import Signer
from gemini_proxy.openai import transcription
from gemini_proxy.openai.embeddings import to_batch_embeds, to_embedding_list
from gemini_proxy.openai.models import (
    ChatCompletion,
    ChatCompletionRequest,
    EmbeddingList,
    EmbeddingRequest,
    ModelCard,
    ModelList,
)
from gemini_proxy.openai.stream import ChatFrames
from gemini_proxy.openai.translate_request import media_urls, to_gemini
from gemini_proxy.openai.translate_response import (
    AnswerOptions,
    StreamTranslator,
    to_chat_completion,
)
from gemini_proxy.upstream.router import AI_STUDIO_ONLY
from gemini_proxy.upstream.wire import GenerateContentResponse

# Gemini's list has no creation dates; a fixed stamp keeps the answer stable across restarts.
MODEL_CREATED = 1_735_689_600  # 2025-01-01


async def chat_completions(request: Request) -> Response:
    services, outcome = services_of(request), outcome_of(request)
    body = await read_body(request, services.config.server.max_body_bytes)
    chat = parse_body(ChatCompletionRequest, body)
    model = services.generation.resolve(outcome, chat.model)
    media = await services.media.fetch_all(media_urls(chat))
    translated = to_gemini(chat, model, media, _include_thoughts(services, chat))
    note_schema_changes(outcome, translated.schema_changes)
    call = Call(model, translated.request)
    options = AnswerOptions(
        tool_names=translated.tool_names,
        think_tags=services.config.reasoning.think_tags,
        single_tool_call=chat.parallel_tool_calls is False,
    )
    completion_id, created = f"chatcmpl-{secrets.token_hex(12)}", int(time.time())
    if chat.stream:
        include_usage = bool(chat.stream_options and chat.stream_options.include_usage)

        def frames(signer: Signer) -> ChatFrames:
            bound = replace(options, bind=signer.bind)
            return ChatFrames(
                StreamTranslator(chat.model, completion_id, created, include_usage, bound)
            )

        return stream_response(await services.generation.stream(outcome, call, frames))

    def read(answer: GenerateContentResponse, signer: Signer) -> ChatCompletion:
        bound = replace(options, bind=signer.bind)
        return to_chat_completion(answer, chat.model, completion_id, created, bound)

    completion = await services.generation.complete(outcome, call, read)
    return JSONBytes(completion.model_dump_json().encode())


def _include_thoughts(services: Services, chat: ChatCompletionRequest) -> bool:
    wanted = services.config.reasoning.include_thoughts
    return wanted == "always" or (wanted == "when_asked" and chat.reasoning_effort is not None)


async def embeddings(request: Request) -> Response:
    """Through AI Studio's batchEmbedContents (100 texts a call); Code Assist has none."""
    services, outcome = services_of(request), outcome_of(request)
    body = await read_body(request, services.config.server.max_body_bytes)
    wanted = parse_body(EmbeddingRequest, body)
    model = services.generation.resolve(outcome, wanted.model)
    batches = to_batch_embeds(wanted, model)

    async def embed(credential: Credential) -> EmbeddingList:
        # All batches on one credential: a failure retries the whole request elsewhere.
        answers = [await services.upstream.embed(credential, model, batch) for batch in batches]
        return to_embedding_list(answers, wanted)

    answer = await services.generation.run(outcome, model, embed, AI_STUDIO_ONLY)
    return JSONBytes(answer.model_dump_json().encode())


async def transcriptions(request: Request) -> Response:
    """Multipart audio in, Gemini transcribes, `{text}` (or plain text) out."""
    services, outcome = services_of(request), outcome_of(request)
    form = await read_form(request, services.config.server.max_body_bytes)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("'file' (the audio) is required", param="file")
    requested = str(form.get("model") or transcription.DEFAULT_MODEL)
    if (
        requested in transcription.OPENAI_SPEECH_MODELS
        and requested not in services.catalog.aliases
    ):
        # OpenAI's speech models have no Gemini namesake and clients hard-code them: they mean
        # "transcribe", so they get the default model unless config aliases them.
        requested = transcription.DEFAULT_MODEL
    model = services.generation.resolve(outcome, requested)
    response_format = str(form.get("response_format") or "json")
    gemini_request = transcription.to_transcription_request(
        await upload.read(),
        transcription.audio_mime_type(upload.filename or "", upload.content_type),
        _text_field(form.get("prompt")),
        _text_field(form.get("language")),
        transcription.temperature(form.get("temperature")),
        response_format,
    )
    text = await services.generation.complete(
        outcome,
        Call(model, gemini_request),
        lambda answer, signer: transcription.transcript(answer),
    )
    if response_format == "text":
        return PlainTextResponse(text)
    return JSONBytes(to_json({"text": text}))


def _text_field(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


async def _cards(services: Services) -> list[ModelCard]:
    names = await services.catalog.names()
    return [ModelCard(id=name, created=MODEL_CREATED, owned_by="google") for name in names]


async def list_models(request: Request) -> Response:
    services = services_of(request)
    return JSONBytes(ModelList(data=await _cards(services)).model_dump_json().encode())


async def get_model(request: Request) -> Response:
    services = services_of(request)
    wanted = str(request.path_params["model"]).removeprefix("models/")
    for card in await _cards(services):
        if card.id == wanted:
            return JSONBytes(card.model_dump_json().encode())
    raise NotFound(f"The model '{wanted}' does not exist", param="model", code="model_not_found")


ROUTES = [
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/{model:path}", get_model, methods=["GET"]),
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/embeddings", embeddings, methods=["POST"]),
    Route("/v1/audio/transcriptions", transcriptions, methods=["POST"]),
]
