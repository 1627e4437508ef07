"""`reasoning_effort` -> Gemini's thinking controls, per model family. Pure.

Gemini 2.5 takes a token budget (`thinkingBudget`; 0 turns thinking off where the model allows,
2.5 Pro cannot turn it off); Gemini 3 takes a level (`thinkingLevel`; Pro knows only low/high).
"""

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.upstream.wire import ThinkingConfig

EFFORTS = ("none", "minimal", "low", "medium", "high")
_BUDGETS = {"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
# 2.5 Pro's smallest budget: it cannot stop thinking altogether.
PRO_MIN_BUDGET = 128
_LEVELS_FLASH = {
    "none": "minimal",
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
}
_LEVELS_PRO = {"none": "low", "minimal": "low", "low": "low", "medium": "high", "high": "high"}


def thinks(model: str) -> bool:
    return model.startswith(("gemini-2.5", "gemini-3"))


def thinking_config(
    model: str, effort: str | None, include_thoughts: bool
) -> ThinkingConfig | None:
    if effort is not None and effort not in EFFORTS:
        raise InvalidRequest(
            f"'reasoning_effort' must be one of {', '.join(EFFORTS)}", param="reasoning_effort"
        )
    if not thinks(model):
        return None  # older models: nothing to control, and they reject thinkingConfig
    include = True if include_thoughts and effort != "none" else None
    if effort is None:
        return ThinkingConfig(include_thoughts=include) if include else None
    if model.startswith("gemini-3"):
        levels = _LEVELS_PRO if "-pro" in model else _LEVELS_FLASH
        return ThinkingConfig(thinking_level=levels[effort], include_thoughts=include)
    budget = _BUDGETS[effort]
    if "-pro" in model:
        budget = max(budget, PRO_MIN_BUDGET)
    return ThinkingConfig(thinking_budget=budget, include_thoughts=include)
