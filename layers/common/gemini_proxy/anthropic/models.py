"""The Anthropic Messages API as pydantic models: what clients send and what we answer.

Requests ignore fields this module does not know: Claude Code sends beta fields on the request
and on messages (`context_management`, per-message `output_config`...) that change nothing a
Gemini answer can honour. Fields it knows are validated with Anthropic's own ranges, and an
unknown content block type is a clear 400 naming the types this proxy reads.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    # `cache_control` (prompt caching) rides on most of these: accepted and ignored, as Gemini
    # caches implicitly.
    # Built at first use, not at import (see openai.models).
    model_config = ConfigDict(extra="ignore", defer_build=True)


class _Answer(BaseModel):
    model_config = ConfigDict(defer_build=True)


# --- content blocks a client sends --------------------------------------------------------------


class TextBlock(_Request):
    type: Literal["text"]
    text: str


class Base64Source(_Request):
    type: Literal["base64"]
    media_type: str
    data: str


class UrlSource(_Request):
    type: Literal["url"]
    url: str


class FileSource(_Request):
    type: Literal["file"]
    file_id: str


class PlainTextSource(_Request):
    type: Literal["text"]
    media_type: str = "text/plain"
    data: str


class ContentSource(_Request):
    type: Literal["content"]
    content: str | list[TextBlock]


ImageSource = Annotated[Base64Source | UrlSource | FileSource, Field(discriminator="type")]
DocumentSource = Annotated[
    Base64Source | UrlSource | FileSource | PlainTextSource | ContentSource,
    Field(discriminator="type"),
]


class ImageBlock(_Request):
    type: Literal["image"]
    source: ImageSource


class DocumentBlock(_Request):
    type: Literal["document"]
    source: DocumentSource
    title: str | None = None
    context: str | None = None


class SearchResultBlock(_Request):
    type: Literal["search_result"]
    source: str
    title: str
    content: list[TextBlock]


class ToolReferenceBlock(_Request):
    """What Claude Code's tool search returns: a deferred tool is now loaded."""

    type: Literal["tool_reference"]
    tool_name: str


ToolResultItem = Annotated[
    TextBlock | ImageBlock | DocumentBlock | SearchResultBlock | ToolReferenceBlock,
    Field(discriminator="type"),
]


class ToolUseBlock(_Request):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]


class ToolResultBlock(_Request):
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[ToolResultItem] | None = None
    is_error: bool | None = None


class ThinkingBlock(_Request):
    type: Literal["thinking"]
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(_Request):
    type: Literal["redacted_thinking"]
    data: str


class ServerToolUseBlock(_Request):
    """A server tool's call in an earlier answer (web search): history Gemini cannot replay."""

    type: Literal["server_tool_use"]
    id: str
    name: str
    input: dict[str, Any] = {}


class WebSearchResultBlock(_Request):
    type: Literal["web_search_tool_result"]
    tool_use_id: str
    content: Any = None


ContentBlock = Annotated[
    TextBlock
    | ImageBlock
    | DocumentBlock
    | SearchResultBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ServerToolUseBlock
    | WebSearchResultBlock,
    Field(discriminator="type"),
]


class Message(_Request):
    # `system`: Claude Code's mid-conversation system turns (its per-turn-control beta).
    role: Literal["user", "assistant", "system"]
    content: str | list[ContentBlock]


# --- tools, thinking, the request ---------------------------------------------------------------


class Tool(_Request):
    """A client tool (`type` absent or `custom`, with `input_schema`) or a server tool
    (`type` like `web_search_20250305`). `defer_loading` and the like are ignored: every
    declared tool is offered to Gemini."""

    type: str | None = None
    name: str
    description: str | None = None
    input_schema: dict[str, Any] | None = None


class ToolChoice(_Request):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class Thinking(_Request):
    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = Field(default=None, ge=0)
    display: str | None = None  # "omitted": thinking blocks without their text


class OutputConfig(_Request):
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = None
    format: dict[str, Any] | None = None  # {"type": "json_schema", "schema": {...}}


class MessagesRequest(_Request):
    """`POST /v1/messages` and `/v1/messages/count_tokens` (which needs no `max_tokens`; the
    route checks it for messages)."""

    model: str
    messages: list[Message]
    system: str | list[TextBlock] | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    stop_sequences: list[str] | None = None
    stream: bool = False
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    metadata: dict[str, Any] | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: Thinking | None = None
    output_config: OutputConfig | None = None
    mcp_servers: list[Any] | None = None


# --- what we answer ------------------------------------------------------------------------------


class TextOut(_Answer):
    type: Literal["text"] = "text"
    text: str
    citations: list[dict[str, Any]] | None = None


class ThinkingOut(_Answer):
    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str


class ToolUseOut(_Answer):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]


class ServerToolUseOut(_Answer):
    type: Literal["server_tool_use"] = "server_tool_use"
    id: str
    name: str
    input: dict[str, Any]


class WebSearchResult(_Answer):
    type: Literal["web_search_result"] = "web_search_result"
    url: str
    title: str
    encrypted_content: str = ""
    page_age: str | None = None


class WebSearchResultOut(_Answer):
    type: Literal["web_search_tool_result"] = "web_search_tool_result"
    tool_use_id: str
    content: list[WebSearchResult]


BlockOut = Annotated[
    ThinkingOut | TextOut | ToolUseOut | ServerToolUseOut | WebSearchResultOut,
    Field(discriminator="type"),
]

StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]


class ServerToolUsage(_Answer):
    web_search_requests: int = 0
    web_fetch_requests: int = 0


class Usage(_Answer):
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    server_tool_use: ServerToolUsage | None = None


class MessageOut(_Answer):
    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[BlockOut]
    stop_reason: StopReason | None
    stop_sequence: str | None = None
    usage: Usage


class TokenCount(_Answer):
    input_tokens: int
