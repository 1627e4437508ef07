"""The OpenAI Responses API as pydantic models: what clients send and what we answer.

Requests ignore fields this module does not know (clients send vendor extras); fields it knows
are validated with OpenAI's own ranges, so a bad value is a clear 400. Some fields are accepted
and ignored because they change nothing here (`prompt_cache_key`, `client_metadata`,
`service_tier`, `user`, `safety_identifier`, `truncation`); docs/API_REFERENCE.md lists them.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

# --- requests -----------------------------------------------------------------------------------


class _Request(BaseModel):
    # Built at first use, not at import (see openai.models).
    model_config = ConfigDict(extra="ignore", defer_build=True)


class InputText(_Request):
    type: Literal["input_text"]
    text: str


class OutputText(_Request):
    """An earlier answer's text, sent back as history."""

    type: Literal["output_text"]
    text: str


class RefusalText(_Request):
    type: Literal["refusal"]
    refusal: str


class InputImage(_Request):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None


class InputFile(_Request):
    type: Literal["input_file"]
    file_data: str | None = None
    file_url: str | None = None
    file_id: str | None = None
    filename: str | None = None


ContentPart = Annotated[
    InputText | OutputText | RefusalText | InputImage | InputFile, Field(discriminator="type")
]


class MessageItem(_Request):
    type: Literal["message"] = "message"
    id: str | None = None
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[ContentPart]


class FunctionCallItem(_Request):
    type: Literal["function_call"]
    id: str | None = None
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str = ""
    namespace: str | None = None


class FunctionCallOutputItem(_Request):
    type: Literal["function_call_output"]
    id: str | None = None
    call_id: str = Field(min_length=1)
    output: str | list[ContentPart]


class CustomToolCallItem(_Request):
    type: Literal["custom_tool_call"]
    id: str | None = None
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    input: str = ""
    namespace: str | None = None


class CustomToolCallOutputItem(_Request):
    type: Literal["custom_tool_call_output"]
    id: str | None = None
    call_id: str = Field(min_length=1)
    output: str | list[ContentPart]


class ReasoningInputItem(_Request):
    """An earlier reasoning item: its summary is not replayed; its encrypted_content carries
    Gemini's thought signatures back (see carrier.py)."""

    type: Literal["reasoning"]
    id: str | None = None
    summary: list[dict[str, Any]] = Field(default_factory=list)
    encrypted_content: str | None = None


class OtherItem(_Request):
    """Any other item type: the translation refuses it by name, or skips it when harmless."""

    type: str
    id: str | None = None


_ITEM_TYPES = {
    "message",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "reasoning",
}


def _item_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None:
        # An "easy" input message has a role and no type.
        return "message" if isinstance(value, dict) and "role" in value else None
    return kind if kind in _ITEM_TYPES else "other"


InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[CustomToolCallItem, Tag("custom_tool_call")]
    | Annotated[CustomToolCallOutputItem, Tag("custom_tool_call_output")]
    | Annotated[ReasoningInputItem, Tag("reasoning")]
    | Annotated[OtherItem, Tag("other")],
    Discriminator(_item_tag),
]


class TextParam(_Request):
    format: dict[str, Any] | None = None
    verbosity: str | None = None  # accepted, ignored: Gemini has no such control


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
SummaryMode = Literal["auto", "concise", "detailed"]


class ReasoningParam(_Request):
    effort: ReasoningEffort | None = None
    summary: SummaryMode | None = None
    generate_summary: SummaryMode | None = None  # the deprecated name of `summary`

    def wants_summary(self) -> bool:
        return (self.summary or self.generate_summary) is not None


class ResponsesRequest(_Request):
    """`POST /v1/responses` (and, with fewer fields used, `/v1/responses/input_tokens`)."""

    model: str | None = Field(default=None, min_length=1)
    input: str | list[InputItem] | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    stream: bool | None = False
    store: bool | None = None  # None: true, as OpenAI
    background: bool | None = None
    conversation: Any = None
    prompt: Any = None
    tools: list[Any] | None = None
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    max_tool_calls: int | None = Field(default=None, ge=1)  # built-in tools only: ignored
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    text: TextParam | None = None
    reasoning: ReasoningParam | None = None
    include: list[str] | None = None
    metadata: dict[str, str] | None = None
    truncation: Literal["auto", "disabled"] | None = None
    # Accepted and ignored: they tune OpenAI's caching, billing and abuse tracking.
    prompt_cache_key: str | None = None
    client_metadata: Any = None
    service_tier: str | None = None
    user: str | None = None
    safety_identifier: str | None = None


# --- answers ------------------------------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


def _omitted_when_none() -> Any:
    # OpenAI omits these rather than sending null.
    return Field(default=None, exclude_if=lambda value: value is None)


class UrlCitation(_Answer):
    type: Literal["url_citation"] = "url_citation"
    url: str
    title: str
    start_index: int
    end_index: int


class OutputTextPart(_Answer):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[UrlCitation] = Field(default_factory=list)
    logprobs: list[Any] = Field(default_factory=list)


ItemStatus = Literal["in_progress", "completed", "incomplete"]


class MessageOut(_Answer):
    type: Literal["message"] = "message"
    id: str
    status: ItemStatus = "completed"
    role: Literal["assistant"] = "assistant"
    content: list[OutputTextPart]


class FunctionCallOut(_Answer):
    type: Literal["function_call"] = "function_call"
    id: str
    call_id: str
    name: str
    arguments: str
    status: ItemStatus = "completed"
    namespace: str | None = _omitted_when_none()


class CustomToolCallOut(_Answer):
    type: Literal["custom_tool_call"] = "custom_tool_call"
    id: str
    call_id: str
    name: str
    input: str
    namespace: str | None = _omitted_when_none()


class SummaryText(_Answer):
    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningOut(_Answer):
    type: Literal["reasoning"] = "reasoning"
    id: str
    summary: list[SummaryText]
    encrypted_content: str | None = _omitted_when_none()
    status: ItemStatus = "completed"


OutputItem = MessageOut | FunctionCallOut | CustomToolCallOut | ReasoningOut


class InputTokensDetails(_Answer):
    cached_tokens: int = 0
    cache_write_tokens: int = 0


class OutputTokensDetails(_Answer):
    reasoning_tokens: int = 0


class Usage(_Answer):
    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int


ErrorCode = Literal["server_error", "rate_limit_exceeded", "invalid_prompt"]


class ResponseError(_Answer):
    code: ErrorCode
    message: str


class IncompleteDetails(_Answer):
    reason: Literal["max_output_tokens", "content_filter"]


ResponseStatus = Literal["completed", "failed", "in_progress", "incomplete"]


class ResponseObject(_Answer):
    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: ResponseStatus
    completed_at: int | None = _omitted_when_none()
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    model: str
    output: list[OutputItem] = Field(default_factory=list)
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    reasoning: dict[str, Any] | None = None
    store: bool = True
    temperature: float | None = None
    text: dict[str, Any] = Field(default_factory=lambda: {"format": {"type": "text"}})
    tool_choice: Any = "auto"
    tools: list[dict[str, Any]] = Field(default_factory=list)
    top_p: float | None = None
    truncation: Literal["auto", "disabled"] = "disabled"
    background: bool = False
    usage: Usage | None = _omitted_when_none()
    metadata: dict[str, str] = Field(default_factory=dict)


class InputTokens(_Answer):
    object: Literal["response.input_tokens"] = "response.input_tokens"
    input_tokens: int


class ItemList(_Answer):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
    first_id: str | None
    last_id: str | None
    has_more: bool


class Deleted(_Answer):
    id: str
    object: Literal["response"] = "response"
    deleted: Literal[True] = True
