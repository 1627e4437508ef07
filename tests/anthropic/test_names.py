"""Claude model names -> Gemini models through the configured map."""

from gemini_proxy.anthropic.names import ModelMap
from gemini_proxy.config import Config


def test_the_default_map_covers_claude_codes_names() -> None:
    names = ModelMap.from_config(Config().anthropic.model_map)
    assert names.resolve("claude-opus-5-5") == "gemini-2.5-pro"
    assert names.resolve("claude-sonnet-4-5-20250929") == "gemini-2.5-pro"
    assert names.resolve("claude-3-5-haiku-20241022") == "gemini-2.5-flash"
    assert names.resolve("claude-haiku-4-5") == "gemini-2.5-flash"
    assert names.resolve("claude-fable-5-2") == "gemini-2.5-pro"  # any later family
    assert names.resolve("gemini-3-flash-preview") == "gemini-3-flash-preview"  # passes through
    assert names.target("gpt-4o") is None


def test_exact_names_win_over_patterns_and_patterns_go_in_order() -> None:
    names = ModelMap.from_config(
        {"claude-*": "gemini-2.5-pro", "claude-*haiku*": "never", "claude-haiku-4-5": "exact"}
    )
    assert names.resolve("claude-haiku-4-5") == "exact"
    assert names.resolve("claude-3-haiku") == "gemini-2.5-pro"  # the first pattern matched
    assert names.entries() == [
        ("claude-haiku-4-5", "exact"),
        ("claude-*", "gemini-2.5-pro"),
        ("claude-*haiku*", "never"),
    ]


def test_only_the_star_is_special() -> None:
    names = ModelMap.from_config({"claude-sonnet-4-5[1m]": "long", "claude-?x*": "odd"})
    assert names.resolve("claude-sonnet-4-5[1m]") == "long"
    assert names.target("claude-sonnet-4-51") is None
    assert names.resolve("claude-?x-1") == "odd"
    assert names.target("claude-ax-1") is None
