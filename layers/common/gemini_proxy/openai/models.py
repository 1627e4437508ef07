"""The OpenAI chat completions API as pydantic models: what clients send and what we answer.

Requests ignore fields this module does not know (clients and SDKs send vendor extras);
fields it knows are validated with OpenAI's own ranges, so a bad value is a clear 400.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


# defer_build: a model's validator is built when first used, not at import, so a process that
# never serves this dialect (most Lambda instances serve one) does not pay for it at start.
class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class TextPart(_Request):
    type: Literal["text"]
    text: str


class ImageUrl(_Request):
    url: str
    detail: str | None = None


class ImagePart(_Request):
    type: Literal["image_url"]
    image_url: ImageUrl


class InputAudioPart(_Request):
    type: Literal["input_audio"]
    input_audio: dict[str, Any]


class FilePart(_Request):
    type: Literal["file"]
    file: dict[str, Any]


class RefusalPart(_Request):
    type: Literal["refusal"]
    refusal: str


UserPart = Annotated[TextPart | ImagePart | InputAudioPart | FilePart, Field(discriminator="type")]
AssistantPart = Annotated[TextPart | RefusalPart, Field(discriminator="type")]


class FunctionCallSpec(_Request):
    name: str
    arguments: str


class ToolCall(_Request):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallSpec
    # Google's OpenAI endpoint returns thought signatures here; some clients echo it back.
    extra_content: dict[str, Any] | None = None


class SystemMessage(_Request):
    role: Literal["system"]
    content: str | list[TextPart]
    name: str | None = None


class DeveloperMessage(_Request):
    role: Literal["developer"]
    content: str | list[TextPart]
    name: str | None = None


class UserMessage(_Request):
    role: Literal["user"]
    content: str | list[UserPart]
    name: str | None = None


class AssistantMessage(_Request):
    role: Literal["assistant"]
    content: str | list[AssistantPart] | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None
    function_call: FunctionCallSpec | None = None
    name: str | None = None


class ToolMessage(_Request):
    role: Literal["tool"]
    content: str | list[TextPart]
    tool_call_id: str


class FunctionMessage(_Request):
    role: Literal["function"]
    content: str | None = None
    name: str


Message = Annotated[
    SystemMessage
    | DeveloperMessage
    | UserMessage
    | AssistantMessage
    | ToolMessage
    | FunctionMessage,
    Field(discriminator="role"),
]


class StreamOptions(_Request):
    include_usage: bool | None = None


class ChatCompletionRequest(_Request):
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    # OpenAI allows up to 128 choices; Gemini's candidateCount stops at 8.
    n: int | None = Field(default=None, ge=1, le=8)
    stop: str | list[str] | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: int | None = None
    user: str | None = None
    # Known but not (yet) honoured; translate.py decides whether each is refused or ignored.
    tools: list[Any] | None = None
    tool_choice: Any = None
    functions: list[Any] | None = None
    function_call: Any = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[str, Any] | None = None
    modalities: list[str] | None = None
    audio: Any = None
    prediction: Any = None
    web_search_options: Any = None
    reasoning_effort: str | None = None


# --- answers ------------------------------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


def _omitted_when_none() -> Any:
    # OpenAI omits these fields rather than sending null, and its schema does not allow null.
    return Field(default=None, exclude_if=lambda value: value is None)


class PromptTokensDetails(_Answer):
    cached_tokens: int = 0


class CompletionTokensDetails(_Answer):
    reasoning_tokens: int = 0


class Usage(_Answer):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails | None = _omitted_when_none()
    completion_tokens_details: CompletionTokensDetails | None = _omitted_when_none()


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


class FunctionCallOut(_Answer):
    name: str
    arguments: str


class ToolCallOut(_Answer):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallOut


class UrlCitation(_Answer):
    start_index: int
    end_index: int
    url: str
    title: str


class Annotation(_Answer):
    type: Literal["url_citation"] = "url_citation"
    url_citation: UrlCitation


class ResponseMessage(_Answer):
    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: str | None = None
    tool_calls: list[ToolCallOut] | None = _omitted_when_none()
    annotations: list[Annotation] | None = _omitted_when_none()
    # Not in OpenAI's schema; the de-facto field reasoning clients (DeepSeek-style) read.
    reasoning_content: str | None = _omitted_when_none()


class Choice(_Answer):
    index: int
    message: ResponseMessage
    finish_reason: FinishReason
    logprobs: None = None


class ChatCompletion(_Answer):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class FunctionCallDelta(_Answer):
    name: str | None = _omitted_when_none()
    arguments: str | None = _omitted_when_none()


class ToolCallDelta(_Answer):
    index: int
    id: str | None = _omitted_when_none()
    type: Literal["function"] | None = _omitted_when_none()
    function: FunctionCallDelta | None = _omitted_when_none()


class Delta(_Answer):
    role: Literal["assistant"] | None = _omitted_when_none()
    content: str | None = _omitted_when_none()
    reasoning_content: str | None = _omitted_when_none()
    tool_calls: list[ToolCallDelta] | None = _omitted_when_none()
    annotations: list[Annotation] | None = _omitted_when_none()


class ChunkChoice(_Answer):
    index: int
    delta: Delta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(_Answer):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    # Only the last chunk carries usage, and only when the client asked for it.
    usage: Usage | None = _omitted_when_none()


class ModelCard(_Answer):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(_Answer):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# --- embeddings ---------------------------------------------------------------------------------


class EmbeddingRequest(_Request):
    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    dimensions: int | None = Field(default=None, ge=1)
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None


class Embedding(_Answer):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(_Answer):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(_Answer):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage
