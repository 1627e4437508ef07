"""The setup wizard's two languages: which one to speak, and its strings.

English unless `--lang es` or the locale says Spanish. The locale variables are read in POSIX's
order of precedence (LC_ALL, then LC_MESSAGES, then LANG), so a Spanish `LANG` under an English
`LC_ALL` stays English, as every other program on the machine would.
"""

from collections.abc import Mapping
from typing import Literal

from gemini_proxy.cli import messages_en, messages_es

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "es")
_TABLES: dict[Language, dict[str, str]] = {"en": messages_en.MESSAGES, "es": messages_es.MESSAGES}

# Strings that are the same in both languages because they are only names, numbers or
# punctuation (a test checks every other Spanish string differs from its English one).
SAME_IN_BOTH = frozenset(
    {
        "choice.fallback_mode.fallback.name",
        "choice.fallback_mode.combined.name",
        "choice.fallback_mode.disabled.name",
        "no.name",
        "result.line",
        "review.setting",
        "check.title",
    }
)


def detect_language(option: str | None, environ: Mapping[str, str]) -> Language:
    if option == "es":
        return "es"
    if option == "en":
        return "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").strip()
        if value:
            return "es" if value.lower().startswith("es") else "en"
    return "en"


def table(language: Language) -> dict[str, str]:
    return _TABLES[language]


class Messages:
    """`messages("key", name=value)`: the string in the chosen language, filled in."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._table = _TABLES[language]

    def __call__(self, key: str, **values: object) -> str:
        return self._table[key].format(**values)
