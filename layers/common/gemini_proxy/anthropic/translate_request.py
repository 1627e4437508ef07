"""Anthropic Messages request -> Gemini inner request. Pure: no I/O, no clock, no randomness.

Image and document URLs are the one input that needs I/O: the caller fetches them first (see
`media_urls`) and passes the results in `media`.

History goes back to Gemini as Gemini sent it: a `thinking` block is a thought part with the
signature Google put on it (bound to its credential and model, opened per attempt by the
generation service); a thinking block without such a signature (none, or another provider's)
is dropped rather than given one, and so is `redacted_thinking`. A `tool_use` block is a
function call with the signature its id carries; on Gemini 3 a call without one gets Google's
documented skip value.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.anthropic.models import (
    Base64Source,
    ContentBlock,
    ContentSource,
    DocumentBlock,
    ImageBlock,
    Message,
    MessagesRequest,
    PlainTextSource,
    RedactedThinkingBlock,
    SearchResultBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolReferenceBlock,
    ToolResultBlock,
    ToolResultItem,
    ToolUseBlock,
    UrlSource,
    WebSearchResultBlock,
)
from gemini_proxy.anthropic.thinking import thinking_config
from gemini_proxy.anthropic.tools import ToolSetup, signature_in_id, tool_setup
from gemini_proxy.errors import InvalidRequest, Unsupported
from gemini_proxy.generation import signatures
from gemini_proxy.generation.schema import gemini_function_name
from gemini_proxy.upstream.contents import text_parts
from gemini_proxy.upstream.wire import (
    Blob,
    Content,
    FunctionCall,
    FunctionResponse,
    GenerateContentRequest,
    GenerationConfig,
    Part,
)

# Gemini accepts at most five stop sequences.
MAX_STOP_SEQUENCES = 5
# Gemini's models answer at most this many tokens; Claude Code asks for up to 128000. A larger
# max_tokens is left out, which lets the model use all it has.
GEMINI_MAX_OUTPUT_TOKENS = 65536


@dataclass
class Translated:
    request: GenerateContentRequest
    tools: ToolSetup = field(default_factory=ToolSetup)


def media_urls(request: MessagesRequest) -> list[tuple[str, str]]:
    """(url, param) of every image or document URL the proxy has to fetch before translating."""
    found = []
    for index, message in enumerate(request.messages):
        if isinstance(message.content, str):
            continue
        for n, block in enumerate(message.content):
            param = f"messages[{index}].content[{n}]"
            if isinstance(block, ImageBlock | DocumentBlock):
                if isinstance(block.source, UrlSource):
                    found.append((block.source.url, param + ".source.url"))
            elif isinstance(block, ToolResultBlock) and isinstance(block.content, list):
                for k, item in enumerate(block.content):
                    inner = f"{param}.content[{k}].source.url"
                    if isinstance(item, ImageBlock | DocumentBlock) and isinstance(
                        item.source, UrlSource
                    ):
                        found.append((item.source.url, inner))
    return found


def to_gemini(
    request: MessagesRequest, model: str, media: Mapping[str, Blob] | None = None
) -> Translated:
    if request.mcp_servers:
        raise Unsupported("mcp_servers", "the MCP connector runs on Anthropic's servers")
    tools = tool_setup(request.tools, request.tool_choice)
    system = _system_parts(request.system)
    history = _History(model.startswith("gemini-3"), media or {})
    for index, message in enumerate(request.messages):
        if message.role == "system":
            # Claude Code's mid-conversation system turns: Gemini has one system instruction.
            system.extend(text_parts(_texts(message, index)))
        else:
            history.add(message, index)
    if not history.contents:
        raise InvalidRequest(
            "messages must contain at least one user or assistant message with content",
            param="messages",
        )
    gemini_request = GenerateContentRequest(
        contents=history.contents,
        system_instruction=Content(parts=system) if system else None,
        tools=tools.tools or None,
        tool_config=tools.tool_config,
        generation_config=_generation_config(request, model),
    )
    return Translated(gemini_request, tools)


def for_counting(request: GenerateContentRequest) -> GenerateContentRequest:
    """What countTokens needs: the content, system and tools, no generation settings."""
    return request.model_copy(update={"generation_config": None})


def _system_parts(system: str | list[TextBlock] | None) -> list[Part]:
    if system is None:
        return []
    if isinstance(system, str):
        return text_parts([system])
    return text_parts([block.text for block in system])


def _texts(message: Message, index: int) -> list[str]:
    if isinstance(message.content, str):
        return [message.content]
    texts = []
    for n, block in enumerate(message.content):
        if not isinstance(block, TextBlock):
            raise InvalidRequest(
                "a system message may hold only text blocks",
                param=f"messages[{index}].content[{n}]",
            )
        texts.append(block.text)
    return texts


class _History:
    """Builds Gemini's contents turn by turn, remembering which function each tool id named."""

    def __init__(self, gemini_3: bool, media: Mapping[str, Blob]) -> None:
        self.contents: list[Content] = []
        self._gemini_3 = gemini_3
        self._media = media
        self._call_names: dict[str, str] = {}  # tool_use id -> Gemini function name

    def add(self, message: Message, index: int) -> None:
        role = "model" if message.role == "assistant" else "user"
        if isinstance(message.content, str):
            self._append(role, text_parts([message.content]))
            return
        responses: list[Part] = []
        parts: list[Part] = []
        for n, block in enumerate(message.content):
            param = f"messages[{index}].content[{n}]"
            if isinstance(block, ToolResultBlock):
                if role != "user":
                    raise InvalidRequest("tool_result blocks belong in user messages", param=param)
                response, extra = self._tool_result(block, param)
                responses.append(response)
                parts.extend(extra)
            else:
                parts.extend(self._block(block, role, param))
        # Gemini wants a call turn answered by its function responses first.
        self._append(role, [*responses, *parts])

    def _append(self, role: str, parts: list[Part]) -> None:
        """Add a turn, merging it into the previous one when the role repeats."""
        if not parts:
            return
        if self.contents and self.contents[-1].role == role:
            previous = self.contents[-1].parts
            responses = [p for p in parts if p.function_response is not None]
            if responses and any(p.function_response is None for p in previous):
                others = [p for p in previous if p.function_response is None]
                answered = [p for p in previous if p.function_response is not None]
                previous[:] = [*answered, *responses, *others]
                parts = [p for p in parts if p.function_response is None]
            previous.extend(parts)
        else:
            self.contents.append(Content(role=role, parts=parts))

    def _block(self, block: ContentBlock, role: str, param: str) -> list[Part]:
        if isinstance(block, TextBlock):
            return text_parts([block.text])
        if isinstance(block, ImageBlock | DocumentBlock | SearchResultBlock):
            return self._media_parts(block, param)
        if isinstance(block, ToolUseBlock):
            if role != "model":
                raise InvalidRequest("tool_use blocks belong in assistant messages", param=param)
            return [self._call(block)]
        if isinstance(block, ThinkingBlock):
            return _thought(block, role)
        if isinstance(block, RedactedThinkingBlock | ServerToolUseBlock | WebSearchResultBlock):
            # Another provider's opaque thinking, or a server tool's turn: nothing Gemini can
            # replay (the answer's text, kept, carries what the search found).
            return []
        raise Unsupported(param, "unknown content block")

    def _call(self, block: ToolUseBlock) -> Part:
        name = gemini_function_name(block.name)
        self._call_names[block.id] = name
        signature = signature_in_id(block.id)
        if signature is None and self._gemini_3:
            signature = signatures.SKIP
        call = FunctionCall(name=name, args=block.input)
        return Part(function_call=call, thought_signature=signature)

    def _tool_result(self, block: ToolResultBlock, param: str) -> tuple[Part, list[Part]]:
        name = self._call_names.get(block.tool_use_id)
        if name is None:
            raise InvalidRequest(
                f"tool_use_id '{block.tool_use_id[:64]}' matches no earlier tool_use block",
                param=param + ".tool_use_id",
            )
        texts: list[str] = []
        extra: list[Part] = []
        items = [block.content] if isinstance(block.content, str) else block.content or []
        for k, item in enumerate(items):
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, TextBlock):
                texts.append(item.text)
            elif isinstance(item, ToolReferenceBlock):
                texts.append(f"Tool loaded: {item.tool_name}")
            else:
                # Images and documents a tool returned go beside the response, in the same turn.
                extra.extend(self._media_parts(item, f"{param}.content[{k}]"))
        text = "\n".join(texts)
        payload: dict[str, Any] = {"error": text} if block.is_error else {"result": text}
        response = FunctionResponse(name=name, response=payload)
        return Part(function_response=response), extra

    def _media_parts(self, block: ToolResultItem, param: str) -> list[Part]:
        if isinstance(block, TextBlock):
            return text_parts([block.text])
        if isinstance(block, ToolReferenceBlock):
            return text_parts([f"Tool loaded: {block.tool_name}"])
        if isinstance(block, SearchResultBlock):
            body = "\n".join(item.text for item in block.content)
            return text_parts([f"{block.title} ({block.source})\n{body}"])
        source = block.source
        if isinstance(source, Base64Source):
            if not source.data:
                raise InvalidRequest("base64 source data is empty", param=param + ".source.data")
            return [Part(inline_data=Blob(mime_type=source.media_type, data=source.data))]
        if isinstance(source, UrlSource):
            blob = self._media.get(source.url)
            if blob is None:
                raise Unsupported(param + ".source.url", "the URL was not fetched")
            return [Part(inline_data=blob)]
        if isinstance(source, PlainTextSource):
            return text_parts([_titled(block, source.data)])
        if isinstance(source, ContentSource):
            content = source.content
            texts = [content] if isinstance(content, str) else [item.text for item in content]
            return text_parts([_titled(block, "\n".join(texts))])
        raise Unsupported(
            param + ".source", "Files API ids are Anthropic's; send the data as base64 or a URL"
        )


def _titled(block: ImageBlock | DocumentBlock, text: str) -> str:
    title = block.title if isinstance(block, DocumentBlock) else None
    return f"{title}\n\n{text}" if title and text else text


def _thought(block: ThinkingBlock, role: str) -> list[Part]:
    signature = block.signature
    if role != "model" or not signature or not signatures.is_bound(signature):
        return []
    return [Part(text=block.thinking, thought=True, thought_signature=signature)]


def _generation_config(request: MessagesRequest, model: str) -> GenerationConfig | None:
    stop = request.stop_sequences
    if stop and len(stop) > MAX_STOP_SEQUENCES:
        raise InvalidRequest(
            f"'stop_sequences' takes at most {MAX_STOP_SEQUENCES} sequences with Gemini",
            param="stop_sequences",
        )
    max_tokens = request.max_tokens
    output = request.output_config
    values: dict[str, Any] = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k or None,  # 0 means unset; Gemini's least is 1
        "max_output_tokens": (
            max_tokens if max_tokens and max_tokens <= GEMINI_MAX_OUTPUT_TOKENS else None
        ),
        "stop_sequences": [s for s in stop if s] if stop else None,
        "thinking_config": thinking_config(
            model, request.thinking, output.effort if output else None
        ),
        **_response_format(output.format if output else None),
    }
    set_values = {name: value for name, value in values.items() if value is not None}
    return GenerationConfig(**set_values) if set_values else None


def _response_format(spec: dict[str, Any] | None) -> dict[str, Any]:
    """`output_config.format` (structured outputs) -> Gemini's JSON mode with the schema."""
    if spec is None:
        return {}
    schema = spec.get("schema")
    if spec.get("type") != "json_schema" or not isinstance(schema, dict):
        raise InvalidRequest(
            "output_config.format must be {'type': 'json_schema', 'schema': {...}}",
            param="output_config.format",
        )
    return {"response_mime_type": "application/json", "response_json_schema": schema}
