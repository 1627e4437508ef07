"""Summaries of one measured window, and medians across the rounds of a run."""

import itertools
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from bench.loadgen import LoadResult, Sample

Summary = dict[str, float]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks; `sorted_values` must be sorted."""
    if not sorted_values:
        return float("nan")
    if len(sorted_values) == 1:
        return sorted_values[0]
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _ms(values_ns: Iterable[int]) -> list[float]:
    return sorted(v / 1e6 for v in values_ns)


def latency_summary(result: LoadResult) -> Summary:
    total = _ms(s.total_ns for s in result.samples)
    return {
        "n": float(len(total)),
        "p50": percentile(total, 50),
        "p95": percentile(total, 95),
        "p99": percentile(total, 99),
        "mean": statistics.fmean(total) if total else float("nan"),
        "rps": result.rps,
        "errors": float(result.errors),
    }


def _gaps_ms(sample: Sample) -> list[float]:
    times = sample.events_ns
    return [(b - a) / 1e6 for a, b in itertools.pairwise(times)]


def stream_summary(result: LoadResult) -> Summary:
    samples = result.samples
    ttfb = _ms(s.first_byte_ns for s in samples)
    gaps = sorted(g for s in samples for g in _gaps_ms(s))
    events = [float(len(s.events_ns)) for s in samples]
    # Events that arrived in the same read: a gateway that holds chunks back shows fewer bursts.
    bursts = [float(len(set(s.events_ns))) for s in samples]
    summary = latency_summary(result)
    summary.update(
        ttfb_p50=percentile(ttfb, 50),
        ttfb_p95=percentile(ttfb, 95),
        ttfb_p99=percentile(ttfb, 99),
        gap_p50=percentile(gaps, 50),
        gap_p95=percentile(gaps, 95),
        gap_p99=percentile(gaps, 99),
        gap_mean=statistics.fmean(gaps) if gaps else float("nan"),
        events=statistics.median(events) if events else float("nan"),
        bursts=statistics.median(bursts) if bursts else float("nan"),
    )
    return summary


def median_summary(rounds: Sequence[Summary]) -> Summary:
    """Each figure's median over the rounds (the harness's headline numbers)."""
    if not rounds:
        return {}
    keys = set().union(*rounds)
    out: Summary = {}
    for key in sorted(keys):
        values = [r[key] for r in rounds if key in r and r[key] == r[key]]  # drop NaN
        out[key] = statistics.median(values) if values else float("nan")
    if "n" in out:
        out["n"] = float(sum(r.get("n", 0) for r in rounds))  # samples over all rounds
    if "errors" in out:
        out["errors"] = float(sum(r.get("errors", 0) for r in rounds))
    return out


def spread(rounds: Sequence[Summary], key: str) -> tuple[float, float]:
    values = [r[key] for r in rounds if key in r]
    return (min(values), max(values)) if values else (float("nan"), float("nan"))


def jsonable(value: Any) -> Any:
    """NaN is not JSON: write it as null."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
