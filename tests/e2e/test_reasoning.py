"""Reasoning end to end: `reasoning_effort` -> Gemini's thinking controls, thoughts -> OpenAI.

The fake reports thought tokens from the thinking options it received (a budget caps them, a
level sets them) and returns thought parts when `includeThoughts` is set. The reference counts
come from the fake itself: the body the proxy sent is replayed to it directly.
"""

from typing import Any

import pytest
from openai import OpenAI

from gemini_proxy.config import ReasoningConfig
from tests.e2e.chat_helpers import collect, complete, last_body, stream
from tests.e2e.conftest import KEYS, ProxyFactory, proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import post_json

PROMPT = [{"role": "user", "content": "Why is the sky blue?"}]

# effort -> the thinkingConfig fields the proxy must send (includeThoughts aside).
EXPECTED: dict[str, dict[str, dict[str, Any]]] = {
    "gemini-2.5-flash": {
        "none": {"thinkingBudget": 0},  # really off: Flash allows it
        "minimal": {"thinkingBudget": 512},
        "low": {"thinkingBudget": 1024},
        "medium": {"thinkingBudget": 8192},
        "high": {"thinkingBudget": 24576},
    },
    "gemini-2.5-pro": {
        "none": {"thinkingBudget": 128},  # Pro cannot stop thinking: its minimum
        "minimal": {"thinkingBudget": 512},
        "low": {"thinkingBudget": 1024},
        "medium": {"thinkingBudget": 8192},
        "high": {"thinkingBudget": 24576},
    },
    "gemini-2.5-flash-lite": {
        "none": {"thinkingBudget": 0},
        "minimal": {"thinkingBudget": 512},
        "low": {"thinkingBudget": 1024},
        "medium": {"thinkingBudget": 8192},
        "high": {"thinkingBudget": 24576},
    },
    "gemini-3-flash-preview": {
        "none": {"thinkingLevel": "minimal"},  # Gemini 3 always thinks a little
        "minimal": {"thinkingLevel": "minimal"},
        "low": {"thinkingLevel": "low"},
        "medium": {"thinkingLevel": "medium"},
        "high": {"thinkingLevel": "high"},
    },
    "gemini-3-pro-preview": {  # Pro knows only low and high
        "none": {"thinkingLevel": "low"},
        "minimal": {"thinkingLevel": "low"},
        "low": {"thinkingLevel": "low"},
        "medium": {"thinkingLevel": "high"},
        "high": {"thinkingLevel": "high"},
    },
}


def fake_usage(fake: FakeGemini, model: str, body: dict[str, Any]) -> dict[str, Any]:
    """What the fake itself reports for this exact request."""
    reply = post_json(
        f"{fake.url}/v1beta/models/{model}:generateContent", body, {"x-goog-api-key": KEYS[0]}
    )
    assert reply.status == 200, reply.body
    usage: dict[str, Any] = reply.json()["usageMetadata"]
    return usage


@pytest.mark.parametrize("model", list(EXPECTED))
def test_reasoning_effort_sets_thinking_and_thoughts_come_back(
    client: OpenAI, fake: FakeGemini, model: str
) -> None:
    for effort, expected in EXPECTED[model].items():
        request = {"model": model, "messages": PROMPT, "reasoning_effort": effort}
        body = complete(client, **request)
        sent = last_body(fake.requests())
        thinking = sent["generationConfig"]["thinkingConfig"]
        thoughts_wanted = effort != "none"  # "none" asks for no thoughts back
        assert thinking == {**expected, **({"includeThoughts": True} if thoughts_wanted else {})}

        message = body["choices"][0]["message"]
        assert message["content"] == "Echo: Why is the sky blue?"
        reference = fake_usage(fake, model, sent)
        thoughts = reference.get("thoughtsTokenCount", 0)
        usage = body["usage"]
        assert usage["completion_tokens_details"]["reasoning_tokens"] == thoughts
        assert usage["completion_tokens"] == reference.get("candidatesTokenCount", 0) + thoughts
        assert usage["total_tokens"] == reference["totalTokenCount"]
        if effort == "none" and model.endswith(("flash", "flash-lite")):
            assert thoughts == 0 and "reasoning_content" not in message
        else:
            assert thoughts > 0
        if thoughts_wanted:
            assert message["reasoning_content"].startswith("**Considering the request**")
        else:
            assert "reasoning_content" not in message

        chunks = stream(client, **request, stream_options={"include_usage": True})
        got = collect(chunks)
        assert last_body(fake.requests())["generationConfig"]["thinkingConfig"] == thinking
        assert got.content == message["content"]
        assert got.reasoning == (message.get("reasoning_content") or "")
        assert got.usage is not None
        assert got.usage["completion_tokens_details"]["reasoning_tokens"] == thoughts
        if thoughts_wanted:
            # Thoughts come first, as deltas of their own.
            first = next(c for c in chunks if c["choices"])["choices"][0]["delta"]
            assert first["role"] == "assistant" and first.get("reasoning_content")
            assert "content" not in first


def test_without_reasoning_effort_no_thinking_config_is_sent(
    client: OpenAI, fake: FakeGemini
) -> None:
    body = complete(client, model="gemini-2.5-flash", messages=PROMPT)
    assert "generationConfig" not in last_body(fake.requests())
    assert "reasoning_content" not in body["choices"][0]["message"]
    # The model still thought by default, and that is counted.
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_models_that_do_not_think_get_no_thinking_config(client: OpenAI, fake: FakeGemini) -> None:
    body = complete(client, model="gemini-2.0-flash", messages=PROMPT, reasoning_effort="high")
    assert "generationConfig" not in last_body(fake.requests())
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_think_tags_put_thoughts_in_content(
    start_proxy: ProxyFactory, fake: FakeGemini, streamed: bool
) -> None:
    config = proxy_config(fake, reasoning=ReasoningConfig(think_tags=True))
    proxy = start_proxy(config=config)
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    request = {"model": "gemini-3-flash-preview", "messages": PROMPT, "reasoning_effort": "low"}
    if streamed:
        chunks = stream(client, **request)
        assert all(
            "reasoning_content" not in c["choices"][0]["delta"] for c in chunks if c["choices"]
        )
        content = collect(chunks).content
    else:
        message = complete(client, **request)["choices"][0]["message"]
        assert "reasoning_content" not in message
        content = message["content"]
    assert content.startswith("<think>**Considering the request**")
    assert content.endswith("</think>\nEcho: Why is the sky blue?")
    assert content.count("<think>") == 1 and content.count("</think>") == 1


@pytest.mark.parametrize(("mode", "included"), [("always", True), ("never", False)])
def test_include_thoughts_setting(
    start_proxy: ProxyFactory, fake: FakeGemini, mode: str, included: bool
) -> None:
    config = proxy_config(fake, reasoning=ReasoningConfig(include_thoughts=mode))
    proxy = start_proxy(config=config)
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0)
    message = complete(client, model="gemini-2.5-flash", messages=PROMPT)["choices"][0]["message"]
    assert ("reasoning_content" in message) is included
    message = complete(client, model="gemini-2.5-flash", messages=PROMPT, reasoning_effort="high")[
        "choices"
    ][0]["message"]
    assert ("reasoning_content" in message) is included
    thinking = last_body(fake.requests())["generationConfig"]["thinkingConfig"]
    assert thinking.get("includeThoughts", False) is included
