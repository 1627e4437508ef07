"""One line of `gemini-proxy doctor`: a check's name, level, message and fix."""

from dataclasses import dataclass
from typing import Literal

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    message: str
    fix: str | None = None
