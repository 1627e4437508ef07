"""OpenAI chat request -> Gemini inner request. Pure: no I/O, no clock, no randomness.

Media URLs are the one input that needs I/O: the caller fetches them first (see `media_urls`)
and passes the results in `media`.
"""

import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.errors import InvalidRequest, Unsupported
from gemini_proxy.openai.models import (
    AssistantMessage,
    ChatCompletionRequest,
    DeveloperMessage,
    FilePart,
    FunctionMessage,
    ImagePart,
    InputAudioPart,
    SystemMessage,
    TextPart,
    ToolMessage,
    UserMessage,
    UserPart,
)
from gemini_proxy.openai.reasoning import thinking_config
from gemini_proxy.openai.tools import call_parts, result_payload, tool_setup
from gemini_proxy.upstream.contents import append_turn, data_url_blob, text_parts
from gemini_proxy.upstream.wire import (
    Blob,
    Content,
    FunctionResponse,
    GenerateContentRequest,
    GenerationConfig,
    Part,
)

# Gemini accepts at most five stop sequences.
MAX_STOP_SEQUENCES = 5
_AUDIO_MIME = {"wav": "audio/wav", "mp3": "audio/mp3"}


@dataclass
class Translated:
    request: GenerateContentRequest
    tool_names: dict[str, str] = field(default_factory=dict)  # Gemini name -> client's name
    schema_changes: list[str] = field(default_factory=list)  # what the sanitiser rewrote


def media_urls(request: ChatCompletionRequest) -> list[tuple[str, str]]:
    """(url, param) of every http(s) image the proxy has to fetch before translating."""
    found = []
    for index, message in enumerate(request.messages):
        if isinstance(message, UserMessage) and not isinstance(message.content, str):
            for n, part in enumerate(message.content):
                if isinstance(part, ImagePart) and not part.image_url.url.startswith("data:"):
                    found.append((part.image_url.url, f"messages[{index}].content[{n}].image_url"))
    return found


def to_gemini(
    request: ChatCompletionRequest,
    model: str,
    media: Mapping[str, Blob] | None = None,
    include_thoughts: bool = False,
) -> Translated:
    _refuse_unsupported(request)
    tools = tool_setup(request)
    needs_signature = model.startswith("gemini-3")
    system_parts: list[Part] = []
    contents: list[Content] = []
    call_names: dict[str, str] = {}  # tool_call id -> Gemini function name
    for index, message in enumerate(request.messages):
        if isinstance(message, SystemMessage | DeveloperMessage):
            system_parts.extend(_text_parts(message.content))
        elif isinstance(message, UserMessage):
            append_turn(contents, "user", _user_parts(message, index, media or {}))
        elif isinstance(message, AssistantMessage):
            parts = _assistant_text(message)
            if message.tool_calls:
                calls, names = call_parts(message.tool_calls, index, needs_signature)
                parts.extend(calls)
                call_names.update(names)
            append_turn(contents, "model", parts)
        elif isinstance(message, ToolMessage):
            append_turn(contents, "user", [_tool_result(message, index, call_names)])
        elif isinstance(message, FunctionMessage):
            raise Unsupported(f"messages[{index}]", "legacy 'function' messages are not mapped")
    if not contents:
        raise InvalidRequest(
            "messages must contain at least one user or assistant message with content",
            param="messages",
        )
    gemini_request = GenerateContentRequest(
        contents=contents,
        system_instruction=Content(parts=system_parts) if system_parts else None,
        tools=tools.tools or None,
        tool_config=tools.tool_config,
        generation_config=_generation_config(request, model, include_thoughts),
    )
    return Translated(gemini_request, tools.names, tools.schema_changes)


def _refuse_unsupported(request: ChatCompletionRequest) -> None:
    if request.logprobs or request.top_logprobs is not None:
        raise Unsupported("logprobs", "Gemini's log probabilities are not mapped")
    if request.logit_bias:
        raise Unsupported("logit_bias", "Gemini has no token bias")
    if request.modalities and set(request.modalities) - {"text"}:
        raise Unsupported("modalities", "only text output is available")
    if request.audio is not None:
        raise Unsupported("audio", "only text output is available")
    if request.prediction is not None:
        raise Unsupported("prediction", "Gemini has no predicted outputs")


def _text_parts(content: str | Iterable[str | TextPart]) -> list[Part]:
    items = [content] if isinstance(content, str) else content
    return text_parts(item.text if isinstance(item, TextPart) else item for item in items)


def _user_parts(message: UserMessage, index: int, media: Mapping[str, Blob]) -> list[Part]:
    if isinstance(message.content, str):
        return _text_parts(message.content)
    return [
        part
        for n, item in enumerate(message.content)
        for part in _user_part(item, f"messages[{index}].content[{n}]", media)
    ]


def _assistant_text(message: AssistantMessage) -> list[Part]:
    if message.content is None or isinstance(message.content, str):
        return _text_parts(message.content or message.refusal or "")
    return _text_parts([p.text if isinstance(p, TextPart) else p.refusal for p in message.content])


def _tool_result(message: ToolMessage, index: int, call_names: dict[str, str]) -> Part:
    name = call_names.get(message.tool_call_id)
    if name is None:
        raise InvalidRequest(
            f"tool_call_id '{message.tool_call_id}' matches no earlier assistant tool call",
            param=f"messages[{index}].tool_call_id",
        )
    content = (
        message.content
        if isinstance(message.content, str)
        else "".join(part.text for part in message.content)
    )
    return Part(function_response=FunctionResponse(name=name, response=result_payload(content)))


def _user_part(item: UserPart, param: str, media: Mapping[str, Blob]) -> list[Part]:
    if isinstance(item, TextPart):
        return _text_parts(item.text)
    if isinstance(item, ImagePart):
        url = item.image_url.url
        if not url.startswith("data:"):
            if url not in media:
                raise Unsupported(param + ".image_url", "the image URL was not fetched")
            return [Part(inline_data=media[url])]
        return [Part(inline_data=data_url_blob(url, param + ".image_url.url"))]
    if isinstance(item, InputAudioPart):
        data = item.input_audio.get("data")
        fmt = str(item.input_audio.get("format", ""))
        if not isinstance(data, str) or fmt not in _AUDIO_MIME:
            raise InvalidRequest(
                "input_audio needs base64 'data' and a 'format' of wav or mp3",
                param=param + ".input_audio",
            )
        return [Part(inline_data=Blob(mime_type=_AUDIO_MIME[fmt], data=data))]
    if isinstance(item, FilePart):
        return [Part(inline_data=_file_data(item.file, param + ".file"))]
    raise Unsupported(param, "unknown content part")


def _file_data(file: dict[str, Any], param: str) -> Blob:
    file_data = file.get("file_data")
    if not isinstance(file_data, str):
        raise Unsupported(param, "send the file inline as a data: URL in file_data")
    if file_data.startswith("data:"):
        return data_url_blob(file_data, param + ".file_data")
    # Some clients send bare base64 beside a filename: the name's extension gives the type.
    filename = file.get("filename")
    guessed = mimetypes.guess_type(filename)[0] if isinstance(filename, str) else None
    if not guessed or not file_data:
        raise InvalidRequest(
            "file_data must be a data URL (data:<mime type>;base64,<data>), or base64 with a "
            "filename whose extension gives the type",
            param=param + ".file_data",
        )
    return Blob(mime_type=guessed, data=file_data)


def _generation_config(
    request: ChatCompletionRequest, model: str, include_thoughts: bool
) -> GenerationConfig | None:
    stop = [request.stop] if isinstance(request.stop, str) else request.stop
    if stop and len(stop) > MAX_STOP_SEQUENCES:
        raise InvalidRequest(
            f"'stop' takes at most {MAX_STOP_SEQUENCES} sequences with Gemini", param="stop"
        )
    values: dict[str, Any] = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "candidate_count": request.n,
        "max_output_tokens": request.max_completion_tokens or request.max_tokens,
        "stop_sequences": stop or None,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
        "seed": request.seed,
        "thinking_config": thinking_config(model, request.reasoning_effort, include_thoughts),
        **_response_format(request.response_format),
    }
    set_values = {name: value for name, value in values.items() if value is not None}
    return GenerationConfig(**set_values) if set_values else None


def _response_format(response_format: dict[str, Any] | None) -> dict[str, Any]:
    kind = (response_format or {}).get("type", "text")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"response_mime_type": "application/json"}
    if kind == "json_schema":
        spec = (response_format or {}).get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise InvalidRequest(
                "response_format json_schema needs json_schema.schema",
                param="response_format.json_schema.schema",
            )
        return {"response_mime_type": "application/json", "response_json_schema": schema}
    raise Unsupported("response_format", f"unknown type '{kind}'")
