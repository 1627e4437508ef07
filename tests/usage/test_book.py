"""The in-memory usage book: what a finished request and a failed attempt count, per Google's
quota day, within bounded memory."""

from datetime import UTC, datetime

from gemini_proxy.generation.outcome import Outcome, Tokens
from gemini_proxy.upstream.classify import Failure, FailureKind
from gemini_proxy.usage.book import MAX_MODELS, OTHER, RECENT, Sheet, UsageBook
from gemini_proxy.usage.day import quota_day

FLASH = "gemini-2.5-flash"
LIMITED = Failure(FailureKind.RATE_LIMITED, 429, "Quota exceeded", "PerMinute", 30)


def outcome(
    credential: str | None = "aaa",
    model: str | None = FLASH,
    tokens: Tokens | None = None,
    error: str | None = None,
) -> Outcome:
    done = Outcome("req_1", "POST", "/v1/chat/completions", "openai")
    done.credential, done.served_model, done.tokens, done.error = credential, model, tokens, error
    return done


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_quota_day_rolls_at_midnight_us_pacific() -> None:
    # 07:59 UTC on a winter day is 23:59 the day before in California (UTC-8).
    before = datetime(2026, 1, 15, 7, 59, tzinfo=UTC).timestamp()
    day, ends = quota_day(before)
    assert day == "2026-01-14" and ends - before == 60
    assert quota_day(before + 60)[0] == "2026-01-15"
    # Summer: UTC-7, so midnight is 07:00 UTC.
    assert quota_day(datetime(2026, 7, 1, 6, 59, tzinfo=UTC).timestamp())[0] == "2026-06-30"
    assert quota_day(datetime(2026, 7, 1, 7, 0, tzinfo=UTC).timestamp())[0] == "2026-07-01"


def test_a_served_request_counts_once_with_its_tokens() -> None:
    book = UsageBook()
    book.record(outcome(tokens=Tokens(input=10, output=25)))
    book.record(outcome(tokens=Tokens(input=5, output=7)))
    tally = book.sheets(book.today())["aaa"].models[FLASH]
    assert tally.to_data() == [2, 0, 15, 32]
    assert book.dirty == {(book.today(), "aaa")}


def test_requests_no_credential_answered_are_not_anyones() -> None:
    book = UsageBook()
    book.record(outcome(credential=None))  # every attempt failed, or a client error
    book.record(outcome(model=None))  # /health, the dashboard itself
    assert book.sheets(book.today()) == {} and not book.dirty


def test_a_broken_stream_is_an_error_a_hang_up_is_not() -> None:
    book = UsageBook()
    book.record(outcome(error="unavailable"))
    book.record(outcome(error="client_disconnected"))
    sheet = book.sheets(book.today())["aaa"]
    assert sheet.models[FLASH].to_data()[:2] == [2, 1]
    assert [note.kind for note in sheet.recent] == ["unavailable"]


def test_a_failed_attempt_counts_against_its_credential_with_a_redacted_message() -> None:
    book = UsageBook()
    leaky = Failure(FailureKind.INVALID_CREDENTIAL, 400, "key AIza" + "x" * 35 + " is bad")
    book.failed("bbb", FLASH, leaky)
    book.failed("bbb", FLASH, LIMITED)
    sheet = book.sheets(book.today())["bbb"]
    assert sheet.models[FLASH].to_data() == [0, 2, 0, 0]
    first, second = sheet.recent
    assert "AIza" not in first.message and "[redacted]" in first.message
    assert second.kind == "rate_limited: PerMinute" and second.status == 429


def test_memory_is_bounded_whatever_clients_send() -> None:
    book = UsageBook()
    for n in range(MAX_MODELS + 50):
        book.record(outcome(model=f"invented-{n}"))
        book.failed("aaa", f"invented-{n}", LIMITED)
    sheet = book.sheets(book.today())["aaa"]
    assert len(sheet.models) == MAX_MODELS + 1  # the first ones, and OTHER for the rest
    assert sheet.models[OTHER].requests == 50
    assert len(sheet.recent) == RECENT


def test_a_new_day_starts_new_sheets_and_written_old_ones_go() -> None:
    clock = Clock(datetime(2026, 1, 15, 7, 59, tzinfo=UTC).timestamp())
    book = UsageBook(clock)
    book.record(outcome())
    clock.now += 120
    book.record(outcome())
    assert {day for day, _ in book.dirty} == {"2026-01-14", "2026-01-15"}
    book.drop_written_days()
    assert book.sheets("2026-01-14")  # not written yet: kept
    book.dirty.clear()
    book.drop_written_days()
    assert not book.sheets("2026-01-14") and book.sheets("2026-01-15")


def test_sheets_merge_across_instances_and_keep_the_latest_failures() -> None:
    one, two = UsageBook(), UsageBook()
    one.record(outcome(tokens=Tokens(input=1, output=2)))
    two.record(outcome(tokens=Tokens(input=3, output=4)))
    two.failed("aaa", FLASH, LIMITED)
    merged = Sheet()
    for book in (one, two):
        merged.merge(book.snapshot((book.today(), "aaa")), "aaa")
    assert merged.models[FLASH].to_data() == [2, 1, 4, 6]
    assert [n.kind for n in merged.recent] == ["rate_limited: PerMinute"]
    # Junk in a record (another version, a hand edit) is skipped, not trusted.
    merged.merge({"models": {FLASH: ["x", None]}, "recent": [{"at": "?"}, 5]}, "aaa")
    assert merged.models[FLASH].to_data() == [2, 1, 4, 6]


def test_the_clients_own_mistakes_count_against_no_credential() -> None:
    book = UsageBook()
    book.failed("aaa", FLASH, Failure(FailureKind.CLIENT_ERROR, 400, "Invalid argument"))
    book.failed("aaa", "gemini-nope", Failure(FailureKind.MODEL_NOT_FOUND, 404, "not found"))
    assert book.sheets(book.today()) == {} and not book.dirty
