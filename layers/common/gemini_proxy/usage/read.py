"""Today's usage across every instance: their records in the store, plus this process's live
counts in place of its own (possibly older) records. One store query per read."""

import time
from dataclasses import dataclass

from gemini_proxy.state.base import StateStore
from gemini_proxy.usage.book import FailureNote, Sheet, Tally, UsageBook
from gemini_proxy.usage.day import quota_day
from gemini_proxy.usage.flush import NAMESPACE


@dataclass
class DayUsage:
    day: str
    sheets: dict[str, Sheet]  # by credential fingerprint, summed over instances
    instances: int  # processes that counted something today (this one included)

    def of(self, credential: str) -> Sheet:
        return self.sheets.get(credential) or Sheet()

    def by_model(self) -> dict[str, Tally]:
        totals: dict[str, Tally] = {}
        for sheet in self.sheets.values():
            for model, tally in sheet.models.items():
                totals.setdefault(model, Tally()).add(tally)
        return dict(sorted(totals.items()))

    def recent_failures(self, limit: int) -> list[FailureNote]:
        notes = [note for sheet in self.sheets.values() for note in sheet.recent]
        return sorted(notes, key=lambda note: note.at, reverse=True)[:limit]


def total(sheet: Sheet) -> Tally:
    summed = Tally()
    for tally in sheet.models.values():
        summed.add(tally)
    return summed


async def read_day(store: StateStore, book: UsageBook | None = None) -> DayUsage:
    """Today's usage; `book` is this process's (None from the CLI, which counts nothing)."""
    day = book.today() if book is not None else quota_day(time.time())[0]
    own = book.instance if book is not None else None
    sheets = {fp: sheet.copy() for fp, sheet in (book.sheets(day) if book else {}).items()}
    instances = {own} if sheets else set()
    for record in await store.query(NAMESPACE):
        data = record.data
        if data.get("day") != day or data.get("instance") == own:
            continue
        credential = str(data.get("credential"))
        sheets.setdefault(credential, Sheet()).merge(data, credential)
        instances.add(data.get("instance"))
    return DayUsage(day, sheets, len(instances))
