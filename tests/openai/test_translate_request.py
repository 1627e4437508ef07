"""OpenAI chat request -> Gemini inner request (`to_gemini`, `media_urls`)."""

import base64
from typing import Any

import pytest

from gemini_proxy.errors import InvalidRequest, Unsupported
from gemini_proxy.openai.models import ChatCompletionRequest
from gemini_proxy.openai.translate_request import Translated, media_urls, to_gemini
from gemini_proxy.openai.translate_response import to_chat_completion
from gemini_proxy.upstream.wire import Blob, GenerateContentResponse

FLASH = "gemini-2.5-flash"
PRO = "gemini-2.5-pro"
G3_FLASH = "gemini-3-flash-preview"
G3_PRO = "gemini-3-pro-preview"
PNG_DATA = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"  # a PNG header, base64
USER_HI = {"role": "user", "content": "hi"}


def request(messages: list[dict[str, Any]] | None = None, **fields: Any) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate(
        {"model": "my-model", "messages": messages or [USER_HI], **fields}
    )


def translate(
    messages: list[dict[str, Any]] | None = None,
    model: str = FLASH,
    media: dict[str, Blob] | None = None,
    include_thoughts: bool = False,
    **fields: Any,
) -> Translated:
    return to_gemini(request(messages, **fields), model, media, include_thoughts)


def wire(messages: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    return translate(messages, **fields).request.to_wire()


def refused(messages: list[dict[str, Any]] | None = None, **fields: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        translate(messages, **fields)
    assert caught.value.status == 400
    assert caught.value.type == "invalid_request_error"
    return caught.value


def turns(body: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(c["role"], [p["text"] for p in c["parts"]]) for c in body["contents"]]


# --- roles and turns ------------------------------------------------------------------------


def test_minimal_request_wire_shape() -> None:
    translated = translate()
    assert translated.request.to_wire() == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}]
    }
    assert translated.tool_names == {}


def test_system_and_developer_messages_become_system_instruction_in_order() -> None:
    body = wire(
        [
            {"role": "system", "content": "one"},
            {"role": "user", "content": "question"},
            {"role": "developer", "content": [{"type": "text", "text": "two"}]},
            {"role": "system", "content": [{"type": "text", "text": "three"}]},
        ]
    )
    assert body["systemInstruction"] == {
        "parts": [{"text": "one"}, {"text": "two"}, {"text": "three"}]
    }
    assert turns(body) == [("user", ["question"])]
    assert "system_instruction" not in body


def test_user_and_assistant_alternate_as_user_and_model_turns() -> None:
    body = wire(
        [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c"},
        ]
    )
    assert turns(body) == [("user", ["a"]), ("model", ["b"]), ("user", ["c"])]


def test_consecutive_same_role_messages_are_merged_into_one_turn() -> None:
    body = wire(
        [
            {"role": "user", "content": "a"},
            {"role": "user", "content": [{"type": "text", "text": "b"}]},
            {"role": "assistant", "content": "c"},
            {"role": "assistant", "content": [{"type": "text", "text": "d"}]},
            {"role": "user", "content": "e"},
        ]
    )
    assert turns(body) == [("user", ["a", "b"]), ("model", ["c", "d"]), ("user", ["e"])]


def test_empty_text_is_dropped_and_an_emptied_turn_does_not_split_a_merge() -> None:
    body = wire(
        [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": ""},
            {"role": "assistant", "content": None},
            {
                "role": "user",
                "content": [{"type": "text", "text": ""}, {"type": "text", "text": "b"}],
            },
        ]
    )
    assert turns(body) == [("user", ["a", "b"])]


def test_empty_system_message_adds_no_system_instruction() -> None:
    assert "systemInstruction" not in wire([{"role": "system", "content": ""}, USER_HI])


def test_assistant_refusal_and_content_parts_become_model_text() -> None:
    body = wire(
        [
            USER_HI,
            {"role": "assistant", "content": None, "refusal": "I can't."},
            USER_HI,
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "x"}, {"type": "refusal", "refusal": "y"}],
            },
        ]
    )
    assert turns(body) == [
        ("user", ["hi"]),
        ("model", ["I can't."]),
        ("user", ["hi"]),
        ("model", ["x", "y"]),
    ]


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "system", "content": "only a system prompt"}],
        [{"role": "system", "content": "s"}, {"role": "developer", "content": "d"}],
        [{"role": "user", "content": ""}],
        [{"role": "user", "content": []}, {"role": "assistant", "content": None}],
    ],
    ids=["system-only", "system-and-developer", "empty-user", "all-empty"],
)
def test_conversation_without_user_or_assistant_content_is_a_400(
    messages: list[dict[str, Any]],
) -> None:
    error = refused(messages)
    assert error.param == "messages"
    assert not isinstance(error, Unsupported)


# --- generation config ----------------------------------------------------------------------


def test_no_sampling_fields_means_no_generation_config() -> None:
    assert "generationConfig" not in wire()


def test_generation_config_uses_camel_case_names_and_values() -> None:
    body = wire(
        temperature=0.7,
        top_p=0.9,
        n=2,
        stop=["END", "STOP"],
        max_tokens=100,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        seed=42,
    )
    assert body["generationConfig"] == {
        "temperature": 0.7,
        "topP": 0.9,
        "candidateCount": 2,
        "maxOutputTokens": 100,
        "stopSequences": ["END", "STOP"],
        "presencePenalty": 0.5,
        "frequencyPenalty": -0.5,
        "seed": 42,
    }


def test_unset_fields_are_omitted_and_zero_values_kept() -> None:
    assert wire(temperature=0, seed=0)["generationConfig"] == {"temperature": 0, "seed": 0}


def test_stop_string_becomes_one_stop_sequence() -> None:
    assert wire(stop="###")["generationConfig"] == {"stopSequences": ["###"]}


def test_empty_stop_list_is_omitted() -> None:
    assert "generationConfig" not in wire(stop=[])


def test_five_stop_sequences_are_accepted() -> None:
    stops = ["a", "b", "c", "d", "e"]
    assert wire(stop=stops)["generationConfig"]["stopSequences"] == stops


def test_more_than_five_stop_sequences_are_refused() -> None:
    assert refused(stop=["a", "b", "c", "d", "e", "f"]).param == "stop"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"max_tokens": 50}, 50),
        ({"max_completion_tokens": 70}, 70),
        ({"max_tokens": 50, "max_completion_tokens": 70}, 70),
        ({"max_completion_tokens": 70, "max_tokens": 500}, 70),
    ],
)
def test_max_completion_tokens_takes_precedence_over_max_tokens(
    fields: dict[str, int], expected: int
) -> None:
    assert wire(**fields)["generationConfig"] == {"maxOutputTokens": expected}


# --- media parts ----------------------------------------------------------------------------


def user_parts(*parts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(parts)}]


def image(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, "detail": "low"}}


def test_image_data_url_becomes_inline_data() -> None:
    body = wire(
        user_parts(
            {"type": "text", "text": "what is this?"}, image(f"data:image/png;base64,{PNG_DATA}")
        )
    )
    assert body["contents"] == [
        {
            "role": "user",
            "parts": [
                {"text": "what is this?"},
                {"inlineData": {"mimeType": "image/png", "data": PNG_DATA}},
            ],
        }
    ]


def test_media_urls_lists_only_urls_that_need_fetching() -> None:
    req = request(
        [
            {"role": "system", "content": "s"},
            *user_parts(
                {"type": "text", "text": "x"},
                image("https://example.com/a.png"),
                image(f"data:image/png;base64,{PNG_DATA}"),
            ),
            {"role": "assistant", "content": "ok"},
            *user_parts(image("http://example.com/b.jpg")),
        ]
    )
    assert media_urls(req) == [
        ("https://example.com/a.png", "messages[1].content[1].image_url"),
        ("http://example.com/b.jpg", "messages[3].content[0].image_url"),
    ]
    assert media_urls(request()) == []


def test_fetched_image_url_becomes_inline_data() -> None:
    url = "https://example.com/cat.png"
    media = {url: Blob(mime_type="image/png", data=PNG_DATA)}
    body = wire(user_parts(image(url)), media=media)
    assert body["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "image/png", "data": PNG_DATA}}
    ]


@pytest.mark.parametrize("url", ["https://example.com/cat.png", "http://127.0.0.1/cat.png"])
def test_image_url_that_was_not_fetched_is_refused(url: str) -> None:
    messages = user_parts({"type": "text", "text": "x"}, image(url))
    error = refused(messages, media={"https://other.example/x.png": Blob(mime_type="a", data="b")})
    assert isinstance(error, Unsupported)
    assert error.code == "unsupported_parameter"
    assert error.param == "messages[0].content[1].image_url"


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png,AAAA",  # not base64
        "data:;base64,AAAA",  # no media type
        "data:image/png;base64,",  # no data
        "data:image/png;base64",  # no comma
        "data:image/png;charset=x,AAAA",
    ],
)
def test_malformed_data_url_is_a_400_naming_the_part(url: str) -> None:
    error = refused([USER_HI, *user_parts(image(url))])
    assert not isinstance(error, Unsupported)
    assert error.param == "messages[1].content[0].image_url.url"


@pytest.mark.parametrize(("fmt", "mime"), [("wav", "audio/wav"), ("mp3", "audio/mp3")])
def test_input_audio_becomes_inline_data(fmt: str, mime: str) -> None:
    part = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": fmt}}
    assert wire(user_parts(part))["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": mime, "data": "UklGRg=="}}
    ]


@pytest.mark.parametrize(
    "audio",
    [{"data": "UklGRg==", "format": "flac"}, {"format": "wav"}, {"data": 5, "format": "wav"}],
)
def test_bad_input_audio_is_a_400(audio: dict[str, Any]) -> None:
    error = refused(user_parts({"type": "input_audio", "input_audio": audio}))
    assert error.param == "messages[0].content[0].input_audio"


def test_file_part_with_data_url_becomes_inline_data() -> None:
    part = {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}}
    assert wire(user_parts(part))["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}}
    ]


def test_file_part_by_id_is_refused() -> None:
    error = refused(user_parts({"type": "file", "file": {"file_id": "file-123"}}))
    assert isinstance(error, Unsupported)
    assert error.param == "messages[0].content[0].file"


# --- refused parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "logprobs"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ({"prediction": {"type": "content", "content": "x"}}, "prediction"),
        ({"functions": [{"name": "f", "parameters": {}}]}, "functions"),
        ({"function_call": {"name": "f"}}, "functions"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
    ],
)
def test_unsupported_parameters_are_refused_by_name(fields: dict[str, Any], param: str) -> None:
    error = refused(**fields)
    assert isinstance(error, Unsupported)
    assert error.code == "unsupported_parameter"
    assert error.param == param
    assert f"'{param}'" in error.message


@pytest.mark.parametrize(
    "fields",
    [
        {"tool_choice": "none"},
        {"tool_choice": "auto"},
        {"function_call": "none"},
        {"response_format": {"type": "text"}},
        {"logprobs": False},
        {"logit_bias": {}},
        {"modalities": ["text"]},
        {"tools": []},
        {"parallel_tool_calls": False, "user": "u-1", "stream": True},
        {"stream_options": {"include_usage": True}},
    ],
)
def test_harmless_values_of_known_parameters_change_nothing(fields: dict[str, Any]) -> None:
    assert wire(**fields) == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def test_legacy_function_role_message_is_refused() -> None:
    error = refused([USER_HI, {"role": "function", "name": "f", "content": "1"}])
    assert isinstance(error, Unsupported)
    assert error.param == "messages[1]"


def test_unknown_extra_fields_are_ignored() -> None:
    body = wire(
        [{"role": "user", "content": "hi", "x_vendor": 1}],
        store=True,
        metadata={"a": "b"},
        safety_identifier="abc",
        something_new={"nested": [1, 2]},
    )
    assert body == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def test_translation_does_not_mutate_the_request() -> None:
    req = request([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    before = req.model_dump()
    first = to_gemini(req, FLASH).request.to_wire()
    assert to_gemini(req, FLASH).request.to_wire() == first
    assert req.model_dump() == before


# --- response_format ------------------------------------------------------------------------


def test_json_object_response_format() -> None:
    config = wire(response_format={"type": "json_object"})["generationConfig"]
    assert config == {"responseMimeType": "application/json"}


def test_json_schema_response_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": schema}}
    config = wire(response_format=fmt)["generationConfig"]
    assert config == {"responseMimeType": "application/json", "responseJsonSchema": schema}


def test_json_schema_response_format_without_schema_is_a_400() -> None:
    error = refused(response_format={"type": "json_schema", "json_schema": {"name": "x"}})
    assert error.param == "response_format.json_schema.schema"


# --- reasoning ------------------------------------------------------------------------------


def thinking(model: str, **fields: Any) -> dict[str, Any] | None:
    config = wire(model=model, **fields).get("generationConfig", {})
    return config.get("thinkingConfig")


def test_no_reasoning_effort_means_no_thinking_config() -> None:
    assert thinking(FLASH) is None
    assert thinking(G3_PRO) is None


def test_reasoning_effort_none_turns_thinking_off_on_2_5_flash() -> None:
    assert thinking(FLASH, reasoning_effort="none") == {"thinkingBudget": 0}


def test_reasoning_effort_none_lowers_thinking_on_2_5_pro_without_turning_it_off() -> None:
    config = thinking(PRO, reasoning_effort="none")
    assert config is not None
    high = thinking(PRO, reasoning_effort="high")
    assert high is not None
    assert 0 < config["thinkingBudget"] < high["thinkingBudget"]


def test_reasoning_effort_budgets_grow_with_effort_on_2_5() -> None:
    budgets = [
        (thinking(FLASH, reasoning_effort=effort) or {})["thinkingBudget"]
        for effort in ("none", "minimal", "low", "medium", "high")
    ]
    assert budgets == sorted(budgets)
    assert len(set(budgets)) == len(budgets)


@pytest.mark.parametrize("model", [G3_FLASH, G3_PRO])
@pytest.mark.parametrize("effort", ["none", "minimal", "low", "medium", "high"])
def test_gemini_3_takes_a_level_never_a_budget(model: str, effort: str) -> None:
    config = thinking(model, reasoning_effort=effort)
    assert config is not None
    assert "thinkingBudget" not in config
    allowed = {"low", "high"} if "pro" in model else {"minimal", "low", "medium", "high"}
    assert config["thinkingLevel"] in allowed


def test_include_thoughts_asks_for_thought_parts() -> None:
    body = translate(include_thoughts=True, reasoning_effort="low").request.to_wire()
    assert body["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 1024,
        "includeThoughts": True,
    }


def test_invalid_reasoning_effort_is_a_400() -> None:
    assert refused(reasoning_effort="extreme").param == "reasoning_effort"


# --- tools ----------------------------------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def test_tools_become_function_declarations_gemini_accepts() -> None:
    translated = translate(tools=[WEATHER])
    body = translated.request.to_wire()
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                }
            ]
        }
    ]
    assert "toolConfig" not in body
    assert "tools" not in body.get("generationConfig", {})
    assert translated.tool_names == {"get_weather": "get_weather"}


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
    ],
)
def test_tool_choice_becomes_function_calling_config(choice: Any, config: dict[str, Any]) -> None:
    body = wire(tools=[WEATHER], tool_choice=choice)
    assert body["toolConfig"] == {"functionCallingConfig": config}


@pytest.mark.parametrize(
    "fields",
    [
        {"tool_choice": "required"},
        {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "other"}}},
        {"tools": [WEATHER], "tool_choice": "sometimes"},
    ],
    ids=["required-without-tools", "named-without-tools", "unknown-name", "unknown-mode"],
)
def test_impossible_tool_choice_is_a_400(fields: dict[str, Any]) -> None:
    assert refused(**fields).param == "tool_choice"


def test_non_function_tool_is_refused() -> None:
    error = refused(tools=[WEATHER, {"type": "custom", "custom": {"name": "x"}}])
    assert isinstance(error, Unsupported)
    assert error.param == "tools[1]"


def test_web_search_options_enable_google_search() -> None:
    assert wire(web_search_options={})["tools"] == [{"googleSearch": {}}]


def call(call_id: str, name: str = "get_weather", arguments: str = '{"city": "Paris"}') -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


TOOL_ROUND = [
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [call("call_1"), call("call_2", arguments='{"city": "Rome"}')],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 20}'},
    {"role": "tool", "tool_call_id": "call_2", "content": "sunny"},
]


def test_tool_round_trip_history() -> None:
    body = wire(TOOL_ROUND, tools=[WEATHER])
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
        {
            "role": "model",
            "parts": [
                {"text": "Let me check."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
            ],
        },
        {
            # consecutive tool messages: ONE user turn with as many responses as calls
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp": 20}}},
                {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
            ],
        },
    ]


def test_tool_message_for_an_unknown_call_is_a_400() -> None:
    messages = [USER_HI, {"role": "tool", "tool_call_id": "call_x", "content": "1"}]
    assert refused(messages).param == "messages[1].tool_call_id"


@pytest.mark.parametrize("arguments", ["not json", "[1, 2]"])
def test_tool_call_arguments_must_be_a_json_object(arguments: str) -> None:
    messages = [USER_HI, {"role": "assistant", "tool_calls": [call("c", arguments=arguments)]}]
    assert refused(messages).param == "messages[1].tool_calls[0].function.arguments"


def test_gemini_3_history_without_signature_gets_the_documented_dummy() -> None:
    body = wire(TOOL_ROUND, model=G3_FLASH, tools=[WEATHER])
    calls = [p for p in body["contents"][1]["parts"] if "functionCall" in p]
    assert [p["thoughtSignature"] for p in calls] == ["skip_thought_signature_validator"] * 2
    body = wire(TOOL_ROUND, model=FLASH, tools=[WEATHER])
    assert all("thoughtSignature" not in p for p in body["contents"][1]["parts"])


def test_thought_signature_survives_the_openai_round_trip() -> None:
    signature = base64.b64encode(b"\x00opaque-signature\xff").decode()
    answer = GenerateContentResponse.model_validate(
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [
                            {
                                "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}},
                                "thoughtSignature": signature,
                            }
                        ],
                    },
                    "finishReason": "STOP",
                }
            ]
        }
    )
    completion = to_chat_completion(answer, "my-model", "chatcmpl-1", 1)
    tool_call = completion.choices[0].message.tool_calls
    assert tool_call is not None
    echoed = tool_call[0].model_dump()
    messages = [
        USER_HI,
        {"role": "assistant", "content": None, "tool_calls": [echoed]},
        {"role": "tool", "tool_call_id": echoed["id"], "content": "cold"},
    ]
    body = wire(messages, model=G3_PRO, tools=[WEATHER])
    assert body["contents"][1]["parts"] == [
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}},
            "thoughtSignature": signature,
        }
    ]
    assert body["contents"][2]["parts"][0]["functionResponse"]["name"] == "get_weather"


def test_signature_from_extra_content_is_used() -> None:
    tool_call = call("call_plain") | {"extra_content": {"google": {"thought_signature": "c2ln"}}}
    messages = [USER_HI, {"role": "assistant", "tool_calls": [tool_call]}]
    body = wire(messages, model=G3_FLASH, tools=[WEATHER])
    assert body["contents"][1]["parts"][0]["thoughtSignature"] == "c2ln"
