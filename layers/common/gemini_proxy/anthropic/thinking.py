"""Anthropic's `thinking` and `output_config.effort` -> Gemini's thinking controls. Pure.

Gemini 2.5 takes a token budget (`thinkingBudget`: 0 turns thinking off where the model allows;
2.5 Pro cannot, its least is 128); Gemini 3 takes a level (`thinkingLevel`; Pro knows only low
and high). Anthropic's `enabled` carries a budget, `adaptive` leaves the depth to the model
(steered by `effort`), `disabled` turns it off. Without `thinking` the model thinks as it does
by default and no thoughts come back, as Anthropic's models answer without thinking blocks.
"""

from gemini_proxy.anthropic.models import Thinking
from gemini_proxy.upstream.wire import ThinkingConfig

# 2.5 budgets per effort; Anthropic's xhigh and max are Gemini's most.
_BUDGETS = {"low": 1024, "medium": 8192, "high": 24576, "xhigh": 32768, "max": 32768}
_LEVELS_FLASH = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_LEVELS_PRO = {"low": "low", "medium": "high", "high": "high", "xhigh": "high", "max": "high"}
# A budget in the middle of these ranges reads as the matching level on Gemini 3.
_LOW_BUDGET = 4096
_MEDIUM_BUDGET = 16384


def thinks(model: str) -> bool:
    return model.startswith(("gemini-2.5", "gemini-3"))


def _pro(model: str) -> bool:
    return "-pro" in model


def _budget_range(model: str) -> tuple[int, int]:
    if _pro(model):
        return 128, 32768
    if "flash-lite" in model:
        return 512, 24576
    return 1, 24576


def _clamped(model: str, budget: int) -> int:
    least, most = _budget_range(model)
    return max(least, min(most, budget))


def _level_of_budget(model: str, budget: int) -> str:
    if budget <= _LOW_BUDGET:
        return "low"
    if budget <= _MEDIUM_BUDGET and not _pro(model):
        return "medium"
    return "high"


def thinking_config(
    model: str, thinking: Thinking | None, effort: str | None
) -> ThinkingConfig | None:
    if not thinks(model):
        return None  # older models: nothing to steer, and they reject thinkingConfig
    gemini_3 = model.startswith("gemini-3")
    if thinking is not None and thinking.type == "disabled":
        if gemini_3:
            return ThinkingConfig(thinking_level="low" if _pro(model) else "minimal")
        return ThinkingConfig(thinking_budget=_clamped(model, 0) if _pro(model) else 0)
    shown = thinking is not None and thinking.display != "omitted"
    include = True if shown else None
    if thinking is not None and thinking.type == "enabled" and thinking.budget_tokens:
        budget = thinking.budget_tokens
        if gemini_3:
            return ThinkingConfig(
                thinking_level=_level_of_budget(model, budget), include_thoughts=include
            )
        return ThinkingConfig(thinking_budget=_clamped(model, budget), include_thoughts=include)
    if effort is not None:
        if gemini_3:
            levels = _LEVELS_PRO if _pro(model) else _LEVELS_FLASH
            return ThinkingConfig(thinking_level=levels[effort], include_thoughts=include)
        return ThinkingConfig(
            thinking_budget=_clamped(model, _BUDGETS[effort]), include_thoughts=include
        )
    return ThinkingConfig(include_thoughts=include) if include else None
