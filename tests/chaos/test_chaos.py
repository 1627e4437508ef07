"""A short chaos run inside `make test`; `make chaos` runs the long one."""

import pytest

from tests.chaos.harness import run


@pytest.mark.timeout(300)
def test_short_chaos_run() -> None:
    report = run(processes=2, requests=300, concurrency=16)
    print("\n".join(report.lines()))
    assert report.not_openai_shaped == 0 and report.wrong_status == 0
    assert report.during_cooldown == 0
    assert report.duplicated_text == 0
    assert report.lost_transitions == 0
    assert all(count == 1 for count in report.refreshes.values()), report.refreshes
    # Requests may still fail when every attempt meets an injected fault (early in the run
    # most credentials misbehave); they must fail cleanly, and rarely.
    assert report.succeeded >= report.requests * 0.9, report.failures
