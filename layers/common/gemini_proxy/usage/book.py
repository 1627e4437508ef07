"""Today's usage as this process saw it: a few dictionary updates per request, no I/O.

Per credential (by fingerprint) and model: requests it answered, attempts that failed on it
(failovers, broken streams), and tokens; per credential its last few failures. Days are Google's
quota days (midnight US Pacific). The flusher writes one record per (day, credential, instance)
from here; readers add the other instances' records to it.
"""

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.generation.outcome import Outcome
from gemini_proxy.upstream.classify import Failure, FailureKind, redact
from gemini_proxy.usage.day import quota_day

# A client may name any model; past this many per credential and day they count as OTHER, so
# invented names cost no memory.
MAX_MODELS = 64
OTHER = "other"
RECENT = 8  # failures remembered per credential
MESSAGE_CHARS = 300
# A client that hung up did nothing wrong to the credential, nor did the credential.
_NOT_A_FAILURE = frozenset({"client_disconnected"})
_CLIENTS_OWN = frozenset({FailureKind.CLIENT_ERROR, FailureKind.MODEL_NOT_FOUND})

SheetKey = tuple[str, str]  # (day, fingerprint)


@dataclass(slots=True)
class Tally:
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def to_data(self) -> list[int]:
        return [self.requests, self.errors, self.input_tokens, self.output_tokens]

    @classmethod
    def from_data(cls, data: Any) -> "Tally":
        if not isinstance(data, list) or len(data) != 4:
            return cls()
        return cls(*(int(value) if isinstance(value, int | float) else 0 for value in data))

    def add(self, other: "Tally") -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens


@dataclass(frozen=True, slots=True)
class FailureNote:
    at: float  # epoch seconds
    credential: str
    model: str
    kind: str
    status: int
    message: str

    def to_data(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "model": self.model,
            "kind": self.kind,
            "status": self.status,
            "message": self.message,
        }

    @classmethod
    def from_data(cls, credential: str, data: Any) -> "FailureNote | None":
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                float(data["at"]),
                credential,
                str(data["model"]),
                str(data["kind"]),
                int(data["status"]),
                str(data["message"])[:MESSAGE_CHARS],
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(slots=True)
class Sheet:
    """One credential's day in one process."""

    models: dict[str, Tally] = field(default_factory=dict)
    recent: deque[FailureNote] = field(default_factory=lambda: deque(maxlen=RECENT))

    def tally(self, model: str) -> Tally:
        found = self.models.get(model)
        if found is None:
            if len(self.models) >= MAX_MODELS:
                model = OTHER
            found = self.models.setdefault(model, Tally())
        return found

    def to_data(self) -> dict[str, Any]:
        return {
            "models": {model: tally.to_data() for model, tally in self.models.items()},
            "recent": [note.to_data() for note in self.recent],
        }

    def merge(self, data: dict[str, Any], credential: str) -> None:
        """Add another instance's record of the same credential and day."""
        models = data.get("models")
        if isinstance(models, dict):
            for model, counts in models.items():
                self.tally(str(model)).add(Tally.from_data(counts))
        recent = data.get("recent")
        if isinstance(recent, list):
            notes = [FailureNote.from_data(credential, item) for item in recent]
            merged = sorted([*self.recent, *(n for n in notes if n)], key=lambda n: n.at)
            self.recent = deque(merged[-RECENT:], maxlen=RECENT)

    def copy(self) -> "Sheet":
        return Sheet(
            {model: Tally(*tally.to_data()) for model, tally in self.models.items()},
            deque(self.recent, maxlen=RECENT),
        )


class UsageBook:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        # A random name per process: each writes only its own records, so no two ever race.
        self.instance = secrets.token_hex(6)
        self._clock = clock
        self._sheets: dict[SheetKey, Sheet] = {}
        self.dirty: set[SheetKey] = set()
        self._day, self._day_ends = quota_day(clock())

    def today(self) -> str:
        now = self._clock()
        if now >= self._day_ends:
            self._day, self._day_ends = quota_day(now)
        return self._day

    def _sheet(self, credential: str) -> Sheet:
        key = (self.today(), credential)
        self.dirty.add(key)
        sheet = self._sheets.get(key)
        if sheet is None:
            sheet = self._sheets[key] = Sheet()
        return sheet

    def record(self, outcome: Outcome) -> None:
        """A finished request: counted if a credential answered it."""
        credential, model = outcome.credential, outcome.served_model
        if credential is None or model is None:
            return
        sheet = self._sheet(credential)
        tally = sheet.tally(model)
        tally.requests += 1
        if outcome.tokens is not None:
            tally.input_tokens += outcome.tokens.input
            tally.output_tokens += outcome.tokens.output
        if outcome.error is not None and outcome.error not in _NOT_A_FAILURE:
            tally.errors += 1
            message = "the answer broke off after it had started"
            sheet.recent.append(
                FailureNote(self._clock(), credential, model, outcome.error, 0, message)
            )

    def failed(self, credential: str, model: str, failure: Failure) -> None:
        """An attempt that failed on `credential` (the pool hears of every one). A request
        Google refused as the client's own mistake says nothing of the credential: not counted
        (the request's log line has it)."""
        if failure.kind in _CLIENTS_OWN:
            return
        sheet = self._sheet(credential)
        sheet.tally(model).errors += 1
        kind = failure.kind.value + (f": {failure.reason}" if failure.reason else "")
        message = redact(failure.message)[:MESSAGE_CHARS]
        sheet.recent.append(
            FailureNote(self._clock(), credential, model, kind, failure.status, message)
        )

    def sheets(self, day: str) -> dict[str, Sheet]:
        """This process's sheets of `day`, by credential (live: not copies)."""
        return {fp: sheet for (d, fp), sheet in self._sheets.items() if d == day}

    def snapshot(self, key: SheetKey) -> dict[str, Any]:
        return self._sheets[key].to_data()

    def drop_written_days(self) -> None:
        """Sheets of past days go once written: their records in the store hold them."""
        today = self.today()
        for key in [k for k in self._sheets if k[0] != today and k not in self.dirty]:
            del self._sheets[key]
