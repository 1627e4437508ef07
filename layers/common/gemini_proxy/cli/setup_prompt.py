"""Asking the wizard's questions: from a person, from an answers file, or by taking defaults.

Every question has an id (what an `--answers` file names) and a default. Interactively, an empty
answer takes the default and a wrong one is explained and asked again. Scripted (`--answers` or
`--yes`), nobody is there to ask again, so a wrong answer stops the run before anything is
written, and a question the file leaves out takes its default.
"""

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO, TypeVar

from gemini_proxy.cli.i18n import Messages

T = TypeVar("T")

YES_WORDS = frozenset({"y", "yes", "s", "si", "sí", "true", "1"})
NO_WORDS = frozenset({"n", "no", "false", "0"})


class AnswerError(Exception):
    """A scripted answer cannot be used; the message names the question and says why."""


@dataclass(frozen=True)
class Option:
    value: str  # what the answer means to the program (and what an answers file may say)
    name: str  # what a person types, in their language
    description: str


def answer_text(value: object) -> str:
    """An answers-file value as typed text (YAML turns `yes` and `8787` into other types)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class Asker:
    def __init__(
        self,
        messages: Messages,
        answers: Mapping[str, object] | None = None,
        assume_yes: bool = False,
        out: TextIO | None = None,
        read: Callable[[str], str] = input,
    ) -> None:
        self._m = messages
        self._answers = answers
        self._scripted = answers is not None or assume_yes
        self._out = out or sys.stdout
        self._read = read

    def say(self, text: str = "") -> None:
        print(text, file=self._out, flush=True)

    def ask(
        self,
        qid: str,
        prompt: str,
        default: T,
        parse: Callable[[str], T],
        shown_default: str | None = None,
        help_lines: Sequence[str] = (),
    ) -> T:
        for line in help_lines:
            self.say(line)
        line = f"{prompt} [{default if shown_default is None else shown_default}]: "
        if self._answers is not None and qid in self._answers:
            raw = answer_text(self._answers[qid]).strip()
            try:
                value = parse(raw) if raw else default
            except ValueError as exc:
                raise AnswerError(self._m("error.answer", id=qid, problem=exc)) from None
            self.say(line + raw)
            return value
        if self._scripted:
            self.say(line + (shown_default if shown_default is not None else str(default)))
            return default
        while True:
            raw = self._read(line).strip()
            if not raw:
                return default
            try:
                return parse(raw)
            except ValueError as exc:
                self.say(f"  {exc}")

    # --- typed questions -----------------------------------------------------------------

    def yes_no(self, qid: str, prompt: str, default: bool) -> bool:
        shown = self._m("yes.name") if default else self._m("no.name")
        return self.ask(qid, prompt, default, self._yes_no, shown)

    def _yes_no(self, raw: str) -> bool:
        word = raw.strip().lower()
        if word in YES_WORDS or word == self._m("yes.name").lower():
            return True
        if word in NO_WORDS or word == self._m("no.name").lower():
            return False
        raise ValueError(self._m("error.yes_no"))

    def integer(self, qid: str, prompt: str, default: int, low: int, high: int) -> int:
        def parse(raw: str) -> int:
            try:
                value = int(raw.replace("_", ""))
            except ValueError:
                raise ValueError(self._m("error.integer", low=low, high=high)) from None
            if not low <= value <= high:
                raise ValueError(self._m("error.integer", low=low, high=high))
            return value

        return self.ask(qid, prompt, default, parse)

    def seconds(self, qid: str, prompt: str, default: float) -> float:
        def parse(raw: str) -> float:
            try:
                value = float(raw.replace(",", "."))
            except ValueError:
                raise ValueError(self._m("error.positive")) from None
            if not value > 0 or value != value or value == float("inf"):
                raise ValueError(self._m("error.positive"))
            return value

        return self.ask(qid, prompt, default, parse, f"{default:g}")

    def text(
        self,
        qid: str,
        prompt: str,
        default: str,
        check: Callable[[str], object],
        error_key: str = "error.empty",
    ) -> str:
        def parse(raw: str) -> str:
            if not check(raw):
                raise ValueError(self._m(error_key))
            return raw

        return self.ask(qid, prompt, default, parse)

    def choice(self, qid: str, prompt: str, options: Sequence[Option], default: str) -> str:
        lines = [
            f"  {number}) {option.name} — {option.description}"
            for number, option in enumerate(options, 1)
        ]
        by_word: dict[str, str] = {}
        for number, option in enumerate(options, 1):
            for word in (str(number), option.value, option.name):
                by_word[word.lower()] = option.value

        def parse(raw: str) -> str:
            found = by_word.get(raw.strip().lower())
            if found is None:
                names = ", ".join(option.name for option in options)
                raise ValueError(self._m("error.choice", count=len(options), names=names))
            return found

        shown = next(option.name for option in options if option.value == default)
        # The question first, then the options, then a short line to answer on.
        return self.ask(qid, self._m("choice.prompt"), default, parse, shown, [prompt, *lines])
