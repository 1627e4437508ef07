# ruff: noqa: RUF001 (the multiplication sign, en dash and minus are meant: Markdown for people)
"""RESULTS.md and results.png from a run's results (also: python -m bench.report results.json)."""

import argparse
import json
import math
import operator
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from bench import compare

Row = list[str]
PROXIES = ("PROXY-mem", "PROXY-sqlite")


def _f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _table(header: Row, rows: list[Row]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


class Results:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.medians: dict[str, dict[str, dict[str, float]]] = data.get("medians", {})
        self.names = [t["name"] for t in data.get("targets", [])]
        self.scenarios = {s["id"]: s for s in data.get("scenarios", [])}
        self.rounds: compare.Rounds = data.get("rounds", {})

    def get(self, scenario: str, target: str, key: str) -> float | None:
        value = self.medians.get(scenario, {}).get(target, {}).get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return float(value)

    def added(self, scenario: str, target: str, key: str) -> float | None:
        value, direct = self.get(scenario, target, key), self.get(scenario, "DIRECT", key)
        return None if value is None or direct is None else value - direct

    def ratio(
        self, scenario: str, target: str, other: str, key: str, other_scenario: str = ""
    ) -> float | None:
        value = self.get(scenario, target, key)
        base = self.get(other_scenario or scenario, other, key)
        return None if value is None or not base else value / base

    def present(self, scenario: str) -> list[str]:
        return [n for n in self.names if n in self.medians.get(scenario, {})]


# --- verdict -------------------------------------------------------------------------------


def _judge(
    values: list[float | None], ok: Callable[[float], bool], worst: str = "max"
) -> bool | None:
    """Whether the worst known value passes; None when nothing was measured."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return ok(max(known) if worst == "max" else min(known))


def _drift(r: Results, scenario: str, target: str) -> float | None:
    """How much further behind DIRECT a stream ends than it starts: a held-back chunk shows."""
    total, first = r.added(scenario, target, "p50"), r.added(scenario, target, "ttfb_p50")
    return None if total is None or first is None else total - first


def _both(values: list[float | None], unit: str, digits: int = 2) -> str:
    return " / ".join(f"{_f(v, digits)}{unit}" for v in values)


def verdict(r: Results) -> list[Row]:
    rows: list[Row] = []

    def add(goal: str, measured: str, ok: bool | None) -> None:
        status = "not measured" if ok is None else ("**met**" if ok else "**missed**")
        rows.append([goal, measured, status])

    for pct, goal in (("p50", 0.8), ("p99", 2.0)):
        added = [r.added("c1", p, pct) for p in PROXIES]
        context = f"; FLOOR adds {_f(r.added('c1', 'FLOOR', pct))} ms"
        if "replay-c1" in r.medians:
            replay = [r.added("replay-c1", p, pct) for p in PROXIES]
            context += f"; against the replay upstream {_both(replay, ' ms')}"
        add(
            f"Added latency c1, {pct} ≤ {goal:g} ms over DIRECT (fake upstream)",
            _both(added, " ms") + context,
            _judge(added, partial(operator.ge, goal)),
        )
    for scenario in ("tput-c16", "tput-c64"):
        level = scenario.removeprefix("tput-")
        shares = [_pct(r.ratio(scenario, p, "FLOOR", "rps")) for p in PROXIES]
        add(
            f"Throughput {level} ≥ 40% of FLOOR",
            _both(shares, "%", 0),
            _judge(shares, lambda v: v >= 40, "min"),
        )
        if "LITELLM" in r.present(scenario):
            times = [r.ratio(scenario, p, "LITELLM", "rps") for p in PROXIES]
            add(
                f"Throughput {level} ≥ 20× LiteLLM",
                _both(times, "×", 1),
                _judge(times, lambda v: v >= 20, "min"),
            )
        else:
            add(f"Throughput {level} ≥ 20× LiteLLM", "LiteLLM not run (make bench-peers)", None)
    keeps = [_pct(r.ratio("tput-c64", p, p, "rps", "tput-c16")) for p in PROXIES]
    add(
        "No collapse at c64 (req/s at c64 ≥ 80% of c16)",
        _both(keeps, "%", 0),
        _judge(keeps, lambda v: v >= 80, "min"),
    )
    ttfb = [r.added("stream", p, "ttfb_p50") for p in PROXIES]
    add(
        "Streaming: time to first byte added ≤ 1 ms (p50)",
        _both(ttfb, " ms"),
        _judge(ttfb, lambda v: v <= 1.0),
    )
    gaps = [r.added("stream", p, "gap_p50") for p in PROXIES]
    drift = [_drift(r, "stream", p) for p in PROXIES]
    direct_bursts = r.get("stream", "DIRECT", "bursts") or 0
    held = any((r.get("stream", p, "bursts") or 0) < direct_bursts for p in PROXIES)
    gaps_ok = _judge(gaps + drift, lambda v: v <= 1.0)
    add(
        "Streaming: no chunk held back, inter-chunk delay added ≤ 1 ms (median gap added; drift"
        " = last byte added − first byte added)",
        "gap "
        + _both(gaps, " ms")
        + "; drift "
        + _both(drift, " ms")
        + ("; fewer bursts than DIRECT" if held else "; every upstream event passed on alone"),
        None if gaps_ok is None else gaps_ok and not held,
    )
    imports = r.data.get("imports", {})
    ready = imports.get("import_and_app_ready_ms")
    health = r.data.get("cold", {}).get("PROXY-mem", {}).get("health_ms")
    where = "in-process"
    layer = r.data.get("layers", {}).get("layers", {}).get("after", {})
    if layer.get("ready_ms") and layer.get("health_ms"):
        # The Lambda layer as `make layer` builds it, run by python3.13: the figure that counts.
        ready, health = layer["ready_ms"]["median"], layer["health_ms"]["median"]
        where = "in-process, the Lambda layer on python3.13"
    add(
        "Cold start of the Lambda entry (import + app ready) ≤ 300 ms",
        f"import + app ready {_f(ready, 0)} ms {where}; spawn → /health 200 {_f(health, 0)} ms",
        _judge([ready], lambda v: v <= 300),
    )
    rss = [r.data.get("peak_rss_mb", {}).get(p) for p in PROXIES]
    add("Peak RSS ≤ 80 MB", _both(rss, " MB", 0), _judge(rss, lambda v: v <= 80))
    counts = r.data.get("counts", {})
    store = counts.get("store", [])
    if store:
        # Steady: no call but the state cache's refresh, one per cache period at most.
        steady = all(s["calls_total"] <= math.ceil(s["cache_periods"] or 0) + 1 for s in store)
        add(
            "0 state-store calls per steady request",
            "; ".join(
                f"{s['backend']}: {s['calls_total']} in {s['requests']:,} requests"
                f" ({_f(s['calls_per_request'], 5)}/request: the pool's state cache refresh,"
                f" one per {s['cache_seconds']:g} s)"
                for s in store
            ),
            steady,
        )
    secrets = counts.get("secrets")
    if secrets:
        calls = secrets["get_secret_value_per_container"]
        add(
            "≤ 1 Secrets Manager call per container per cache period",
            f"{calls} GetSecretValue at start, {sum(secrets['during_requests'].values())} more"
            f" in {secrets['requests']:,} requests",
            calls <= 1 and not secrets["during_requests"],
        )
    return rows


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100


# --- sections --------------------------------------------------------------------------------


def latency_table(r: Results, scenario_ids: Sequence[str]) -> str:
    header = [
        "Scenario",
        "Target",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "added p50",
        "added p95",
        "added p99",
        "× DIRECT p50",
        "added ÷ FLOOR's",
        "req/s",
        "CPU µs/req",
        "other load (cores)",
    ]
    rows: list[Row] = []
    for sid in scenario_ids:
        for name in r.present(sid):
            floor_added = r.added(sid, "FLOOR", "p50")
            own = r.added(sid, name, "p50")
            vs_floor = own / floor_added if own is not None and floor_added else None
            rows.append(
                [
                    sid,
                    name,
                    _f(r.get(sid, name, "p50"), 3),
                    _f(r.get(sid, name, "p95"), 3),
                    _f(r.get(sid, name, "p99"), 3),
                    "" if name == "DIRECT" else _f(r.added(sid, name, "p50"), 3),
                    "" if name == "DIRECT" else _f(r.added(sid, name, "p95"), 3),
                    "" if name == "DIRECT" else _f(r.added(sid, name, "p99"), 3),
                    _f(r.ratio(sid, name, "DIRECT", "p50"), 2),
                    "" if name in ("DIRECT", "FLOOR") else _f(vs_floor, 1),
                    _f(r.get(sid, name, "rps"), 0),
                    _f(r.get(sid, name, "cpu_us"), 0),
                    _f(r.get(sid, name, "foreign_cores"), 2),
                ]
            )
    return _table(header, rows)


def throughput_table(r: Results) -> str:
    header = [
        "Target",
        "c16 req/s",
        "c64 req/s",
        "c64 ÷ c16",
        "% of FLOOR c16",
        "% of FLOOR c64",
        "× LiteLLM c16",
        "× LiteLLM c64",
        "CPU µs/req c16",
        "upstream µs/req",
        "p50 ms c16",
        "p99 ms c64",
    ]
    rows: list[Row] = []
    names = r.present("tput-c16")
    for name in names:
        c16, c64 = r.get("tput-c16", name, "rps"), r.get("tput-c64", name, "rps")
        rows.append(
            [
                name,
                _f(c16, 0),
                _f(c64, 0),
                _f(c64 / c16 if c16 and c64 else None, 2),
                _f(_pct(r.ratio("tput-c16", name, "FLOOR", "rps")), 0),
                _f(_pct(r.ratio("tput-c64", name, "FLOOR", "rps")), 0),
                _f(r.ratio("tput-c16", name, "LITELLM", "rps"), 1) if "LITELLM" in names else "–",
                _f(r.ratio("tput-c64", name, "LITELLM", "rps"), 1) if "LITELLM" in names else "–",
                _f(r.get("tput-c16", name, "cpu_us"), 0),
                _f(r.get("tput-c16", name, "upstream_cpu_us"), 0),
                _f(r.get("tput-c16", name, "p50"), 2),
                _f(r.get("tput-c64", name, "p99"), 2),
            ]
        )
    return _table(header, rows)


def stream_table(r: Results, sid: str) -> str:
    header = [
        "Target",
        "TTFB p50 ms",
        "TTFB added p50",
        "TTFB added p99",
        "gap p50 ms",
        "gap added p50",
        "gap added p99",
        "events",
        "bursts",
        "total p50 ms",
        "total added p50",
    ]
    rows: list[Row] = []
    for name in r.present(sid):
        direct = name == "DIRECT"
        rows.append(
            [
                name,
                _f(r.get(sid, name, "ttfb_p50"), 3),
                "" if direct else _f(r.added(sid, name, "ttfb_p50"), 3),
                "" if direct else _f(r.added(sid, name, "ttfb_p99"), 3),
                _f(r.get(sid, name, "gap_p50"), 3),
                "" if direct else _f(r.added(sid, name, "gap_p50"), 3),
                "" if direct else _f(r.added(sid, name, "gap_p99"), 3),
                _f(r.get(sid, name, "events"), 0),
                _f(r.get(sid, name, "bursts"), 0),
                _f(r.get(sid, name, "p50"), 2),
                "" if direct else _f(r.added(sid, name, "p50"), 2),
            ]
        )
    return _table(header, rows)


def memory_table(r: Results) -> str:
    cold = r.data.get("cold", {})
    spawn = r.data.get("spawn_ms", {})
    rows: list[Row] = []
    for name in r.names:
        if name == "DIRECT":
            continue
        entry = cold.get(name, {})
        runs = entry.get("runs", [])
        rows.append(
            [
                name,
                _f(r.data.get("peak_rss_mb", {}).get(name), 1),
                _f(runs[0].get("rss_after_first_mb") if runs else None, 1),
                _f(entry.get("health_ms"), 0),
                _f(entry.get("first_chat_ms"), 0),
                ", ".join(_f(v, 0) for v in spawn.get(name, [])),
            ]
        )
    header = [
        "Target",
        "peak RSS MB (under load)",
        "RSS after first answer MB",
        "spawn → /health 200 ms",
        "spawn → first chat 200 ms",
        "spawn → ready in the phases ms",
    ]
    return _table(header, rows)


def imports_section(r: Results) -> str:
    imports = r.data.get("imports")
    if not imports:
        return "Not measured."
    packages = ", ".join(
        f"{name} {ms:g}" for name, ms in imports["importtime"]["packages_self_ms"][:10]
    )
    modules = ", ".join(
        f"`{name}` {ms:g}" for name, ms in imports["importtime"].get("modules_self_ms", [])[:12]
    )
    return "\n".join(
        [
            f"- Interpreter start (`python -c pass`): {imports['interpreter_ms']} ms.",
            f"- Imports of the Lambda entry (`{_imports_line()}`), timed inside a fresh "
            f"process: {imports['import_ms']} ms; with `app_from_environment()` (app ready): "
            f"**{imports['import_and_app_ready_ms']} ms**; the whole process wall clock, exit "
            f"included: {imports['process_wall_ms']} ms.",
            f"- `python -X importtime`: {imports['importtime']['total_ms']} ms in all; heaviest "
            f"packages by their own import time (ms): {packages}.",
            f"- Heaviest single modules, own import time (ms): {modules}.",
        ]
    )


def layers_section(r: Results) -> str:
    from bench.coldstart import layers_table

    layers = r.data.get("layers")
    if not layers:
        return "Not measured."
    return (
        "Before: the layer as `sam build`'s python3.13 method shipped it (the whole package, no "
        "bytecode; /opt is read-only on Lambda, so every cold start compiles every module it "
        "imports). After: `make layer` (the template's build): no CLI or fake Gemini, "
        "unchecked-hash bytecode from python3.13. Both built for this machine from the same "
        "sources and wheels, started as the Lambda start script starts them, interleaved.\n\n"
        + layers_table(layers)
    )


def _imports_line() -> str:
    from bench.coldstart import LAMBDA_IMPORTS

    return LAMBDA_IMPORTS


def counts_section(r: Results) -> str:
    counts = r.data.get("counts")
    if not counts:
        return "Not measured."
    rows = [
        [
            s["backend"],
            f"{s['requests']:,}",
            f"{s['seconds']} s",
            ", ".join(f"{k} {v}" for k, v in s["calls"].items()) or "none",
            _f(s["calls_per_request"], 5),
            f"{s['cache_seconds']:g} s",
        ]
        for s in counts.get("store", [])
    ]
    table = _table(
        [
            "State backend",
            "steady requests",
            "over",
            "store calls",
            "per request",
            "state cache period",
        ],
        rows,
    )
    secrets = counts.get("secrets", {})
    line = (
        f"Secrets Manager under moto (the Lambda factory with `GEMINI_PROXY_SECRET_NAME` set, one "
        f"process = one container): AWS calls at start {secrets.get('at_start')}, during "
        f"{secrets.get('requests', 0):,} steady requests {secrets.get('during_requests') or 'none'}"
        f" → **{secrets.get('get_secret_value_per_container')} GetSecretValue per container**"
        " (Powertools caches the secret for 300 s; the app reads it once, at start)."
    )
    return table + "\n\n" + line


def profile_section(r: Results) -> str:
    parts: list[str] = []
    for prof in r.data.get("profiles", []):
        if "error" in prof:
            parts.append(f"Profile not taken: {prof['error']}")
            continue
        parts.append(
            f"**{prof.get('target', 'PROXY-mem')}, case {prof['case']}, c{prof['concurrency']},"
            " replay upstream** "
            f"({prof['samples']:,} py-spy samples at 250 Hz, {prof['rps']:,} req/s while sampled; "
            f"idle time excluded; raw stacks in `bench/out/{prof['raw']}`)."
        )
        parts.append("")
        parts.append("By package, own time (where the CPU is actually spent):")
        parts.append("")
        parts.append(
            _table(["package", "% of samples"], [[k, f"{v}"] for k, v in prof["packages"]])
        )
        parts.append("")
        parts.append(
            "Hottest functions, own time (`asyncio/runners.py:Runner.run` is time in uvloop's C"
            " code: socket reads and writes, callbacks; C functions count in their Python caller):"
        )
        parts.append("")
        parts.append(
            _table(["file:function", "self %"], [[f"`{k}`", f"{v}"] for k, v in prof["self"]])
        )
        parts.append("")
        parts.append(
            "The package's own functions, inclusive time (what each costs with its callees):"
        )
        parts.append("")
        parts.append(
            _table(
                ["file:function", "inclusive %"],
                [[f"`{k}`", f"{v}"] for k, v in prof["inclusive_ours"]],
            )
        )
        parts.append("")
    return "\n".join(parts) if parts else "Not taken."


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f} ms"


_STREAM_FIGURES = {
    "ttfb_p50": "added first byte p50",
    "p50": "added last byte p50",
    "drift": "drift (last − first byte added)",
}
_FIGURE_NAMES = {
    "p50": "added p50",
    "p99": "added p99",
    "ttfb_p50": "added TTFB p50",
    "gap_p50": "added gap p50",
    "rps": "req/s",
}


def goals_section(r: Results) -> str:
    """The figures issues #12-#15 ask for, each a ratio of two added figures of this run."""
    found = compare.goals(r.rounds)
    if not any(g["ratio"] is not None for g in found):
        return "Not measured (the dialect scenarios or PROXY-base did not run)."
    rows: list[Row] = []
    for g in found:
        second = g["target"] != "PROXY-mem"
        status = "not measured" if g["met"] is None else ("met" if g["met"] else "missed")
        rows.append(
            [
                "" if second else g["issue"],
                ("  same, PROXY-sqlite (second sample)" if second else g["what"]),
                f"**{_f(g['ratio'], 2)}**" if not second else _f(g["ratio"], 2),
                f"{_ms(g['added_ms'])} / {_ms(g['base_added_ms'])}",
                f"`{g['scenario']}` {g['target']} / `{g['base_scenario']}` {g['base_target']}",
                g["bound"],
                status if second else f"**{status}**",
            ]
        )
    return (
        "Each ratio divides two *added* figures of this run: a target's figure minus DIRECT's "
        "in the same round and scenario (DIRECT sends the very Gemini request the proxy sent "
        "upstream for that scenario), the median over rounds of that difference, one for the "
        "scenario named first, one for the scenario it is compared with. Judged on PROXY-mem; "
        "PROXY-sqlite runs the same code with another state backend, so its ratio is a second "
        "sample of the same figure (how far two samples of one figure disagree is the noise "
        "of this run).\n\n"
        + _table(
            ["Issue", "Figure", "Ratio", "added / added", "Compared", "Target", "Status"], rows
        )
    )


def dialects_section(r: Results) -> str:
    rows: list[Row] = []
    for row in compare.dialect_rows(r.rounds):
        stream = row["scenario"].endswith("stream")
        for key in ("ttfb_p50", "p50", "p99", "drift"):
            if key not in row:
                continue
            cell = row[key]
            rows.append(
                [
                    f"`{row['scenario']}` / `{row['chat']}`",
                    _STREAM_FIGURES[key] if stream else _FIGURE_NAMES[key],
                    _ms(cell["added_ms"]),
                    _ms(cell["chat_added_ms"]),
                    _ms(cell["difference_ms"]),
                    _f(cell["ratio"], 2),
                    _f(row["cpu_us"]["ours"], 0),
                    _f(row["cpu_us"]["chat"], 0),
                ]
            )
    if not rows:
        return "Not measured."
    table = _table(
        [
            "Dialect / chat",
            "Figure",
            "dialect added",
            "chat added",
            "dialect − chat",
            "ratio",
            "CPU µs/req, dialect",
            "CPU µs/req, chat",
        ],
        rows,
    )
    dialect_streams = ("responses-stream", "messages-stream", "native-stream")
    streams = [s for s in dialect_streams if s in r.medians]
    parts = [
        "PROXY-mem, each dialect's scenario beside its chat counterpart (run right after it, "
        "same prompt and system prompt, same upstream request but for what the dialect itself "
        "sets, such as Messages' `max_tokens`). Streams are compared on the first byte, the "
        "last byte and the drift between them, not on the gap between events: each dialect "
        "frames the same upstream events into a different number of its own, so its median gap "
        "is another quantity. CPU µs/req is the server process's CPU time over its answers "
        "(what a request in that dialect costs the proxy; /proc counts it in 10 ms ticks, so "
        "for the ~20 streams of a quick window it is good to ~5%).",
        "",
        table,
        "",
        "Native, non-streamed, c1:",
        "",
        latency_table(r, ["native-c1"]) if "native-c1" in r.medians else "Not measured.",
    ]
    for sid in streams:
        parts += ["", f"`{sid}`: {r.scenarios.get(sid, {}).get('title', '')}", ""]
        parts.append(stream_table(r, sid))
    return "\n".join(parts)


def baseline_section(r: Results) -> str:
    info = r.data.get("baseline")
    if not info:
        return (
            "Not run: `--baseline REV` (the Makefile's `BASELINE`) adds PROXY-base, the proxy at "
            "REV, to the same run."
        )
    rows = compare.baseline_rows(r.rounds)
    table_rows: list[Row] = [
        [
            f"`{row['scenario']}`",
            _FIGURE_NAMES[row["key"]],
            _f(row["added_ms"], 3 if row["key"] != "rps" else 0),
            _f(row["base_added_ms"], 3 if row["key"] != "rps" else 0),
            _f(row["difference"], 3 if row["key"] != "rps" else 0),
            _f(row["ratio"], 2),
            "higher is better" if row["better"] == "higher" else "lower is better",
        ]
        for row in rows
    ]
    summary = compare.baseline_summary(rows)
    return (
        f"PROXY-base is the proxy at `{info['rev']}` = {info['commit'][:12]} "
        f"(“{info['subject']}”), run beside today's in this run, memory state, the same "
        f"command and environment as PROXY-mem with that revision's `layers/common` first on "
        f"PYTHONPATH (it imported `{info['package_file']}`). Chat scenarios only: it has no "
        "other dialect. Added figures in ms (req/s for throughput).\n\n"
        + _table(
            ["Scenario", "Figure", "PROXY-mem", "PROXY-base", "now − before", "now / before", ""],
            table_rows,
        )
        + f"\n\nGeometric mean of the added-latency ratios above: **{_f(summary, 2)}** "
        "(≤ 1: no worse than before the redesign, over every chat scenario at once; the gap "
        "between streamed events, ~0 added either way, is compared by difference only)."
    )


def method_section(r: Results) -> str:
    data = r.data
    mode = data.get("mode", {})
    pin = data.get("pinning", {})
    scen = "\n".join(
        f"  - `{s['id']}`: {s['title']} ({s['phase']} upstream, {s['window_s']:g} s window)"
        for s in data.get("scenarios", [])
    )
    client = data.get("client_cpu_us")
    return f"""\
- **Pinning.** 2 cores: the load client (this harness) and the upstream on core
  {pin.get("client_and_upstream")}, the target server alone on core {pin.get("targets")}
  (`os.sched_setaffinity`, inherited by the children; `taskset` for py-spy). The upstream is the
  same for every target, so what it costs cancels out of the *added* figures.
- **Load client.** `bench/loadgen.py`: raw HTTP/1.1 on asyncio + uvloop, prebuilt request bytes,
  httptools' C parser, keep-alive, no pipelining, closed loop (each connection sends its next
  request when the answer is complete). It measured **{_f(client, 1)} µs of CPU per request**
  (median over the runs against FLOOR, PROXY and LiteLLM), against the targets' figures in the
  tables.
- **Upstreams.** `fake`: the project's faithful fake Gemini (`gemini_proxy.fake_gemini`, full
  request validation), latency set per scenario through its control API (0 ms, or 50 ms; the
  streamed scenarios add {r.scenarios.get("stream", {}).get("chunk_delay_ms", 5):g} ms between
  events). `replay`: `bench/replay.py` serves the fake's recorded answer to the same request for a
  few µs of CPU, so throughput measures the target and not the fake (the fake costs ~200 µs per
  request on the shared core and would cap every target near 5k req/s).
- **Targets.** DIRECT (client → upstream), FLOOR (`bench/floor.py`, aiohttp server + aiohttp
  client, pass-through, no translation), PROXY-mem / PROXY-sqlite (our app exactly as the Lambda
  entry starts it: `uvicorn --factory gemini_proxy.app.factory:app_from_environment`, uvloop,
  httptools, no access log, one worker, configured by `CONFIG_YAML`, four `GEMINI_API_KEY_<n>`,
  `GEMINI_PROXY_API_KEYS` (so every request is authenticated), its JSON request log at the default
  level going to a file), and, with `make bench-peers`, LITELLM (LiteLLM's proxy in its own
  virtualenv, `gemini/` provider with `api_base` at the same upstream, master key, one worker,
  default logging; chat only). With `--baseline REV`, PROXY-base: the proxy at git revision REV
  (its `layers/common` extracted by `git archive` into `bench/out`, first on PYTHONPATH), started
  like PROXY-mem.
- **Requests.** PROXY gets each case in its dialect: chat (`/v1/chat/completions`), Responses
  (`/v1/responses`, `store: false`), Messages (`/v1/messages`, `x-api-key`) or Gemini's own
  (`/v1beta/models/…:generateContent`, `x-goog-api-key`); LiteLLM the chat ones. DIRECT and
  FLOOR send the Gemini request PROXY-mem sent upstream for the same case, captured from the
  fake's request log when the run starts, so the upstream does the same work for every target.
- **Rounds.** Mode `{mode.get("name")}`: {mode.get("rounds")} round(s); in each, every scenario
  visits every target in an order rotated per round and scenario, {mode.get("warmup_s")} s of
  warm-up then the window. Figures are the **median over rounds** of each round's percentile;
  *added* = target − DIRECT at the same percentile and concurrency; CPU µs/req = the server
  process's CPU time (utime + stime from /proc) over the answers it gave.
- **Scenarios.**
{scen}"""


def write(data: dict[str, Any], out: Path) -> None:
    r = Results(data)
    machine = data.get("machine", {})
    versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
    load_before, load_after = data.get("load_before", [0, 0, 0]), data.get("load_after", [0, 0, 0])
    chart = draw_chart(r, out / "results.png")
    foreign = data.get("foreign_cores") or {}
    chart_line = (
        "![latency and throughput per target](results.png)"
        if chart
        else "Not drawn: matplotlib is missing (pip install -e '.[bench]')."
    )
    stream_delay = r.scenarios.get("stream", {}).get("chunk_delay_ms", 0)
    skipped = data.get("skipped", {})
    skipped_lines = (
        "\n".join(
            f"- `{sid}` not run for {name}: {why[:200]}"
            for sid, by_target in skipped.items()
            for name, why in by_target.items()
        )
        or "None: every target answered every case."
    )
    peers_note = (
        ""
        if data.get("peers")
        else "\nLiteLLM was not part of this run; `make bench-peers` adds it (same run, same"
        " fake).\n"
    )
    fake_ids = [s for s in ("c1", "c16", "c64") if s in r.medians]
    text = f"""\
# Benchmark results

Generated by `bench/run.py` (mode **{data.get("mode", {}).get("name")}**, {data.get("elapsed_s")} s)
on {machine.get("date")}, commit {machine.get("commit") or "?"}. `make bench` / `make bench-quick` /
`make bench-peers` rewrite this file, `results.json` (every round's figures) and `results.png`.
{peers_note}
## Targets of issue #8

Measured for PROXY-mem / PROXY-sqlite; medians of this run.

{_table(["Target", "Measured", "Status"], verdict(r))}

## Issues #12-#15: same-run ratios

{goals_section(r)}

## Machine

{machine.get("cpu")}, {machine.get("cores")} cores, {machine.get("memory_gb")} GB, Linux
{machine.get("kernel")}, Python {machine.get("python")}. {versions}.
Load average (1/5/15 min) before the run: {" / ".join(f"{v:.2f}" for v in load_before)}; after:
{" / ".join(f"{v:.2f}" for v in load_after)} (the harness's own processes count in it).
CPU used by other work on the machine during the measured windows (all cores' busy time from
/proc/stat minus the harness, target and upstream): median {_f(foreign.get("median"), 2)}
cores, worst {_f(foreign.get("max"), 2)} cores; {data.get("retries", 0)} window(s) re-measured
because it exceeded {data.get("retry_threshold_cores", 0.15):g} cores (full mode only; the
quietest measurement is kept). The interleaving spreads
what is left over all targets alike.

## Method

{method_section(r)}

## Added latency, non-streamed (fake upstream, 0 ms)

{latency_table(r, fake_ids)}

## Throughput per worker (one worker; replay upstream)

{throughput_table(r) if "tput-c16" in r.medians else "Not measured."}

## Streaming (fake upstream, {stream_delay:g} ms between events)

*TTFB*: send → first body byte. *gap*: time between successive SSE events as they arrive (an
upstream event a gateway holds back shows as a longer gap and fewer *bursts*, the distinct arrival
times per stream). Events differ by target: ours adds the role chunk, a final chunk and `[DONE]`.

{stream_table(r, "stream") if "stream" in r.medians else "Not measured."}

## Dialects: Responses, Messages and Gemini's own API against chat

{dialects_section(r)}

## Before and after the edge redesign (PROXY-base)

{baseline_section(r)}

## Large prompt (200 KB conversation) and 50-message tool case (c1)

{latency_table(r, [s for s in ("large", "tools") if s in r.medians])}

{_slow_section(r)}## Memory and cold start

{memory_table(r)}

{imports_section(r)}

### The Lambda layer: today's and ours

{layers_section(r)}

## State-store and Secrets Manager calls

{counts_section(r)}

## Where PROXY's time goes (py-spy)

{profile_section(r)}

## Optimisations

This harness measures and profiles; it changes no code of the proxy (others own it). The
hot spots above are where the next optimisations should go; each one should be kept only if
this table improves, and recorded here.

## Cases not run

{skipped_lines}

## Chart

{chart_line}
"""
    (out / "RESULTS.md").write_text(text, encoding="utf-8")


def _slow_section(r: Results) -> str:
    ids = [s for s in ("slow-c1", "slow-c64", "replay-c1") if s in r.medians]
    if not ids:
        return ""
    stream = stream_table(r, "slow-stream") if "slow-stream" in r.medians else ""
    return (
        "## Upstream at 50 ms, and the replay upstream at c1\n\n"
        + latency_table(r, ids)
        + ("\n\nStreamed with the 50 ms upstream:\n\n" + stream if stream else "")
        + "\n\n"
    )


def draw_chart(r: Results, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = r.present("c1") or r.names
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))

    def bars(axis: Any, labels: list[str], series: list[tuple[str, list[float]]], fmt: str) -> None:
        width = 0.8 / len(series)
        for i, (label, values) in enumerate(series):
            xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
            drawn = axis.bar(xs, values, width, label=label)
            axis.bar_label(drawn, labels=[fmt.format(v) if v else "" for v in values], fontsize=7)
        axis.set_xticks(range(len(labels)), labels, rotation=15)
        axis.legend(fontsize=8)

    bars(
        axes[0],
        names,
        [(p, [r.get("c1", n, p) or 0.0 for n in names]) for p in ("p50", "p95", "p99")],
        "{:.2f}",
    )
    axes[0].set_title("Latency at c1, fake upstream 0 ms (ms)")
    bars(
        axes[1],
        names,
        [
            (f"{p} {sid}", [r.get(sid, n, p) or 0.0 for n in names])
            for sid in ("c16", "c64")
            for p in ("p50", "p99")
        ],
        "{:.0f}",
    )
    axes[1].set_title("Latency at c16 / c64, fake upstream 0 ms (ms)")
    servers = [n for n in (r.present("tput-c16") or names) if n != "DIRECT"]
    bars(
        axes[2],
        servers,
        [
            (sid[5:], [r.get(sid, n, "rps") or 0.0 for n in servers])
            for sid in ("tput-c16", "tput-c64")
        ],
        "{:.0f}",
    )
    axes[2].set_title("Requests/s, one worker, replay upstream")
    if "LITELLM" in servers:
        axes[2].set_yscale("log")
    machine = r.data.get("machine", {})
    fig.suptitle(
        f"Gemini CLI Proxy benchmark, mode {r.data.get('mode', {}).get('name')}, "
        f"{machine.get('date', '')}, commit {machine.get('commit', '')}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "results", type=Path, nargs="?", default=Path(__file__).parent / "results.json"
    )
    args = parser.parse_args()
    data = json.loads(args.results.read_text(encoding="utf-8"))
    write(data, args.results.parent)


if __name__ == "__main__":
    main()
