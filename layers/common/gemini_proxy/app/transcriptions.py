"""POST /v1/audio/transcriptions: multipart audio in, Gemini transcribes, `{text}` out."""

import secrets
import time
from typing import Any

from pydantic_core import to_json
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from gemini_proxy.app.chat import log_request
from gemini_proxy.app.responses import JSONBytes, error_response
from gemini_proxy.app.services import Services
from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import InvalidRequest, ProxyError
from gemini_proxy.openai.transcription import audio_mime_type, to_transcription_request, transcript

DEFAULT_MODEL = "gemini-2.5-flash"
# OpenAI's speech models have no Gemini namesake, and clients hard-code them (the SDKs require a
# model): they mean "transcribe", so they get the default model unless config aliases them.
OPENAI_SPEECH_MODELS = frozenset(
    {"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize"}
)


async def transcriptions(request: Request) -> Response:
    services: Services = request.app.state.services
    log: dict[str, Any] = {"request_id": f"req_{secrets.token_hex(8)}", "path": request.url.path}
    started = time.perf_counter()
    try:
        services.client_keys.check(request.headers.get("authorization"))
        text, response_format, served_by = await _transcribe(services, request, log)
    except ProxyError as exc:
        log_request(log, exc.status, started, error=exc.code)
        return error_response(exc, {"x-request-id": log["request_id"]})
    log_request(log, 200, started)
    headers = {"x-request-id": log["request_id"], "x-gemini-proxy-credential": served_by}
    if response_format == "text":
        return PlainTextResponse(text, headers=headers)
    return JSONBytes(to_json({"text": text}), headers=headers)


async def _transcribe(
    services: Services, request: Request, log: dict[str, Any]
) -> tuple[str, str, str]:
    limit = services.config.server.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ProxyError(
            f"Request body is larger than the proxy's limit of {limit} bytes",
            status=413,
            type="invalid_request_error",
            code="request_too_large",
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ProxyError(
            "Content-Type must be multipart/form-data",
            status=415,
            type="invalid_request_error",
            code="unsupported_media_type",
        )
    try:
        form = await request.form(max_files=1, max_fields=20, max_part_size=limit)
    except Exception as exc:  # python-multipart's errors have no common base worth naming
        raise InvalidRequest(f"The multipart form could not be read: {exc}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("'file' (the audio) is required", param="file")
    requested = str(form.get("model") or DEFAULT_MODEL)
    if requested in OPENAI_SPEECH_MODELS and requested not in services.catalog.aliases:
        model = DEFAULT_MODEL
    else:
        model = services.catalog.resolve(requested)
    log["model"] = requested
    response_format = str(form.get("response_format") or "json")
    temperature = _float(form.get("temperature"))
    upstream_request = to_transcription_request(
        await upload.read(),
        audio_mime_type(upload.filename or "", upload.content_type),
        _str(form.get("prompt")),
        _str(form.get("language")),
        temperature,
        response_format,
    )

    async def run(credential: Credential) -> str:
        answer = await services.upstream.generate(credential, model, upstream_request)
        return transcript(answer)

    served = await services.orchestrator.run(model, run)
    log.update(credential=served.credential.fingerprint, attempts=served.attempts)
    return served.value, response_format, served.credential.fingerprint


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _float(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise InvalidRequest("'temperature' must be a number", param="temperature") from None
    if not 0 <= number <= 1:
        raise InvalidRequest("'temperature' must be between 0 and 1", param="temperature")
    return number
