"""Responses request -> Gemini inner request. Pure: no I/O, no clock, no randomness.

The items translated are the conversation so far (a stored previous response's context and
output, when `previous_response_id` names one) followed by this request's `input`. Media URLs
are fetched by the caller first (see `media_urls`) and passed in as `media`.
"""

import json
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.errors import InvalidRequest, Unsupported
from gemini_proxy.generation import signatures
from gemini_proxy.openai.reasoning import thinking_config
from gemini_proxy.openai.tools import result_payload, signature_in_id
from gemini_proxy.responses import carrier
from gemini_proxy.responses.models import (
    ContentPart,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputFile,
    InputImage,
    InputItem,
    MessageItem,
    OtherItem,
    ReasoningInputItem,
    RefusalText,
    ResponsesRequest,
)
from gemini_proxy.responses.tools import CUSTOM_INPUT, ToolSetup, gemini_name, tool_setup
from gemini_proxy.upstream.contents import append_turn, data_url_blob, text_parts
from gemini_proxy.upstream.wire import (
    Blob,
    Content,
    FunctionCall,
    FunctionResponse,
    GenerateContentRequest,
    GenerationConfig,
    Part,
)

ENCRYPTED_REASONING = "reasoning.encrypted_content"
# Items that only record what happened on OpenAI's side: nothing to replay to Gemini.
_SKIPPED = frozenset({"web_search_call"})
_EFFORTS = {"xhigh": "high", "max": "high"}  # beyond what Gemini's controls distinguish


@dataclass
class Translated:
    request: GenerateContentRequest
    tools: ToolSetup = field(default_factory=ToolSetup)


def request_items(request: ResponsesRequest) -> list[InputItem]:
    """`input` as a list of items (a string is one user message)."""
    if request.input is None:
        return []
    if isinstance(request.input, str):
        return [MessageItem(role="user", content=request.input)]
    return list(request.input)


def refuse_unsupported(request: ResponsesRequest) -> None:
    if request.background:
        raise Unsupported("background", "responses are generated while the request waits")
    if request.conversation is not None:
        raise Unsupported("conversation", "use previous_response_id to continue a conversation")
    if request.prompt is not None:
        raise Unsupported("prompt", "reusable prompts live on OpenAI's platform")
    if request.top_logprobs:
        raise Unsupported("top_logprobs", "Gemini's log probabilities are not mapped")


def media_urls(items: Sequence[InputItem], offset: int = 0) -> list[tuple[str, str]]:
    """(url, param) of every http(s) image or file the proxy has to fetch before translating."""
    found = []
    for index, item in enumerate(items):
        parts = _parts_of(item)
        for n, part in enumerate(parts):
            where = f"{_param(index, offset)}.content[{n}]"
            if isinstance(part, InputImage) and part.image_url:
                if not part.image_url.startswith("data:"):
                    found.append((part.image_url, where + ".image_url"))
            elif isinstance(part, InputFile) and part.file_url and part.file_data is None:
                found.append((part.file_url, where + ".file_url"))
    return found


def _parts_of(item: InputItem) -> list[ContentPart]:
    if isinstance(item, MessageItem) and not isinstance(item.content, str):
        return list(item.content)
    if isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem) and not isinstance(
        item.output, str
    ):
        return list(item.output)
    return []


def _param(index: int, offset: int) -> str:
    # Items before `offset` came from the stored previous response.
    return f"input[{index - offset}]" if index >= offset else "previous_response_id"


def to_gemini(
    request: ResponsesRequest,
    items: Sequence[InputItem],
    model: str,
    media: Mapping[str, Blob] | None = None,
    include_thoughts: bool = False,
    offset: int = 0,
) -> Translated:
    refuse_unsupported(request)
    tools = tool_setup(request.tools, request.tool_choice)
    history = _History(model.startswith("gemini-3"), media or {}, _carried_calls(items))
    if request.instructions:
        history.system.append(Part(text=request.instructions))
    for index, item in enumerate(items):
        history.add(item, _param(index, offset))
    history.close_group()
    if not history.contents:
        raise InvalidRequest(
            "input must contain at least one user or assistant message with content",
            param="input",
        )
    gemini_request = GenerateContentRequest(
        contents=history.contents,
        system_instruction=Content(parts=history.system) if history.system else None,
        tools=tools.tools or None,
        tool_config=tools.tool_config,
        generation_config=_generation_config(request, model, include_thoughts),
    )
    return Translated(gemini_request, tools)


def without_search(request: GenerateContentRequest) -> GenerateContentRequest:
    """The same request without Google Search (for models that refuse it beside functions)."""
    tools = [tool for tool in request.tools or [] if "googleSearch" not in tool]
    return request.model_copy(update={"tools": tools or None})


def _carried_calls(items: Sequence[InputItem]) -> dict[str, str]:
    """Call signatures from every reasoning item: they may come before or after their calls."""
    calls: dict[str, str] = {}
    for item in items:
        if isinstance(item, ReasoningInputItem):
            carried = carrier.unseal(item.encrypted_content)
            if carried is not None:
                calls.update(carried.calls)
    return calls


class _History:
    def __init__(
        self, needs_signature: bool, media: Mapping[str, Blob], carried: dict[str, str]
    ) -> None:
        self.needs_signature = needs_signature
        self.media = media
        self.carried = carried
        self.system: list[Part] = []
        self.contents: list[Content] = []
        self.call_names: dict[str, str] = {}  # call id -> Gemini function name
        self.text_signature: str | None = None  # for the model turn being built

    def add(self, item: InputItem, param: str) -> None:
        if isinstance(item, MessageItem):
            self._message(item, param)
        elif isinstance(item, FunctionCallItem):
            self._call(item.call_id, gemini_name(item.name, item.namespace), item.arguments, param)
        elif isinstance(item, CustomToolCallItem):
            name = gemini_name(item.name, item.namespace)
            self._call(item.call_id, name, json.dumps({CUSTOM_INPUT: item.input}), param)
        elif isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem):
            self._output(item, param)
        elif isinstance(item, ReasoningInputItem):
            carried = carrier.unseal(item.encrypted_content)
            if carried is not None and carried.text is not None:
                self.text_signature = carried.text
        elif isinstance(item, OtherItem):
            self._other(item, param)

    def _message(self, item: MessageItem, param: str) -> None:
        if item.role in ("system", "developer"):
            self.system.extend(text_parts(_texts(item.content, param)))
        elif item.role == "user":
            self._user(self._user_parts(item, param))
        else:
            self._model(text_parts(_texts(item.content, param)))

    def _user_parts(self, item: MessageItem, param: str) -> list[Part]:
        if isinstance(item.content, str):
            return text_parts([item.content])
        parts: list[Part] = []
        for n, part in enumerate(item.content):
            parts.extend(self._content_part(part, f"{param}.content[{n}]"))
        return parts

    def _content_part(self, part: ContentPart, param: str) -> list[Part]:
        if isinstance(part, InputImage):
            return [Part(inline_data=self._image(part, param))]
        if isinstance(part, InputFile):
            return [Part(inline_data=self._file(part, param))]
        return text_parts([_text_of(part)])

    def _image(self, part: InputImage, param: str) -> Blob:
        url = part.image_url
        if not url:
            why = "files uploaded to OpenAI are not available here; send image_url"
            raise Unsupported(param + ".file_id", why)
        if url.startswith("data:"):
            return data_url_blob(url, param + ".image_url")
        if url not in self.media:
            raise Unsupported(param + ".image_url", "the image URL was not fetched")
        return self.media[url]

    def _file(self, part: InputFile, param: str) -> Blob:
        if part.file_data:
            if part.file_data.startswith("data:"):
                return data_url_blob(part.file_data, param + ".file_data")
            # Bare base64: the filename's extension gives the type; PDF is what clients send.
            guessed = mimetypes.guess_type(part.filename)[0] if part.filename else None
            return Blob(mime_type=guessed or "application/pdf", data=part.file_data)
        if part.file_url:
            if part.file_url not in self.media:
                raise Unsupported(param + ".file_url", "the file URL was not fetched")
            return self.media[part.file_url]
        why = "files uploaded to OpenAI are not available here; send file_data"
        raise Unsupported(param + ".file_id", why)

    def _call(self, call_id: str, name: str, arguments: str, param: str) -> None:
        try:
            args = json.loads(arguments or "{}")
        except ValueError:
            args = None
        if not isinstance(args, dict):
            raise InvalidRequest("arguments must be a JSON object", param=param + ".arguments")
        signature = self.carried.get(carrier.call_key(call_id)) or signature_in_id(call_id)
        if signature is None and self.needs_signature:
            signature = signatures.SKIP  # history Gemini never signed (another model's calls)
        self.call_names[call_id] = name
        call = FunctionCall(name=name, args=args)
        self._model([Part(function_call=call, thought_signature=signature)])

    def _output(self, item: FunctionCallOutputItem | CustomToolCallOutputItem, param: str) -> None:
        name = self.call_names.get(item.call_id)
        if name is None:
            raise InvalidRequest(
                f"call_id '{item.call_id}' matches no earlier function or custom tool call",
                param=param + ".call_id",
            )
        extra: list[Part] = []
        if isinstance(item.output, str):
            text = item.output
        else:
            texts = []
            for n, part in enumerate(item.output):
                if isinstance(part, InputImage | InputFile):
                    extra.extend(self._content_part(part, f"{param}.output[{n}]"))
                else:
                    texts.append(_text_of(part))
            text = "".join(texts)
        response = FunctionResponse(name=name, response=result_payload(text))
        self._user([Part(function_response=response), *extra])

    def _other(self, item: OtherItem, param: str) -> None:
        if item.type in _SKIPPED:
            return
        if item.type == "item_reference":
            why = "it needs OpenAI's stored items; send the item itself or use previous_response_id"
            raise Unsupported(param, why)
        raise Unsupported(param, f"input items of type '{item.type}' are not mapped")

    def _user(self, parts: list[Part]) -> None:
        if parts:
            self.close_group()
            append_turn(self.contents, "user", parts)

    def _model(self, parts: list[Part]) -> None:
        append_turn(self.contents, "model", parts)

    def close_group(self) -> None:
        """A model turn is complete: its text gets the signature its reasoning item carried."""
        signature, self.text_signature = self.text_signature, None
        if signature is None or not self.contents or self.contents[-1].role != "model":
            return
        for part in reversed(self.contents[-1].parts):
            if part.text is not None and not part.thought and part.thought_signature is None:
                part.thought_signature = signature
                return


def _texts(content: str | list[ContentPart], param: str) -> list[str]:
    if isinstance(content, str):
        return [content]
    texts = []
    for n, part in enumerate(content):
        if isinstance(part, InputImage | InputFile):
            raise InvalidRequest(
                "only text may appear here: images and files belong in user messages",
                param=f"{param}.content[{n}]",
            )
        texts.append(_text_of(part))
    return texts


def _text_of(part: ContentPart) -> str:
    if isinstance(part, RefusalText):
        return part.refusal
    return getattr(part, "text", "")


def _generation_config(
    request: ResponsesRequest, model: str, include_thoughts: bool
) -> GenerationConfig | None:
    asked = request.reasoning.effort if request.reasoning else None
    effort = _EFFORTS.get(asked, asked) if asked else None
    values: dict[str, Any] = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_output_tokens": request.max_output_tokens,
        "thinking_config": thinking_config(model, effort, include_thoughts),
        **_text_format(request.text.format if request.text else None),
    }
    set_values = {name: value for name, value in values.items() if value is not None}
    return GenerationConfig(**set_values) if set_values else None


def _text_format(fmt: dict[str, Any] | None) -> dict[str, Any]:
    kind = (fmt or {}).get("type", "text")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"response_mime_type": "application/json"}
    if kind == "json_schema":
        schema = (fmt or {}).get("schema")
        if not isinstance(schema, dict):
            raise InvalidRequest(
                "text.format json_schema needs 'schema'", param="text.format.schema"
            )
        return {"response_mime_type": "application/json", "response_json_schema": schema}
    raise Unsupported("text.format", f"unknown type '{kind}'")
