"""Anthropic requests -> Gemini requests: the pure translation."""

from typing import Any

import pytest

from gemini_proxy.anthropic.models import MessagesRequest
from gemini_proxy.anthropic.translate_request import for_counting, media_urls, to_gemini
from gemini_proxy.errors import InvalidRequest
from gemini_proxy.generation import signatures
from gemini_proxy.upstream.wire import Blob

TOKEN = signatures.PREFIX + "AAAAbound-token_from-this-proxy"
CALL_ID = "toolu_0123456789abcdef01234567_" + TOKEN
WEATHER = {
    "name": "get_weather",
    "description": "Weather in a city.",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "cache_control": {"type": "ephemeral"},
}


def request(**values: Any) -> MessagesRequest:
    body = {"model": "claude-x", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    return MessagesRequest.model_validate({**body, **values})


def wire(req: MessagesRequest, model: str = "gemini-2.5-flash", **kwargs: Any) -> dict[str, Any]:
    return to_gemini(req, model, **kwargs).request.to_wire()


def test_system_as_a_string_or_text_blocks() -> None:
    assert wire(request(system="Be brief."))["systemInstruction"] == {
        "parts": [{"text": "Be brief."}]
    }
    blocks = [
        {"type": "text", "text": "One.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": ""},
        {"type": "text", "text": "Two."},
    ]
    assert wire(request(system=blocks))["systemInstruction"] == {
        "parts": [{"text": "One."}, {"text": "Two."}]
    }


def test_mid_conversation_system_turns_join_the_system_instruction() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": [{"type": "text", "text": "# Environment"}]},
    ]
    sent = wire(request(system="Base.", messages=messages))
    assert sent["systemInstruction"]["parts"] == [{"text": "Base."}, {"text": "# Environment"}]
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_sampling_and_limits() -> None:
    sent = wire(
        request(temperature=0.2, top_p=0.5, top_k=10, stop_sequences=["END"], max_tokens=4096)
    )
    assert sent["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.5,
        "topK": 10,
        "maxOutputTokens": 4096,
        "stopSequences": ["END"],
    }


def test_a_max_tokens_beyond_gemini_lets_the_model_use_all_it_has() -> None:
    assert "generationConfig" not in wire(request(max_tokens=128000))


def test_too_many_stop_sequences_and_mcp_servers_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="at most 5"):
        wire(request(stop_sequences=list("abcdef")))
    with pytest.raises(InvalidRequest, match="mcp_servers"):
        wire(request(mcp_servers=[{"type": "url", "url": "https://x", "name": "x"}]))


def test_images_and_documents() -> None:
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVB"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVB"},
        },
        {"type": "document", "title": "T", "source": {"type": "text", "data": "body"}},
        {
            "type": "document",
            "source": {"type": "content", "content": [{"type": "text", "text": "c"}]},
        },
    ]
    req = request(messages=[{"role": "user", "content": content}])
    assert media_urls(req) == [("https://example.com/a.png", "messages[0].content[1].source.url")]
    fetched = {"https://example.com/a.png": Blob(mime_type="image/png", data="Zm9v")}
    assert wire(req, media=fetched)["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "image/png", "data": "iVB"}},
        {"inlineData": {"mimeType": "image/png", "data": "Zm9v"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVB"}},
        {"text": "T\n\nbody"},
        {"text": "c"},
    ]


def test_an_anthropic_file_id_is_refused_clearly() -> None:
    content = [{"type": "image", "source": {"type": "file", "file_id": "file_01"}}]
    with pytest.raises(InvalidRequest, match="Files API") as caught:
        wire(request(messages=[{"role": "user", "content": content}]))
    assert caught.value.param == "messages[0].content[0].source"


def test_tool_use_and_results_with_the_signature_from_the_id() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": CALL_ID,
                    "name": "get_weather",
                    "input": {"city": "Rome"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_plain",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "(results follow)"},
                {"type": "tool_result", "tool_use_id": CALL_ID, "content": "sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_plain",
                    "is_error": True,
                    "content": [
                        {"type": "text", "text": "no such city"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "iVB"},
                        },
                    ],
                },
            ],
        },
    ]
    sent = wire(request(messages=messages, tools=[WEATHER]), model="gemini-3-flash-preview")
    model_turn, results = sent["contents"][1:]
    assert model_turn["parts"] == [
        {"text": "Checking."},
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Rome"}},
            "thoughtSignature": TOKEN,
        },
        # Gemini 3 refuses an unsigned call in history: Google's documented skip value.
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}},
            "thoughtSignature": signatures.SKIP,
        },
    ]
    # Function responses first (Gemini pairs them with the calls), then the rest of the turn.
    assert results["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
        {"functionResponse": {"name": "get_weather", "response": {"error": "no such city"}}},
        {"text": "(results follow)"},
        {"inlineData": {"mimeType": "image/png", "data": "iVB"}},
    ]


def test_gemini_2_5_calls_without_a_signature_stay_unsigned() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
    ]
    parts = wire(request(messages=messages))["contents"][1]["parts"]
    assert parts == [{"functionCall": {"name": "f", "args": {}}}]


def test_a_tool_result_for_an_unknown_id_is_a_400() -> None:
    messages = [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "nope"}]}]
    with pytest.raises(InvalidRequest, match="matches no earlier tool_use") as caught:
        wire(request(messages=messages))
    assert caught.value.param == "messages[0].content[0].tool_use_id"


def test_thinking_goes_back_only_with_this_proxys_signature() -> None:
    messages = [
        {"role": "user", "content": "think"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "mine", "signature": TOKEN},
                {"type": "thinking", "thinking": "unsigned", "signature": ""},
                {"type": "thinking", "thinking": "claude's", "signature": "EqQBCkYIAhgC+/="},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy"},
                {"type": "text", "text": "Answer."},
            ],
        },
        {"role": "user", "content": "more"},
    ]
    parts = wire(request(messages=messages), model="gemini-3-flash-preview")["contents"][1]["parts"]
    assert parts == [
        {"text": "mine", "thought": True, "thoughtSignature": TOKEN},
        {"text": "Answer."},
    ]


def test_consecutive_turns_of_one_role_merge() -> None:
    messages = [
        {"role": "user", "content": "a"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}],
        },
    ]
    assert wire(request(messages=messages))["contents"] == [
        {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}
    ]


def test_empty_conversations_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="at least one"):
        wire(request(messages=[{"role": "user", "content": ""}]))


def test_tools_are_declared_with_sanitised_schemas() -> None:
    translated = to_gemini(
        request(tools=[WEATHER, {"name": "noop", "input_schema": {"type": "object"}}]), "m"
    )
    assert translated.request.tools == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather in a city.",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                },
                {"name": "noop"},
            ]
        }
    ]
    assert translated.tools.schema_changes  # $schema and additionalProperties were dropped


def test_web_search_is_google_search_and_other_server_tools_are_refused() -> None:
    search = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
    assert wire(request(tools=[search]))["tools"] == [{"googleSearch": {}}]
    with pytest.raises(InvalidRequest, match="bash_20250124"):
        wire(request(tools=[{"type": "bash_20250124", "name": "bash"}]))


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ({"type": "auto"}, {"mode": "AUTO"}),
        ({"type": "any"}, {"mode": "ANY"}),
        ({"type": "none"}, {"mode": "NONE"}),
        (
            {"type": "tool", "name": "get_weather"},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
    ],
)
def test_tool_choice(choice: dict[str, Any], config: dict[str, Any]) -> None:
    sent = wire(request(tools=[WEATHER], tool_choice=choice))
    assert sent["toolConfig"] == {"functionCallingConfig": config}


def test_tool_choice_mistakes_are_400s() -> None:
    with pytest.raises(InvalidRequest, match="not among the tools"):
        wire(request(tools=[WEATHER], tool_choice={"type": "tool", "name": "other"}))
    with pytest.raises(InvalidRequest, match="needs at least one client tool"):
        wire(request(tool_choice={"type": "any"}))
    translated = to_gemini(
        request(tools=[WEATHER], tool_choice={"type": "auto", "disable_parallel_tool_use": True}),
        "m",
    )
    assert translated.tools.single_call


def test_structured_output_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    sent = wire(request(output_config={"format": {"type": "json_schema", "schema": schema}}))
    assert sent["generationConfig"]["responseMimeType"] == "application/json"
    assert sent["generationConfig"]["responseJsonSchema"] == schema


def test_counting_leaves_out_generation_settings() -> None:
    translated = to_gemini(request(system="s", tools=[WEATHER]), "gemini-2.5-flash")
    counted = for_counting(translated.request).to_wire()
    assert "generationConfig" not in counted and counted["tools"] and counted["systemInstruction"]
