"""Input items as a stored response keeps them and `GET .../input_items` lists them. Pure.

Each gets the resource shape OpenAI lists (an id, a status, full content parts), which also
parses back as an input item when a later request names the response in
`previous_response_id`.
"""

from typing import Any

from pydantic import TypeAdapter

from gemini_proxy.responses.models import (
    ContentPart,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputFile,
    InputImage,
    InputItem,
    InputText,
    MessageItem,
    OutputText,
    ReasoningInputItem,
    RefusalText,
)
from gemini_proxy.responses.translate_response import new_id

ITEMS: TypeAdapter[list[InputItem]] = TypeAdapter(list[InputItem])


def parse_items(data: list[Any]) -> list[InputItem]:
    return ITEMS.validate_python(data)


def resources(items: list[InputItem]) -> list[dict[str, Any]]:
    return [found for item in items if (found := resource(item)) is not None]


def resource(item: InputItem) -> dict[str, Any] | None:
    if isinstance(item, MessageItem):
        return _message(item)
    if isinstance(item, FunctionCallItem):
        out: dict[str, Any] = {
            "type": "function_call",
            "id": item.id or new_id("fc"),
            "call_id": item.call_id,
            "name": item.name,
            "arguments": item.arguments,
            "status": "completed",
        }
        return out | ({"namespace": item.namespace} if item.namespace else {})
    if isinstance(item, CustomToolCallItem):
        out = {
            "type": "custom_tool_call",
            "id": item.id or new_id("ctc"),
            "call_id": item.call_id,
            "name": item.name,
            "input": item.input,
        }
        return out | ({"namespace": item.namespace} if item.namespace else {})
    if isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem):
        prefix = "fco" if isinstance(item, FunctionCallOutputItem) else "ctco"
        output = item.output if isinstance(item.output, str) else [_part(p) for p in item.output]
        return {
            "type": item.type,
            "id": item.id or new_id(prefix),
            "call_id": item.call_id,
            "output": output,
            "status": "completed",
        }
    if isinstance(item, ReasoningInputItem):
        out = {"type": "reasoning", "id": item.id or new_id("rs"), "summary": item.summary}
        return out | (
            {"encrypted_content": item.encrypted_content} if item.encrypted_content else {}
        )
    return None  # records of OpenAI-side work (web_search_call): nothing to keep


def _message(item: MessageItem) -> dict[str, Any]:
    assistant = item.role == "assistant"
    parts: list[ContentPart] = (
        [
            (OutputText if assistant else InputText).model_validate(
                {"type": "output_text" if assistant else "input_text", "text": item.content}
            )
        ]
        if isinstance(item.content, str)
        else list(item.content)
    )
    content = [_part(p, assistant) for p in parts]
    return {
        "type": "message",
        "id": item.id or new_id("msg"),
        "role": item.role,
        "status": "completed",
        "content": content,
    }


def _part(part: ContentPart, assistant: bool = False) -> dict[str, Any]:
    if isinstance(part, InputImage):
        return part.model_dump(exclude_none=True) | {"detail": part.detail or "auto"}
    if isinstance(part, InputFile):
        return part.model_dump(exclude_none=True)
    text = part.refusal if isinstance(part, RefusalText) else part.text
    if assistant:
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"type": "input_text", "text": text}
