"""Transition rules for one credential's health: pure, so tested without a store or a clock."""

from gemini_proxy.pool.health import ANY_MODEL, Entry, Rules, Status, after_failure, scope
from gemini_proxy.upstream.classify import Failure, FailureKind

RULES = Rules(default_cooldown=60, max_cooldown=3600, consecutive_failures=3, recheck_interval=300)
NOW = 1_000_000.0


def failure(kind: FailureKind, cooldown: float | None = None, reason: str = "r") -> Failure:
    return Failure(kind, 429, "message", reason, cooldown)


def test_rate_limit_benches_for_the_hinted_delay() -> None:
    entry = after_failure(Entry(), failure(FailureKind.RATE_LIMITED, 15), RULES, NOW)
    assert entry is not None
    assert entry.status is Status.RATE_LIMITED and entry.cooldown_until == NOW + 15
    assert not entry.usable(NOW + 14.9) and entry.usable(NOW + 15)


def test_rate_limit_without_a_hint_uses_the_configured_default() -> None:
    entry = after_failure(Entry(), failure(FailureKind.RATE_LIMITED), RULES, NOW)
    assert entry is not None and entry.cooldown_until == NOW + 60


def test_a_new_bench_extends_but_never_shortens() -> None:
    long = after_failure(Entry(), failure(FailureKind.DAILY_QUOTA, 5000), RULES, NOW)
    assert long is not None
    # A shorter hint inside the running bench changes nothing (and costs no write).
    assert after_failure(long, failure(FailureKind.RATE_LIMITED, 10), RULES, NOW + 1) is None
    # Nor does one that ends at the same moment (the usual case: a hint that counts down)...
    assert after_failure(long, failure(FailureKind.RATE_LIMITED, 4999), RULES, NOW + 1) is None
    # ...but one that ends later is Google's word, even a few milliseconds later.
    later = after_failure(long, failure(FailureKind.RATE_LIMITED, 4999.02), RULES, NOW + 1)
    assert later is not None and later.cooldown_until == NOW + 5000.02
    longer = after_failure(long, failure(FailureKind.QUOTA_EXHAUSTED, 9000), RULES, NOW + 1)
    assert longer is not None and longer.cooldown_until == NOW + 9001


def test_back_to_back_limits_escalate_once_per_window() -> None:
    first = after_failure(Entry(), failure(FailureKind.RATE_LIMITED, 10), RULES, NOW)
    assert first is not None and first.strikes == 0
    # Many reports inside the same window (other requests, other instances): no escalation.
    same = after_failure(first, failure(FailureKind.RATE_LIMITED, 10), RULES, NOW + 5)
    assert same is not None and same.strikes == 0 and same.cooldown_until == NOW + 15
    # Limited again right after the window ended: twice as long.
    again = after_failure(same, failure(FailureKind.RATE_LIMITED, 10), RULES, NOW + 16)
    assert again is not None and again.strikes == 1 and again.cooldown_until == NOW + 16 + 20
    third = after_failure(again, failure(FailureKind.RATE_LIMITED, 10), RULES, NOW + 37)
    assert third is not None and third.strikes == 2 and third.cooldown_until == NOW + 37 + 40
    # Long after: back to the plain delay.
    calm = after_failure(third, failure(FailureKind.RATE_LIMITED, 10), RULES, NOW + 10_000)
    assert calm is not None and calm.strikes == 0 and calm.cooldown_until == NOW + 10_010


def test_escalation_is_capped() -> None:
    entry = Entry(status=Status.RATE_LIMITED, cooldown_until=NOW - 1, strikes=20)
    after = after_failure(entry, failure(FailureKind.RATE_LIMITED, 10), RULES, NOW)
    assert after is not None and after.cooldown_until == NOW + RULES.max_cooldown


def test_dead_credentials_become_invalid_credential_wide() -> None:
    for kind in (FailureKind.INVALID_CREDENTIAL, FailureKind.NOT_PROVISIONED):
        assert scope(failure(kind)) == ANY_MODEL
        entry = after_failure(Entry(), failure(kind, reason="API_KEY_INVALID"), RULES, NOW)
        assert entry is not None and entry.status is Status.INVALID
        assert entry.recheck_after == NOW + 300 and not entry.usable(NOW + 10_000)
        assert entry.reason is not None and "API_KEY_INVALID" in entry.reason


def test_unexplained_failures_invalidate_at_the_threshold() -> None:
    entry = Entry()
    for count in (1, 2):
        next_entry = after_failure(entry, failure(FailureKind.UNKNOWN), RULES, NOW)
        assert next_entry is not None
        entry = next_entry
        assert entry.status is Status.AVAILABLE and entry.failures == count
    entry = after_failure(entry, failure(FailureKind.BAD_ANSWER), RULES, NOW) or entry
    assert entry.status is Status.INVALID and entry.failures == 3


def test_google_side_and_client_errors_do_not_penalise() -> None:
    for kind in (FailureKind.UNAVAILABLE, FailureKind.CLIENT_ERROR, FailureKind.MODEL_NOT_FOUND):
        assert scope(failure(kind)) is None
        assert after_failure(Entry(), failure(kind), RULES, NOW) is None


def test_entries_round_trip_through_store_data() -> None:
    entry = Entry(Status.RATE_LIMITED, cooldown_until=NOW + 5, reason="x", message="m", strikes=2)
    assert Entry.from_data(entry.to_data()) == entry
    assert Entry.from_data({}) == Entry()
