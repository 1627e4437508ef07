"""The benchmark harness: `make bench`, `make bench-quick`, `make bench-peers`.

    python -m bench.run [--quick] [--peers] [--baseline REV] [--out bench]

1. Pins itself (the load client) and the upstream to one core, every target server to the other.
2. Phase "fake": starts the faithful fake Gemini, then each target pointed at it; captures, for
   every case, the Gemini request PROXY-mem sends upstream (what DIRECT and FLOOR then send);
   checks every target answers every case it speaks; then rounds of scenarios (latency at
   c1/c16/c64, streaming, the Responses, Messages and native dialects, the 200 KB and the
   50-message tool cases, the 50 ms upstream), each round visiting the targets in a rotated
   order so drift hits all of them alike.
3. Phase "replay": the same targets pointed at a near-free replay of the fake's answers, for
   throughput at c16/c64 with the upstream out of the way; py-spy profiles PROXY there.
4. Cold starts, import times, store and Secrets Manager call counts.
5. Writes results.json, RESULTS.md and results.png (bench/report.py), with the same-run ratios
   of bench/compare.py.
`--baseline REV` adds PROXY-base, the proxy at git revision REV (bench/baseline.py), to every
chat scenario. Loopback only; every phase and window is bounded in time.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import uvloop

from bench import baseline, coldstart, compare, payloads, profile, report
from bench.loadgen import build_request, fetch, run_load
from bench.payloads import Case
from bench.procs import cores, machine_busy_seconds, pin_self, self_cpu_seconds, wait_ready
from bench.stats import Summary, jsonable, latency_summary, median_summary, stream_summary
from bench.targets import (
    AI_STUDIO_KEYS,
    BASELINE_TARGET,
    HERE,
    HOST,
    LITELLM_VENV,
    PYTHON,
    Target,
    Upstream,
    litellm_available,
    make_targets,
    start_fake,
    start_replay,
    start_target,
    target_env,
)


@dataclass(frozen=True)
class Scenario:
    id: str
    phase: str  # fake | replay
    case: Case
    concurrency: int
    title: str
    latency_ms: float = 0.0
    chunk_delay_ms: float = 0.0
    window_s: float = 2.0
    full_only: bool = False


@dataclass
class Mode:
    name: str
    rounds: int
    window_s: float
    warmup_s: float
    slow_window_s: float  # scenarios with the 50 ms upstream
    cold_reps: int
    count_seconds: float
    profile_s: float


# Quick: two short rounds rather than one long one. On a shared machine a burst of other work
# then disturbs one of a target's two windows, not its only one, and the same-run ratios of
# bench/compare.py (medians over rounds of per-round added figures) move less.
QUICK = Mode(
    "quick",
    rounds=2,
    window_s=0.6,
    warmup_s=0.2,
    slow_window_s=1.5,
    cold_reps=2,
    count_seconds=2.2,
    profile_s=3,
)
FULL = Mode(
    "full",
    rounds=3,
    window_s=2.0,
    warmup_s=0.3,
    slow_window_s=3.0,
    cold_reps=5,
    count_seconds=3.0,
    profile_s=6,
)

STREAM_CHUNK_MS = 5.0
# Full mode measures a window again (twice at most, 30 times in a run) when other work on the
# machine used more than this many cores' worth of CPU during it, and keeps the quietest.
FOREIGN_RETRY_CORES = 0.15
RETRIES_PER_WINDOW = 2
RETRIES_PER_RUN = 30


def scenarios(mode: Mode) -> list[Scenario]:
    small, stream = payloads.small(), payloads.small(stream=True)
    w, slow = mode.window_s, mode.slow_window_s
    events = f"{STREAM_CHUNK_MS:g} ms between upstream events"
    # A dialect's scenario runs right after its chat counterpart: the ratio between them is
    # taken from windows close in time.
    found = [
        Scenario("c1", "fake", small, 1, "non-streamed, c1", window_s=w),
        Scenario(
            "native-c1",
            "fake",
            payloads.native(),
            1,
            "Gemini API (native) generateContent, c1",
            window_s=w,
        ),
        Scenario("c16", "fake", small, 16, "non-streamed, c16", window_s=w),
        Scenario("c64", "fake", small, 64, "non-streamed, c64", window_s=w),
        Scenario(
            "stream",
            "fake",
            stream,
            1,
            f"streamed, c1, {events}",
            chunk_delay_ms=STREAM_CHUNK_MS,
            window_s=w,
        ),
        Scenario(
            "responses-stream",
            "fake",
            payloads.responses(),
            1,
            f"Responses API streamed (store false), c1, {events}",
            chunk_delay_ms=STREAM_CHUNK_MS,
            window_s=w,
        ),
        Scenario(
            "messages-stream",
            "fake",
            payloads.messages(),
            1,
            f"Messages API streamed, c1, {events}",
            chunk_delay_ms=STREAM_CHUNK_MS,
            window_s=w,
        ),
        Scenario(
            "native-stream",
            "fake",
            payloads.native(stream=True),
            1,
            f"Gemini API (native) streamGenerateContent?alt=sse, c1, {events}",
            chunk_delay_ms=STREAM_CHUNK_MS,
            window_s=w,
        ),
        Scenario(
            "large", "fake", payloads.large_prompt(), 1, "200 KB conversation, c1", window_s=w
        ),
        Scenario("tools", "fake", payloads.tool_heavy(), 1, "50-message tool case, c1", window_s=w),
        Scenario(
            "slow-c1",
            "fake",
            small,
            1,
            "non-streamed, c1, upstream 50 ms",
            latency_ms=50,
            window_s=slow,
            full_only=True,
        ),
        Scenario(
            "slow-c64",
            "fake",
            small,
            64,
            "non-streamed, c64, upstream 50 ms",
            latency_ms=50,
            window_s=slow,
            full_only=True,
        ),
        Scenario(
            "slow-stream",
            "fake",
            stream,
            1,
            f"streamed, c1, upstream 50 ms then {STREAM_CHUNK_MS:g} ms between events",
            latency_ms=50,
            chunk_delay_ms=STREAM_CHUNK_MS,
            window_s=slow,
            full_only=True,
        ),
        Scenario("tput-c16", "replay", small, 16, "throughput, c16, replay upstream", window_s=w),
        Scenario("tput-c64", "replay", small, 64, "throughput, c64, replay upstream", window_s=w),
        Scenario(
            "replay-c1",
            "replay",
            small,
            1,
            "non-streamed, c1, replay upstream",
            window_s=w,
            full_only=True,
        ),
    ]
    return [s for s in found if mode.name == "full" or not s.full_only]


@dataclass
class Harness:
    mode: Mode
    targets: list[Target]
    out: Path  # bench/out: logs and scratch
    client_core: int | None
    server_core: int | None
    rounds: dict[str, dict[str, list[Summary]]] = field(default_factory=dict)
    skipped: dict[str, dict[str, str]] = field(default_factory=dict)  # scenario -> target -> why
    rss: dict[str, float] = field(default_factory=dict)
    starts: dict[str, list[float]] = field(default_factory=dict)
    client_cpu_us: list[float] = field(default_factory=list)
    retries: int = 0
    log: list[str] = field(default_factory=list)

    def say(self, message: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"[bench {stamp}] {message}", file=sys.stderr, flush=True)
        self.log.append(message)

    # --- phases ------------------------------------------------------------------------------

    async def start_all(self, upstream: Upstream) -> None:
        path = "/_control/settings" if upstream.name == "fake" else "/health"
        if await wait_ready(upstream.port, path, 30, upstream.proc) is None:
            raise RuntimeError(f"{upstream.name} did not start:\n{upstream.proc.log_tail()}")
        for target in self.targets:
            start_target(target, upstream, self.server_core, self.out)
            if target.kind == "direct":
                continue
            assert target.proc is not None
            timeout = 120.0 if target.kind == "litellm" else 30.0
            waited = await wait_ready(target.port, target.health_path, timeout, target.proc)
            if waited is None:
                raise RuntimeError(f"{target.name} did not start:\n{target.proc.log_tail()}")
            spawn_ms = (time.perf_counter() - target.proc.started_at) * 1000
            self.starts.setdefault(target.name, []).append(round(spawn_ms, 1))
            self.say(f"{target.name} ready on :{target.port} in {spawn_ms:.0f} ms")

    def stop_all(self) -> None:
        for target in self.targets:
            if target.proc is not None and target.kind != "direct":
                self.rss[target.name] = max(
                    self.rss.get(target.name, 0.0), target.proc.peak_rss_mb()
                )
                target.proc.stop()

    async def set_fake(self, upstream: Upstream, latency_ms: float, chunk_delay_ms: float) -> None:
        body = json.dumps({"latency_ms": latency_ms, "chunk_delay_ms": chunk_delay_ms}).encode()
        request = build_request("POST", "/_control/settings", body, f"{HOST}:{upstream.port}")
        status, answer = await fetch(HOST, upstream.port, request)
        if status != 200:
            raise RuntimeError(f"fake settings refused: {answer[:200]!r}")

    def skip(self, phase: list[Scenario], case: Case, target: str, why: str) -> None:
        """`target` runs no scenario of `case` (in this phase) and the report says why."""
        for scenario in phase:
            if scenario.case.name == case.name:
                self.skipped.setdefault(scenario.id, {})[target] = why

    def skips(self, phase: list[Scenario], case: Case, target: str) -> bool:
        return any(target in self.skipped.get(s.id, {}) for s in phase if s.case.name == case.name)

    async def capture(self, phase: list[Scenario], upstream: Upstream) -> list[Scenario]:
        """The phase with each case's upstream request filled in: what PROXY-mem sent to the
        fake for it, read back from the fake's request log. DIRECT and FLOOR send exactly that,
        so the upstream does the same work whichever way a request comes."""
        proxy = next(t for t in self.targets if t.name == "PROXY-mem")
        await self.set_fake(upstream, 0, 0)
        captured: dict[str, Case] = {}
        for case in _cases(phase):
            await self.control(upstream, "DELETE", "/_control/requests")
            status, body = await fetch(HOST, proxy.port, proxy.request(case))
            log = json.loads(await self.control(upstream, "GET", "/_control/requests"))
            sent = [
                e
                for e in log["requests"]
                if e["kind"] in ("generate", "stream") and isinstance(e["body"], dict)
            ]
            if not case.answered(status, body) or not sent:
                why = f"PROXY-mem did not answer it (HTTP {status}: {body[:200]!r})"
                self.say(f"{case.name}: upstream request not captured: {why}")
                for target in self.targets:
                    self.skip(phase, case, target.name, "upstream request unknown: " + why)
                continue
            path = sent[-1]["path"]
            if sent[-1].get("query", {}).get("alt"):
                path += "?alt=" + sent[-1]["query"]["alt"]
            gemini = json.dumps(sent[-1]["body"], separators=(",", ":"), ensure_ascii=False)
            captured[case.name] = case.with_upstream(path, gemini.encode())
        return [replace(s, case=captured.get(s.case.name, s.case)) for s in phase]

    async def control(self, upstream: Upstream, method: str, path: str) -> bytes:
        request = build_request(method, path, b"", f"{HOST}:{upstream.port}")
        status, answer = await fetch(HOST, upstream.port, request)
        if status != 200:
            raise RuntimeError(f"fake {method} {path}: HTTP {status} {answer[:200]!r}")
        return answer

    async def check(self, phase: list[Scenario], upstream: Upstream) -> None:
        """Every target answers every case it speaks correctly once before timing starts; a
        target that fails a case (an older revision without the dialect, say) skips it."""
        if upstream.name == "fake":
            await self.set_fake(upstream, 0, 0)
        for case in _cases(phase):
            for target in self.targets:
                if self.skips(phase, case, target.name):
                    continue
                if not target.speaks(case):
                    only = ", ".join(sorted(target.dialects or ()))
                    self.skip(phase, case, target.name, f"driven through {only} only")
                    continue
                status, body = await fetch(HOST, target.port, target.request(case))
                if not target.answered(case, status, body):
                    why = f"HTTP {status}: {body[:300].decode(errors='replace')}"
                    self.say(f"{target.name} fails {case.name}: {why}")
                    self.skip(phase, case, target.name, why)

    async def measure(self, scenario: Scenario, target: Target, upstream: Upstream) -> Summary:
        """One window; in full mode a window that other work on the machine disturbed (more
        than a quarter of a core busy outside the harness) is measured once more, and the
        quieter of the two kept."""
        summary = await self._measure_once(scenario, target, upstream)
        for _ in range(RETRIES_PER_WINDOW):
            if (
                self.mode.name != "full"
                or summary["foreign_cores"] <= FOREIGN_RETRY_CORES
                or self.retries >= RETRIES_PER_RUN
            ):
                break
            again = await self._measure_once(scenario, target, upstream)
            self.retries += 1
            if again["foreign_cores"] < summary["foreign_cores"]:
                summary = again
        return summary

    async def _measure_once(
        self, scenario: Scenario, target: Target, upstream: Upstream
    ) -> Summary:
        assert target.proc is not None
        cpu0, up0, me0 = target.proc.cpu_seconds(), upstream.proc.cpu_seconds(), self_cpu_seconds()
        busy0, wall0 = machine_busy_seconds(), time.perf_counter()
        result = await run_load(
            HOST,
            target.port,
            target.request(scenario.case),
            scenario.concurrency,
            scenario.window_s,
            warmup_s=self.mode.warmup_s,
            streaming=scenario.case.stream,
        )
        cpu1, up1, me1 = target.proc.cpu_seconds(), upstream.proc.cpu_seconds(), self_cpu_seconds()
        busy1, wall1 = machine_busy_seconds(), time.perf_counter()
        ours = (cpu1 - cpu0) + (me1 - me0) + (0 if target.kind == "direct" else up1 - up0)
        summary = stream_summary(result) if scenario.case.stream else latency_summary(result)
        # Cores' worth of CPU used by anything but the harness, target and upstream meanwhile.
        summary["foreign_cores"] = max(0.0, (busy1 - busy0) - ours) / (wall1 - wall0)
        answered = max(result.answered, 1)
        summary["cpu_us"] = (cpu1 - cpu0) / answered * 1e6
        summary["upstream_cpu_us"] = (up1 - up0) / answered * 1e6
        summary["client_cpu_us"] = (me1 - me0) / answered * 1e6
        if target.kind != "direct":
            self.client_cpu_us.append(summary["client_cpu_us"])
        if result.errors:
            self.say(
                f"  {target.name} {scenario.id}: {result.errors} errors ({result.first_error})"
            )
        return summary

    async def run_phase(self, phase: list[Scenario], upstream: Upstream) -> None:
        for round_index in range(self.mode.rounds):
            for n, scenario in enumerate(phase):
                if upstream.name == "fake":
                    await self.set_fake(upstream, scenario.latency_ms, scenario.chunk_delay_ms)
                # Rotate the order each round and scenario: no target is always first or last.
                shift = (round_index + n) % len(self.targets)
                order = self.targets[shift:] + self.targets[:shift]
                for target in order:
                    if target.name in self.skipped.get(scenario.id, {}):
                        continue
                    summary = await self.measure(scenario, target, upstream)
                    self.rounds.setdefault(scenario.id, {}).setdefault(target.name, []).append(
                        summary
                    )
                self.say(
                    f"round {round_index + 1}/{self.mode.rounds} {scenario.id}: "
                    + ", ".join(
                        f"{t.name} p50 {self.rounds[scenario.id][t.name][-1]['p50']:.2f} ms"
                        f" {self.rounds[scenario.id][t.name][-1]['rps']:.0f}/s"
                        for t in self.targets
                        if t.name in self.rounds.get(scenario.id, {})
                    )
                )

    async def profile_proxy(
        self, upstream: Upstream, case: Case, concurrency: int, name: str = "PROXY-mem"
    ) -> dict[str, Any]:
        proxy = next(t for t in self.targets if t.name == name)
        assert proxy.proc is not None
        raw = self.out / f"profile-{name}-{case.name}-c{concurrency}.txt"
        raw.unlink(missing_ok=True)
        seconds = self.mode.profile_s
        recorder = asyncio.ensure_future(
            profile.record(proxy.proc.pid, seconds, raw, self.client_core)
        )
        load = await run_load(
            HOST,
            proxy.port,
            proxy.request(case),
            concurrency,
            seconds + 0.5,
            warmup_s=0.2,
            streaming=case.stream,
        )
        error = await recorder
        if error is not None:
            self.say(f"profile skipped: {error}")
            return {"error": error}
        summary = profile.summarise(raw)
        summary.update(
            target=name, case=case.name, concurrency=concurrency, rps=round(load.rps), raw=raw.name
        )
        return summary


def _cases(phase: list[Scenario]) -> list[Case]:
    """The phase's cases, each once, in order."""
    seen: dict[str, Case] = {}
    for scenario in phase:
        seen.setdefault(scenario.case.name, scenario.case)
    return list(seen.values())


def machine() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = 0.0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    versions = {}
    for name in (
        "uvicorn",
        "uvloop",
        "httptools",
        "starlette",
        "aiohttp",
        "pydantic",
        "pydantic-core",
        "aws-lambda-powertools",
        "gemini-cli-proxy",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    if litellm_available():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(  # noqa: S603
                [
                    str(LITELLM_VENV / "bin" / "python"),
                    "-c",
                    "import importlib.metadata as m; print(m.version('litellm'))",
                ],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            versions["litellm"] = done.stdout.strip()
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        repo = HERE.parent
        commit = subprocess.run(  # noqa: S603
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            ["git", "-C", str(repo), "status", "--porcelain", "--", "layers"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        if dirty:
            commit += " (package has uncommitted changes)"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


async def record_answers(upstream: Upstream) -> str:
    """What the fake answers to the small case, for the replay server to serve."""
    small, stream = payloads.small(), payloads.small(stream=True)
    headers = {"x-goog-api-key": AI_STUDIO_KEYS[0]}
    host = f"{HOST}:{upstream.port}"
    status, generate = await fetch(
        HOST,
        upstream.port,
        build_request("POST", small.gemini_path(), small.gemini_body(), host, headers),
    )
    status2, events = await fetch(
        HOST,
        upstream.port,
        build_request("POST", stream.gemini_path(), stream.gemini_body(), host, headers),
    )
    if status != 200 or status2 != 200:
        raise RuntimeError("the fake did not answer the small case")
    pieces = [p for p in events.replace(b"\r\n", b"\n").split(b"\n\n") if p.strip()]
    return json.dumps(
        {"generate": generate.decode(), "stream_events": [p.decode() + "\r\n\r\n" for p in pieces]}
    )


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    mode = QUICK if args.quick else FULL
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.log"):
        old.unlink()
    client_core, server_core = cores()
    pin_self(client_core)
    peers = args.peers
    if peers and not litellm_available():
        raise SystemExit("LiteLLM is not installed: run `make bench-peers` (it installs it)")
    base = baseline.materialise(args.baseline, HERE.parent, out) if args.baseline else None
    targets = make_targets(peers, base)
    harness = Harness(mode, targets, out, client_core, server_core)
    started = time.perf_counter()
    load_before = os.getloadavg()
    harness.say(
        f"mode {mode.name}, targets {', '.join(t.name for t in targets)}; load client and "
        f"upstream on core {client_core}, targets on core {server_core}; load {load_before[0]:.2f}"
    )
    plan = scenarios(mode)
    results: dict[str, Any] = {"machine": machine(), "mode": mode.__dict__, "peers": peers}

    fake = start_fake(client_core, out)
    replay: Upstream | None = None
    try:
        if base is not None:
            results["baseline"] = check_baseline(harness, base, fake)
        # Phase 1: the faithful fake.
        phase = [s for s in plan if s.phase == "fake"]
        await harness.start_all(fake)
        phase = await harness.capture(phase, fake)
        plan = phase + [s for s in plan if s.phase != "fake"]
        answers = out / "replay-answers.json"
        answers.write_text(await record_answers(fake), encoding="utf-8")
        await harness.check(phase, fake)
        await harness.run_phase(phase, fake)
        harness.stop_all()

        # Phase 2: the replay upstream (throughput with the upstream out of the way), profile.
        replay = start_replay(client_core, out, answers)
        phase = [s for s in plan if s.phase == "replay"]
        await harness.start_all(replay)
        await harness.check(phase, replay)
        await harness.run_phase(phase, replay)
        profiles = [await harness.profile_proxy(replay, payloads.small(), 16)]
        if base is not None:  # the same load on the revision before: where the difference is
            profiles.append(
                await harness.profile_proxy(replay, payloads.small(), 16, BASELINE_TARGET)
            )
        if mode.name == "full":
            # The replay upstream answers any generateContent with the small case's answer:
            # the dialects' streams ask the same of it, so their profiles compare with chat's.
            for case in (
                payloads.small(stream=True),
                payloads.responses(),
                payloads.messages(),
                payloads.native(stream=True),
            ):
                profiles.append(await harness.profile_proxy(replay, case, 16))
            profiles.append(await harness.profile_proxy(replay, payloads.large_prompt(), 1))
        results["profiles"] = profiles
        harness.stop_all()
        replay.proc.stop()

        # Cold starts (the fake answers the first chat), import times, counts.
        harness.say("cold starts")
        await harness.set_fake(fake, 0, 0)
        results["cold"] = await coldstart.cold_starts(
            targets, fake, server_core, out, mode.cold_reps
        )
        results["imports"] = coldstart.import_times(fake, server_core, out, mode.cold_reps)
        if mode.name == "full":  # builds two layers (~1 minute): too long for the quick mode
            harness.say("cold starts of the Lambda layer, today's and ours (python3.13)")
            results["layers"] = await coldstart.layer_cold_starts(
                fake, server_core, out, mode.cold_reps
            )
        harness.say("state-store and Secrets Manager counts")
        counts = out / "counts.json"
        counter = await asyncio.create_subprocess_exec(
            PYTHON,
            "-m",
            "bench.inprocess",
            "--seconds",
            str(mode.count_seconds),
            "--out",
            str(counts),
            cwd=HERE.parent,
        )
        if await asyncio.wait_for(counter.wait(), 180) != 0:
            raise RuntimeError("bench.inprocess failed")
        results["counts"] = json.loads(counts.read_text(encoding="utf-8"))
    finally:
        harness.stop_all()
        if replay is not None:
            replay.proc.stop()
        fake.proc.stop()

    results["scenarios"] = [
        {
            "id": s.id,
            "phase": s.phase,
            "case": s.case.name,
            "concurrency": s.concurrency,
            "title": s.title,
            "latency_ms": s.latency_ms,
            "chunk_delay_ms": s.chunk_delay_ms,
            "window_s": s.window_s,
        }
        for s in plan
    ]
    results["targets"] = [{"name": t.name, "kind": t.kind, "notes": t.notes} for t in targets]
    results["rounds"] = harness.rounds
    results["medians"] = {
        sid: {name: median_summary(rs) for name, rs in by_target.items()}
        for sid, by_target in harness.rounds.items()
    }
    results["skipped"] = harness.skipped
    results["comparisons"] = compare.everything(harness.rounds)
    results["peak_rss_mb"] = {k: round(v, 1) for k, v in harness.rss.items()}
    results["spawn_ms"] = harness.starts
    results["retries"] = harness.retries
    results["retry_threshold_cores"] = FOREIGN_RETRY_CORES
    foreign = sorted(
        s["foreign_cores"]
        for by_target in harness.rounds.values()
        for rounds in by_target.values()
        for s in rounds
    )
    results["foreign_cores"] = {
        "median": foreign[len(foreign) // 2] if foreign else None,
        "max": foreign[-1] if foreign else None,
    }
    results["client_cpu_us"] = (
        sorted(harness.client_cpu_us)[len(harness.client_cpu_us) // 2]
        if harness.client_cpu_us
        else None
    )
    results["pinning"] = {"client_and_upstream": client_core, "targets": server_core}
    results["load_before"] = load_before
    results["load_after"] = os.getloadavg()
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    harness.say(f"done in {results['elapsed_s']} s")
    return results


def check_baseline(harness: Harness, base: baseline.Baseline, fake: Upstream) -> dict[str, Any]:
    """Which gemini_proxy PROXY-base imports, with its very environment: logged, and a run
    that would measure today's package twice stops here."""
    target = next(t for t in harness.targets if t.name == BASELINE_TARGET)
    env = target_env(target, fake.url, harness.out, f"{target.name}-import")
    package = baseline.check_import(base, PYTHON, env, harness.out)
    note = f"{target.name}: {base.rev} = {base.commit[:12]} ({base.subject}); imports {package}"
    (harness.out / f"{target.name}-import.log").write_text(note + "\n", encoding="utf-8")
    harness.say(note)
    return {
        "rev": base.rev,
        "commit": base.commit,
        "subject": base.subject,
        "package_file": package,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="two short rounds (< 3 minutes)")
    parser.add_argument("--peers", action="store_true", help="include LiteLLM's proxy")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        default="",
        help="also run the proxy at git revision REV as PROXY-base (chat scenarios only)",
    )
    parser.add_argument("--out", type=Path, default=HERE, help="where RESULTS.md goes")
    args = parser.parse_args()
    results = uvloop.run(main_async(args))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps(jsonable(results), indent=1), encoding="utf-8"
    )
    report.write(results, args.out)


if __name__ == "__main__":
    main()
