"""A short chaos run inside `make test`; `make chaos` runs the long one."""

import pytest

from tests.chaos.harness import run


@pytest.mark.timeout(300)
def test_short_chaos_run() -> None:
    report = run(processes=2, requests=300, concurrency=16)
    print("\n".join(report.lines()))
    tally = report.tally
    assert tally.not_openai_shaped == 0 and tally.wrong_status == 0
    assert tally.during_cooldown == 0
    assert tally.duplicated_text == 0
    assert report.lost_transitions == 0
    assert tally.success_rate >= 0.995, tally.failures
