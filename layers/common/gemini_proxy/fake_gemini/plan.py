"""What a validated request asks for, read once, plus the fake's token arithmetic.

Token counting is deliberately simple so tests can predict it:
- text: one token per whitespace-separated word;
- inlineData / fileData: 258 tokens (what Google charges for an image);
- functionCall / functionResponse / other structured parts: len(compact JSON) // 4, at least 1;
- tool declarations add len(compact JSON of `tools`) // 4 to the prompt.
maxOutputTokens therefore truncates an answer to that many words.
"""

from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_json

from .catalog import ModelInfo

MEDIA_TOKENS = 258
# Thought tokens the fake "spends": dynamic thinking, per Gemini 3 level, and the cap a budget hits.
DYNAMIC_THOUGHTS = 96
LEVEL_THOUGHTS = {"MINIMAL": 8, "LOW": 32, "MEDIUM": 64, "HIGH": 128}


def text_tokens(text: str) -> int:
    return len(text.split())


def json_tokens(value: Any) -> int:
    return max(1, len(to_json(value)) // 4)


def part_tokens(part: dict[str, Any]) -> int:
    text = part.get("text")
    if isinstance(text, str):
        return text_tokens(text)
    if "inlineData" in part or "inline_data" in part or "fileData" in part or "file_data" in part:
        return MEDIA_TOKENS
    return json_tokens(part)


def content_tokens(contents: list[Any]) -> int:
    total = 0
    for content in contents:
        if isinstance(content, dict):
            for part in content.get("parts") or ():
                if isinstance(part, dict):
                    total += part_tokens(part)
    return total


@dataclass(slots=True)
class Plan:
    """A request's meaning, normalised (camelCase keys, canonical enum names)."""

    model: ModelInfo
    contents: list[dict[str, Any]]
    prompt_tokens: int = 0
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Declared functions by name, in declaration order."""
    mode: str = "AUTO"
    allowed: list[str] = field(default_factory=list)
    candidate_count: int = 1
    max_output_tokens: int | None = None
    stop_sequences: list[str] = field(default_factory=list)
    response_mime_type: str = "text/plain"
    response_schema: Any = None
    thoughts_tokens: int = 0
    include_thoughts: bool = False
    google_search: bool = False
