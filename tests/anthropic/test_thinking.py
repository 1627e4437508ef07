"""`thinking` and `output_config.effort` -> Gemini's thinking budget or level."""

from typing import Any

import pytest

from gemini_proxy.anthropic.models import Thinking
from gemini_proxy.anthropic.thinking import thinking_config


def config(
    model: str, thinking: dict[str, Any] | None, effort: str | None = None
) -> dict[str, Any]:
    spec = Thinking.model_validate(thinking) if thinking is not None else None
    found = thinking_config(model, spec, effort)
    return found.to_wire() if found is not None else {}


@pytest.mark.parametrize(
    ("model", "budget", "expected"),
    [
        ("gemini-2.5-flash", 2048, {"thinkingBudget": 2048, "includeThoughts": True}),
        ("gemini-2.5-flash", 60000, {"thinkingBudget": 24576, "includeThoughts": True}),
        ("gemini-2.5-pro", 60000, {"thinkingBudget": 32768, "includeThoughts": True}),
        ("gemini-3-flash-preview", 2048, {"thinkingLevel": "low", "includeThoughts": True}),
        ("gemini-3-flash-preview", 10000, {"thinkingLevel": "medium", "includeThoughts": True}),
        ("gemini-3-pro-preview", 10000, {"thinkingLevel": "high", "includeThoughts": True}),
        ("gemini-3-flash-preview", 30000, {"thinkingLevel": "high", "includeThoughts": True}),
    ],
)
def test_enabled_with_a_budget(model: str, budget: int, expected: dict[str, Any]) -> None:
    assert config(model, {"type": "enabled", "budget_tokens": budget}) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gemini-2.5-flash", {"thinkingBudget": 0}),
        ("gemini-2.5-pro", {"thinkingBudget": 128}),  # 2.5 Pro cannot stop thinking
        ("gemini-3-flash-preview", {"thinkingLevel": "minimal"}),
        ("gemini-3-pro-preview", {"thinkingLevel": "low"}),
    ],
)
def test_disabled(model: str, expected: dict[str, Any]) -> None:
    assert config(model, {"type": "disabled"}) == expected


def test_adaptive_leaves_the_depth_to_the_model_or_to_effort() -> None:
    assert config("gemini-2.5-flash", {"type": "adaptive"}) == {"includeThoughts": True}
    # Claude Code: adaptive thinking, text omitted, medium effort.
    claude_code = {"type": "adaptive", "display": "omitted"}
    assert config("gemini-2.5-pro", claude_code, "medium") == {"thinkingBudget": 8192}
    assert config("gemini-3-pro-preview", claude_code, "medium") == {"thinkingLevel": "high"}
    assert config("gemini-3-flash-preview", claude_code, "max") == {"thinkingLevel": "high"}
    assert config("gemini-3-flash-preview", claude_code, "low") == {"thinkingLevel": "low"}


def test_without_thinking_the_model_keeps_its_default_and_no_thoughts_come_back() -> None:
    assert config("gemini-2.5-flash", None) == {}
    assert config("gemini-2.5-flash", None, "low") == {"thinkingBudget": 1024}


def test_models_that_do_not_think_get_no_thinking_config() -> None:
    assert config("gemini-2.0-flash", {"type": "enabled", "budget_tokens": 2048}) == {}
