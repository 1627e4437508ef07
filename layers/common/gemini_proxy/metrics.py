"""Counters the proxy keeps about itself: Prometheus text locally, EMF on Lambda.

One `Metrics` object per process. Recording is a few dictionary updates per request; the
Prometheus text is built only when `/metrics` is scraped, and on Lambda one EMF line is printed
per request (Lambda may freeze the process right after, so there is no later moment to flush).
"""

import bisect
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gemini_proxy.generation.outcome import Outcome

# Milliseconds; the first buckets resolve what the proxy itself adds.
BUCKETS_MS = (0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
NAMESPACE = "GeminiProxy"  # the template's POWERTOOLS_METRICS_NAMESPACE
# Codes that mean: no credential could serve this model.
NO_CREDENTIAL_CODES = {"rate_limit_exceeded", "no_usable_credential", "no_credentials"}


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_MS) + 1))
    total: float = 0.0
    observations: int = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS_MS, value)] += 1
        self.total += value
        self.observations += 1


@dataclass
class Metrics:
    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # path, model, status
    failovers: Counter[str] = field(default_factory=Counter)  # model
    benches: Counter[str] = field(default_factory=Counter)  # reason
    no_credential: Counter[str] = field(default_factory=Counter)  # model
    added_ms: Histogram = field(default_factory=Histogram)
    upstream_ms: Histogram = field(default_factory=Histogram)
    emf: bool = field(default_factory=lambda: bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")))

    def request(
        self, outcome: "Outcome", model: str, total_ms: float, available: int | None = None
    ) -> None:
        """Record one finished request. `model` is the label to use (never an invented name);
        the path label is the matched route's template, so random paths add no series."""
        path = outcome.route or "unmatched"
        self.requests[(path, model, outcome.status)] += 1
        if outcome.attempts > 1:
            self.failovers[model] += outcome.attempts - 1
        no_credential = outcome.error in NO_CREDENTIAL_CODES
        if no_credential:
            self.no_credential[model] += 1
        upstream = outcome.upstream_ms
        if upstream is not None:
            self.upstream_ms.observe(upstream)
            self.added_ms.observe(max(0.0, total_ms - upstream))
        if self.emf:
            _safely(
                _emit_emf, model, outcome.attempts, total_ms, upstream, no_credential, available
            )

    def bench(self, reason: str) -> None:
        self.benches[reason] += 1
        if self.emf:
            _safely(_emit_bench, reason)

    def prometheus(self, available: Callable[[], dict[str, int]]) -> str:
        lines = [
            "# HELP gemini_proxy_requests_total Requests answered, by path, model and status.",
            "# TYPE gemini_proxy_requests_total counter",
        ]
        for (path, model, status), count in sorted(self.requests.items()):
            labels = f'path="{_label(path)}",model="{_label(model)}",status="{status}"'
            lines.append(f"gemini_proxy_requests_total{{{labels}}} {count}")
        lines += _counter(
            "failovers_total", "Extra attempts on another credential.", "model", self.failovers
        )
        lines += _counter(
            "benches_total", "Credentials benched, by reason.", "reason", self.benches
        )
        lines += _counter(
            "no_credential_total",
            "Requests no credential could serve.",
            "model",
            self.no_credential,
        )
        lines += _histogram(
            "added_latency_ms", "Time the proxy added (total - upstream).", self.added_ms
        )
        lines += _histogram(
            "upstream_latency_ms", "Time to Gemini's answer or first event.", self.upstream_ms
        )
        lines += [
            "# HELP gemini_proxy_credentials_available Credentials usable now, by model.",
            "# TYPE gemini_proxy_credentials_available gauge",
        ]
        for model, count in sorted(available().items()):
            lines.append(f'gemini_proxy_credentials_available{{model="{_label(model)}"}} {count}')
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _counter(name: str, help_: str, label: str, values: Counter[str]) -> list[str]:
    lines = [f"# HELP gemini_proxy_{name} {help_}", f"# TYPE gemini_proxy_{name} counter"]
    for key, count in sorted(values.items()):
        lines.append(f'gemini_proxy_{name}{{{label}="{_label(key)}"}} {count}')
    return lines


def _histogram(name: str, help_: str, histogram: Histogram) -> list[str]:
    lines = [f"# HELP gemini_proxy_{name} {help_}", f"# TYPE gemini_proxy_{name} histogram"]
    running = 0
    for bound, count in zip((*BUCKETS_MS, float("inf")), histogram.counts, strict=True):
        running += count
        le = "+Inf" if bound == float("inf") else f"{bound:g}"
        lines.append(f'gemini_proxy_{name}_bucket{{le="{le}"}} {running}')
    lines.append(f"gemini_proxy_{name}_sum {histogram.total:.3f}")
    lines.append(f"gemini_proxy_{name}_count {histogram.observations}")
    return lines


def _safely(emit: Callable[..., None], *args: object) -> None:
    # Metrics must never cost a client its answer: a failure here is logged and dropped.
    try:
        emit(*args)
    except Exception:
        from gemini_proxy.logs import logger

        logger.exception("could not emit EMF metrics")


def _emit_emf(
    model: str,
    attempts: int,
    total: float,
    upstream: float | None,
    no_credential: bool,
    available: int | None,
) -> None:
    from aws_lambda_powertools import Metrics as EmfMetrics
    from aws_lambda_powertools.metrics import MetricUnit

    emf = EmfMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE))
    emf.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    emf.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=total)
    if upstream is not None:
        emf.add_metric(name="UpstreamLatency", unit=MetricUnit.Milliseconds, value=upstream)
    if attempts > 1:
        emf.add_metric(name="Failovers", unit=MetricUnit.Count, value=attempts - 1)
    if no_credential:
        emf.add_metric(name="NoCredentialAvailable", unit=MetricUnit.Count, value=1)
    if available is not None:
        emf.add_metric(name="CredentialsAvailable", unit=MetricUnit.Count, value=available)
    emf.add_metadata(key="model", value=model)
    emf.flush_metrics()


def _emit_bench(reason: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name="CredentialBenched",
        unit=MetricUnit.Count,
        value=1,
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),
    ) as metric:
        metric.add_dimension(name="reason", value=reason)


# The process's counters (like the logger, one per process).
metrics = Metrics()
