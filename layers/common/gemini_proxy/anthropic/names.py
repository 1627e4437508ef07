"""Claude model names -> Gemini models, through the configured `anthropic.model_map`. Pure.

Claude Code asks for its own names (`claude-opus-5-5` for the main model, a haiku for
background work) and changes them with every release, so the map takes patterns: `*` matches
any run of characters, nothing else is special (a `[1m]` in a name is literal text).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelMap:
    exact: dict[str, str]
    patterns: list[tuple[re.Pattern[str], str, str]]  # (compiled, pattern as written, target)

    @classmethod
    def from_config(cls, entries: Mapping[str, str]) -> "ModelMap":
        exact = {name: target for name, target in entries.items() if "*" not in name}
        patterns = [
            (_compile(name), name, target) for name, target in entries.items() if "*" in name
        ]
        return cls(exact, patterns)

    def target(self, requested: str) -> str | None:
        """The Gemini model for a Claude name, or None when no entry matches."""
        if requested in self.exact:
            return self.exact[requested]
        for pattern, _, target in self.patterns:
            if pattern.fullmatch(requested):
                return target
        return None

    def resolve(self, requested: str) -> str:
        return self.target(requested) or requested

    def entries(self) -> list[tuple[str, str]]:
        """Every entry as configured: exact names first, then the patterns in order."""
        return [*self.exact.items(), *((written, target) for _, written, target in self.patterns)]


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(piece) for piece in pattern.split("*")), re.DOTALL)
