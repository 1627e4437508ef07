"""Responses request -> Gemini inner request (`to_gemini`, `media_urls`, tools)."""

import base64
import json
from typing import Any

import pytest

from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import InvalidRequest
from gemini_proxy.generation import signatures
from gemini_proxy.openai.tools import new_call_id
from gemini_proxy.responses import carrier
from gemini_proxy.responses.models import ResponsesRequest
from gemini_proxy.responses.translate_request import (
    media_urls,
    request_items,
    to_gemini,
    without_search,
)
from gemini_proxy.upstream.wire import Blob

FLASH = "gemini-2.5-flash"
G3 = "gemini-3-flash-preview"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"
SIGNER = signatures.Signer(Credential("ai_studio", "unit-key"), G3)


def wire(model: str = FLASH, media: dict[str, Blob] | None = None, **fields: Any) -> Any:
    request = ResponsesRequest.model_validate({"model": "m", **fields})
    translated = to_gemini(request, request_items(request), model, media)
    return translated.request.to_wire()


def refused(**fields: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        wire(**fields)
    assert caught.value.status == 400
    return caught.value


def test_a_string_is_one_user_turn() -> None:
    assert wire(input="hi") == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def test_instructions_then_system_and_developer_messages_in_order() -> None:
    body = wire(
        instructions="A",
        input=[
            {"role": "developer", "content": "B"},
            {"role": "user", "content": "question"},
            {"role": "system", "content": [{"type": "input_text", "text": "C"}]},
        ],
    )
    assert body["systemInstruction"] == {"parts": [{"text": "A"}, {"text": "B"}, {"text": "C"}]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "question"}]}]


def test_images_and_files_become_inline_data() -> None:
    fetched = Blob(mime_type="image/jpeg", data="/9j/")
    content = [
        {"type": "input_text", "text": "look"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "auto"},
        {"type": "input_image", "image_url": "https://example.com/cat.jpg"},
        {"type": "input_file", "filename": "doc.pdf", "file_data": "JVBERi0x"},
        {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0y"},
    ]
    request = ResponsesRequest.model_validate(
        {"model": "m", "input": [{"role": "user", "content": content}]}
    )
    items = request_items(request)
    assert media_urls(items) == [("https://example.com/cat.jpg", "input[0].content[2].image_url")]
    parts = wire(
        input=[{"role": "user", "content": content}], media={"https://example.com/cat.jpg": fetched}
    )["contents"][0]["parts"]
    assert parts == [
        {"text": "look"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0x"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0y"}},
    ]


def test_uploaded_file_ids_are_refused_by_name() -> None:
    error = refused(input=[{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}])
    assert error.param == "input[0].content[0].file_id"


def test_function_calls_and_outputs_pair_up_and_merge_into_turns() -> None:
    body = wire(
        input=[
            {"role": "user", "content": "go"},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "ok"}],
            },
            {"type": "function_call", "call_id": "c1", "name": "a", "arguments": '{"x": 1}'},
            {"type": "function_call", "call_id": "c2", "name": "b", "arguments": ""},
            {"type": "function_call_output", "call_id": "c2", "output": "[1, 2]"},
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [{"type": "input_text", "text": '{"y": 2}'}],
            },
        ],
    )
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "go"}]},
        {
            "role": "model",
            "parts": [
                {"text": "ok"},
                {"functionCall": {"name": "a", "args": {"x": 1}}},
                {"functionCall": {"name": "b", "args": {}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "b", "response": {"result": [1, 2]}}},
                {"functionResponse": {"name": "a", "response": {"y": 2}}},
            ],
        },
    ]


def test_bad_arguments_and_unknown_items_are_400s() -> None:
    bad = [{"type": "function_call", "call_id": "c", "name": "a", "arguments": "[1]"}]
    assert refused(input=bad).param == "input[0].arguments"
    assert refused(input=[{"type": "item_reference", "id": "msg_1"}]).param == "input[0]"
    assert "local_shell_call" in refused(input=[{"type": "local_shell_call", "id": "x"}]).message
    # A record of OpenAI's own web search is history with nothing to replay.
    searched = [{"type": "web_search_call", "id": "ws", "status": "completed"}]
    assert wire(input=[*searched, {"role": "user", "content": "hi"}])["contents"][0]["role"] == (
        "user"
    )


def _g3_call(call_id: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "go"},
        {"type": "function_call", "call_id": call_id, "name": "a", "arguments": "{}"},
        {"type": "function_call_output", "call_id": call_id, "output": "done"},
    ]


def test_gemini_3_signatures_come_from_the_call_id() -> None:
    token = SIGNER.bind("R29vZ2xlU2lnbmF0dXJl")
    call_id = new_call_id(token)
    part = wire(model=G3, input=_g3_call(call_id))["contents"][1]["parts"][0]
    assert part["thoughtSignature"] == token  # opened per attempt by the generation service


def test_gemini_3_signatures_come_from_the_reasoning_item_wherever_it_is() -> None:
    call_token = SIGNER.bind("Q2FsbFNpZw==")
    text_token = SIGNER.bind("VGV4dFNpZw==")
    sealed = carrier.seal(carrier.Carried(text_token, {"call_1": call_token}))
    reasoning = {"type": "reasoning", "summary": [], "encrypted_content": sealed}
    items = [
        {"role": "user", "content": "go"},
        {"type": "message", "role": "assistant", "content": "Let me check."},
        {"type": "function_call", "call_id": "call_1", "name": "a", "arguments": "{}"},
        reasoning,  # after its calls, as a stream with no summary places it
        {"type": "function_call_output", "call_id": "call_1", "output": "done"},
    ]
    parts = wire(model=G3, input=items)["contents"][1]["parts"]
    assert parts[0] == {"text": "Let me check.", "thoughtSignature": text_token}
    assert parts[1]["thoughtSignature"] == call_token


def test_history_gemini_never_signed_gets_the_skip_value_on_gemini_3_only() -> None:
    foreign = carrier.PREFIX + "bm90IG91cnM"  # another provider's reasoning: ignored
    items = [
        *_g3_call("toolu_1"),
        {"type": "reasoning", "summary": [], "encrypted_content": foreign},
    ]
    part = wire(model=G3, input=items)["contents"][1]["parts"][0]
    assert part["thoughtSignature"] == signatures.SKIP
    assert "thoughtSignature" not in wire(model=FLASH, input=items)["contents"][1]["parts"][0]


def test_custom_and_namespaced_calls_replay_under_their_gemini_names() -> None:
    items = [
        {"role": "user", "content": "go"},
        {"type": "custom_tool_call", "call_id": "c1", "name": "apply_patch", "input": "diff"},
        {
            "type": "function_call",
            "call_id": "c2",
            "name": "spawn",
            "namespace": "agents",
            "arguments": "{}",
        },
        {"type": "custom_tool_call_output", "call_id": "c1", "output": "applied"},
        {"type": "function_call_output", "call_id": "c2", "output": "spawned"},
    ]
    body = wire(input=items)
    assert [p["functionCall"] for p in body["contents"][1]["parts"]] == [
        {"name": "apply_patch", "args": {"input": "diff"}},
        {"name": "agents.spawn", "args": {}},
    ]
    assert [p["functionResponse"]["name"] for p in body["contents"][2]["parts"]] == [
        "apply_patch",
        "agents.spawn",
    ]


def test_tools_map_to_declarations_search_and_a_calling_mode() -> None:
    tools = [
        {
            "type": "function",
            "name": "f",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "additionalProperties": False,
            },
        },
        {
            "type": "custom",
            "name": "patch",
            "format": {"type": "grammar", "syntax": "lark", "definition": "start: X"},
        },
        {
            "type": "namespace",
            "name": "ns",
            "description": "Group.",
            "tools": [{"type": "function", "name": "g"}],
        },
        {"type": "web_search_preview"},
    ]
    body = wire(input="hi", tools=tools, tool_choice="required")
    declarations, search = body["tools"]
    assert search == {"googleSearch": {}}
    names = [d["name"] for d in declarations["functionDeclarations"]]
    assert names == ["f", "patch", "ns.g"]
    f, patch, g = declarations["functionDeclarations"]
    assert f["parameters"] == {"type": "object", "properties": {"a": {"type": "string"}}}
    assert "start: X" in patch["parameters"]["properties"]["input"]["description"]
    assert g["description"] == "[ns] Group."
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}


def test_tool_choice_none_turns_search_off_and_needs_no_functions() -> None:
    body = wire(input="hi", tools=[{"type": "web_search"}], tool_choice="none")
    assert "tools" not in body and "toolConfig" not in body


def test_allowed_tools_in_auto_mode_declare_only_those() -> None:
    tools = [{"type": "function", "name": "f"}, {"type": "function", "name": "g"}]
    choice = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "g"}]}
    body = wire(input="hi", tools=tools, tool_choice=choice)
    assert [d["name"] for d in body["tools"][0]["functionDeclarations"]] == ["g"]
    assert "toolConfig" not in body


def test_tool_choice_naming_an_absent_tool_is_a_400() -> None:
    error = refused(
        input="hi",
        tools=[{"type": "function", "name": "f"}],
        tool_choice={"type": "function", "name": "x"},
    )
    assert error.param == "tool_choice.name"


def test_without_search_keeps_the_functions() -> None:
    request = ResponsesRequest.model_validate(
        {
            "model": "m",
            "input": "hi",
            "tools": [{"type": "function", "name": "f"}, {"type": "web_search"}],
        }
    )
    translated = to_gemini(request, request_items(request), FLASH)
    assert without_search(translated.request).to_wire()["tools"] == [
        {"functionDeclarations": [{"name": "f"}]}
    ]


@pytest.mark.parametrize(
    ("model", "effort", "expected"),
    [
        (FLASH, "high", {"thinkingBudget": 24576}),
        (FLASH, "xhigh", {"thinkingBudget": 24576}),
        (G3, "none", {"thinkingLevel": "minimal"}),
        ("gemini-3-pro-preview", "medium", {"thinkingLevel": "high"}),
    ],
)
def test_reasoning_effort_uses_the_shared_mapping(
    model: str, effort: str, expected: dict[str, Any]
) -> None:
    body = wire(model=model, input="hi", reasoning={"effort": effort})
    assert body["generationConfig"]["thinkingConfig"] == expected


def test_text_formats() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt = {"type": "json_schema", "name": "x", "schema": schema}
    config = wire(input="hi", text={"format": fmt})["generationConfig"]
    assert config == {"responseMimeType": "application/json", "responseJsonSchema": schema}
    assert refused(input="hi", text={"format": {"type": "json_schema", "name": "x"}}).param == (
        "text.format.schema"
    )
    assert "generationConfig" not in wire(input="hi", text={"format": {"type": "text"}})


def test_an_empty_conversation_is_a_400() -> None:
    assert refused(input=[{"role": "user", "content": ""}]).param == "input"


def test_json_arguments_round_trip_exactly() -> None:
    args = {"cmd": "echo 'hi' && ls", "n": [1, 2.5, None]}
    items = [
        {"role": "user", "content": "go"},
        {"type": "function_call", "call_id": "c", "name": "run", "arguments": json.dumps(args)},
        {"type": "function_call_output", "call_id": "c", "output": "ok"},
    ]
    assert wire(input=items)["contents"][1]["parts"][0]["functionCall"]["args"] == args


def test_a_data_url_that_is_not_base64_is_a_400() -> None:
    image = {
        "type": "input_image",
        "image_url": "data:image/png," + base64.b64encode(b"x").decode(),
    }
    error = refused(input=[{"role": "user", "content": [image]}])
    assert error.param == "input[0].content[0].image_url"
