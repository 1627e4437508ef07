"""Same-run ratios: what one scenario or target adds over DIRECT, against what another adds.

"Added" is a target's figure minus DIRECT's in the same round and scenario (DIRECT sends the
Gemini request the proxy sends upstream for that scenario's case, so the upstream does the same
work); the median over rounds of that difference is the scenario's added figure; a ratio divides
two such medians, both from the one run. Streams are compared on time to first byte and on the
gap between events, non-streamed answers on latency percentiles.

The issues' figures (GOALS) are judged on PROXY-mem; PROXY-sqlite runs the same code with
another state backend, so its ratio is a second sample of the same figure, shown beside it.
"""

import math
import statistics
from dataclasses import dataclass
from typing import Any

from bench.targets import BASELINE_TARGET

Rounds = dict[str, dict[str, list[dict[str, float]]]]  # scenario -> target -> one per round


@dataclass(frozen=True)
class Goal:
    issue: str
    what: str  # the figure, as the report names it
    scenario: str
    base_scenario: str
    key: str  # the summary figure compared: p50, ttfb_p50, ...
    limit: float
    strict: bool = False  # ratio < limit, else ratio <= limit
    target: str = "PROXY-mem"
    base_target: str = "PROXY-mem"

    def met(self, ratio: float) -> bool:
        return ratio < self.limit if self.strict else ratio <= self.limit

    @property
    def bound(self) -> str:
        return f"{'<' if self.strict else '≤'} {self.limit:g}"


GOALS = (
    Goal(
        "#13 Responses API",
        "streamed Responses added TTFB / streamed chat added TTFB",
        "responses-stream",
        "stream",
        "ttfb_p50",
        1.10,
    ),
    Goal(
        "#14 Messages API",
        "streamed Messages added TTFB / streamed chat added TTFB",
        "messages-stream",
        "stream",
        "ttfb_p50",
        1.10,
    ),
    Goal(
        "#15 Gemini API",
        "native added p50 / chat added p50 (non-streamed, c1)",
        "native-c1",
        "c1",
        "p50",
        1.0,
        strict=True,
    ),
    Goal(
        "#15 Gemini API",
        "streamed native added TTFB / streamed chat added TTFB",
        "native-stream",
        "stream",
        "ttfb_p50",
        1.0,
        strict=True,
    ),
    Goal(
        "#12 edge redesign",
        "PROXY-mem added p50 now / PROXY-base added p50 (non-streamed, c1)",
        "c1",
        "c1",
        "p50",
        1.0,
        target="PROXY-mem",
        base_target=BASELINE_TARGET,
    ),
)

# Before/after the redesign: every chat scenario PROXY-base ran, with the figures that matter
# for it. Throughput is compared as req/s (higher is better), not as an added figure.
BASELINE_FIGURES = {
    "c1": ("p50", "p99"),
    "c16": ("p50", "p99"),
    "c64": ("p50", "p99"),
    "stream": ("ttfb_p50", "gap_p50"),
    "large": ("p50", "p99"),
    "tools": ("p50", "p99"),
    "slow-c1": ("p50", "p99"),
    "slow-c64": ("p50", "p99"),
    "slow-stream": ("ttfb_p50", "gap_p50"),
    "replay-c1": ("p50", "p99"),
}
THROUGHPUT = ("tput-c16", "tput-c64")

# The dialect scenarios and their chat counterparts, for the side-by-side table. Streams are
# compared on the first byte, the last byte, and the drift between them (last byte added -
# first byte added: what passing the events on adds). Not on the gap between events: each
# dialect frames the same upstream events into a different number of its own (Responses opens
# with four and closes with four), so the median gap is not the same quantity across dialects.
DIALECT_PAIRS = (
    ("native-c1", "c1", ("p50", "p99")),
    ("responses-stream", "stream", ("ttfb_p50", "p50", "drift")),
    ("messages-stream", "stream", ("ttfb_p50", "p50", "drift")),
    ("native-stream", "stream", ("ttfb_p50", "p50", "drift")),
)


def _clean(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def added_rounds(rounds: Rounds, scenario: str, target: str, key: str) -> list[float]:
    """Target minus DIRECT, round by round (rounds where either lacks the figure are left out)."""
    ours = rounds.get(scenario, {}).get(target, [])
    direct = rounds.get(scenario, {}).get("DIRECT", [])
    pairs = zip(ours, direct, strict=False)
    found = [(_clean(a.get(key)), _clean(d.get(key))) for a, d in pairs]
    return [a - d for a, d in found if a is not None and d is not None]


def added(rounds: Rounds, scenario: str, target: str, key: str) -> float | None:
    if key == "drift":  # last byte added - first byte added, round by round
        last = added_rounds(rounds, scenario, target, "p50")
        first = added_rounds(rounds, scenario, target, "ttfb_p50")
        values = [a - b for a, b in zip(last, first, strict=False)]
    else:
        values = added_rounds(rounds, scenario, target, key)
    return statistics.median(values) if values else None


def ratio_of(numerator: float | None, denominator: float | None) -> float | None:
    """None when either is unknown or the denominator is not positive (a ratio to nothing or
    to a negative added figure means nothing; a negative numerator gives a ratio below 0, which
    reads as 'less than nothing added', i.e. within noise of DIRECT)."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def figure(rounds: Rounds, scenario: str, target: str, key: str) -> float | None:
    """The median over rounds of a target's own figure (req/s, CPU µs/req...)."""
    found = [_clean(r.get(key)) for r in rounds.get(scenario, {}).get(target, [])]
    values = [v for v in found if v is not None]
    return statistics.median(values) if values else None


def goal_result(rounds: Rounds, goal: Goal, target: str | None = None) -> dict[str, Any]:
    """One goal's figures; `target` replaces both sides' PROXY-mem (for the second sample)."""
    ours = target or goal.target
    base = target if target and goal.base_target == goal.target else goal.base_target
    numerator = added(rounds, goal.scenario, ours, goal.key)
    denominator = added(rounds, goal.base_scenario, base, goal.key)
    ratio = ratio_of(numerator, denominator)
    return {
        "issue": goal.issue,
        "what": goal.what,
        "target": ours,
        "base_target": base,
        "scenario": goal.scenario,
        "base_scenario": goal.base_scenario,
        "key": goal.key,
        "added_ms": numerator,
        "base_added_ms": denominator,
        "ratio": ratio,
        "bound": goal.bound,
        "met": None if ratio is None else goal.met(ratio),
        "rounds": len(added_rounds(rounds, goal.scenario, ours, goal.key)),
    }


def goals(rounds: Rounds) -> list[dict[str, Any]]:
    """Every goal on PROXY-mem, and on PROXY-sqlite where it is a same-code second sample."""
    found = []
    for goal in GOALS:
        found.append(goal_result(rounds, goal))
        if goal.base_target == goal.target:
            found.append(goal_result(rounds, goal, "PROXY-sqlite"))
    return found


def baseline_rows(rounds: Rounds, target: str = "PROXY-mem") -> list[dict[str, Any]]:
    """Per chat scenario: what `target` adds against what PROXY-base adds, same run."""
    rows: list[dict[str, Any]] = []
    for scenario, keys in BASELINE_FIGURES.items():
        if BASELINE_TARGET not in rounds.get(scenario, {}):
            continue
        for key in keys:
            now, before = (added(rounds, scenario, t, key) for t in (target, BASELINE_TARGET))
            rows.append(
                {
                    "scenario": scenario,
                    "key": key,
                    "added_ms": now,
                    "base_added_ms": before,
                    "difference": _minus(now, before),
                    # The gap a gateway adds between events is ~0 either way: compared by
                    # difference only, a ratio of two noise-sized figures would mean nothing.
                    "ratio": None if key == "gap_p50" else ratio_of(now, before),
                    "better": "lower",
                }
            )
    for scenario in THROUGHPUT:
        if BASELINE_TARGET not in rounds.get(scenario, {}):
            continue
        now, before = (figure(rounds, scenario, t, "rps") for t in (target, BASELINE_TARGET))
        rows.append(
            {
                "scenario": scenario,
                "key": "rps",
                "added_ms": now,
                "base_added_ms": before,
                "difference": _minus(now, before),
                "ratio": ratio_of(now, before),
                "better": "higher",
            }
        )
    return rows


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def geometric_mean(values: list[float]) -> float | None:
    positive = [v for v in values if v > 0]
    return math.exp(statistics.fmean(math.log(v) for v in positive)) if positive else None


def baseline_summary(rows: list[dict[str, Any]]) -> float | None:
    """Geometric mean of the added-latency ratios (throughput left out): one figure for 'no
    worse than before' that a single noisy scenario cannot swing alone."""
    return geometric_mean(
        [r["ratio"] for r in rows if r["better"] == "lower" and r["ratio"] is not None]
    )


def dialect_rows(rounds: Rounds, target: str = "PROXY-mem") -> list[dict[str, Any]]:
    """Each dialect scenario beside its chat counterpart: added figures and CPU per request."""
    rows: list[dict[str, Any]] = []
    for scenario, chat, keys in DIALECT_PAIRS:
        if target not in rounds.get(scenario, {}):
            continue
        row: dict[str, Any] = {"scenario": scenario, "chat": chat, "target": target}
        for key in keys:
            ours, theirs = added(rounds, scenario, target, key), added(rounds, chat, target, key)
            row[key] = {
                "added_ms": ours,
                "chat_added_ms": theirs,
                "difference_ms": None if ours is None or theirs is None else ours - theirs,
                # A drift is a difference of two added figures, often near 0: no ratio.
                "ratio": None if key == "drift" else ratio_of(ours, theirs),
            }
        row["cpu_us"] = {
            "ours": figure(rounds, scenario, target, "cpu_us"),
            "chat": figure(rounds, chat, target, "cpu_us"),
        }
        rows.append(row)
    return rows


def everything(rounds: Rounds) -> dict[str, Any]:
    """What results.json keeps under "comparisons" (the report recomputes it from the rounds)."""
    rows = baseline_rows(rounds)
    return {
        "goals": goals(rounds),
        "baseline": rows,
        "baseline_geomean": baseline_summary(rows),
        "dialects": dialect_rows(rounds),
    }
