"""OpenAI audio transcription -> a Gemini request with the audio inline, and back. Pure."""

import base64
import mimetypes

from gemini_proxy.errors import InvalidRequest, Unsupported
from gemini_proxy.upstream.classify import UpstreamError, bad_answer
from gemini_proxy.upstream.wire import (
    Blob,
    Content,
    GenerateContentRequest,
    GenerateContentResponse,
    GenerationConfig,
    Part,
)

DEFAULT_MODEL = "gemini-2.5-flash"
OPENAI_SPEECH_MODELS = frozenset(
    {"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize"}
)
INSTRUCTION = (
    "Transcribe the speech in this audio exactly as spoken. Answer with the transcript only, "
    "no commentary, no timestamps."
)
FORMATS = ("json", "text")
_AUDIO_TYPES = {
    ".mp3": "audio/mp3",
    ".mpga": "audio/mpeg",
    ".mpeg": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".wav": "audio/wav",
    ".webm": "audio/webm",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".aac": "audio/aac",
}


def audio_mime_type(filename: str, declared: str | None) -> str:
    if declared and declared.startswith(("audio/", "video/")):
        return declared
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    guessed = _AUDIO_TYPES.get(suffix) or mimetypes.guess_type(filename)[0]
    if not guessed or not guessed.startswith(("audio/", "video/")):
        raise InvalidRequest(
            "'file' must be audio (mp3, mp4, mpeg, mpga, m4a, wav, webm, ogg, flac)",
            param="file",
        )
    return guessed


def temperature(value: object) -> float | None:
    """The form's temperature field (text), checked."""
    if not isinstance(value, str) or not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise InvalidRequest("'temperature' must be a number", param="temperature") from None
    if not 0 <= number <= 1:
        raise InvalidRequest("'temperature' must be between 0 and 1", param="temperature")
    return number


def to_transcription_request(
    audio: bytes,
    mime_type: str,
    prompt: str | None,
    language: str | None,
    temperature: float | None,
    response_format: str,
) -> GenerateContentRequest:
    if response_format not in FORMATS:
        raise Unsupported("response_format", "only 'json' and 'text' transcripts are available")
    if not audio:
        raise InvalidRequest("'file' is empty", param="file")
    instruction = INSTRUCTION
    if language:
        instruction += f" The audio is in the language with ISO-639-1 code '{language}'."
    if prompt:
        instruction += f" Context and spelling hints: {prompt}"
    data = base64.b64encode(audio).decode()
    return GenerateContentRequest(
        contents=[
            Content(
                role="user",
                parts=[
                    Part(inline_data=Blob(mime_type=mime_type, data=data)),
                    Part(text=instruction),
                ],
            )
        ],
        generation_config=GenerationConfig(temperature=temperature)
        if temperature is not None
        else None,
    )


def transcript(answer: GenerateContentResponse) -> str:
    for candidate in answer.candidates:
        parts = candidate.content.parts if candidate.content else []
        text = "".join(part.text for part in parts if part.text and not part.thought).strip()
        if text:
            return text
    raise UpstreamError(bad_answer("Gemini returned no transcript"))
