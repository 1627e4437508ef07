"""Cold start: how long a fresh process takes to answer, and what its imports cost.

- spawn -> first `GET /health` 200 -> first chat completion 200, for each server target, started
  exactly as in the throughput runs (for PROXY: the Lambda entry's uvicorn --factory command,
  which is also what the Lambda Web Adapter waits on);
- import + app ready in a fresh interpreter (the factory's imports, uvicorn's, then
  `app_from_environment()`), timed inside the process, and the interpreter's own start;
- `python -X importtime` of the same imports: total and the heaviest top-level packages.
"""

import asyncio
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.loadgen import fetch
from bench.payloads import small
from bench.procs import wait_ready
from bench.targets import (
    HOST,
    PYTHON,
    Target,
    Upstream,
    proxy_env,
    start_target,
)

LAMBDA_IMPORTS = "import uvicorn.main, uvloop, httptools; import gemini_proxy.app.factory"
_READY_SCRIPT = (
    "import time; t0 = time.perf_counter(); " + LAMBDA_IMPORTS + "; t1 = time.perf_counter(); "
    "app = gemini_proxy.app.factory.app_from_environment(); t2 = time.perf_counter(); "
    "print(round((t1 - t0) * 1000, 2), round((t2 - t0) * 1000, 2))"
)


async def spawn_to_answer(
    target: Target, upstream: Upstream, core: int | None, out: Path, wait_s: float
) -> dict[str, Any]:
    """One fresh start of `target`: seconds to /health 200 and to the first chat answer."""
    start_target(target, upstream, core, out)
    assert target.proc is not None
    try:
        health_s = await wait_ready(target.port, target.health_path, wait_s, target.proc)
        if health_s is None:
            return {"error": "never answered /health", "log": target.proc.log_tail()}
        health_s += time.perf_counter() - target.proc.started_at - health_s  # from spawn
        status, body = await fetch(HOST, target.port, target.request(small()), wait_s=30)
        chat_s = time.perf_counter() - target.proc.started_at
        return {
            "health_ms": round(health_s * 1000, 1),
            "first_chat_ms": round(chat_s * 1000, 1),
            "first_chat_status": status,
            "rss_after_first_mb": round(target.proc.rss_mb(), 1),
            "ok": status == 200 and bool(body),
        }
    finally:
        target.proc.stop()


async def cold_starts(
    targets: list[Target], upstream: Upstream, core: int | None, out: Path, reps: int
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for target in targets:
        if target.kind == "direct":
            continue
        runs = []
        for _ in range(reps if target.kind != "litellm" else max(1, reps // 2)):
            wait_s = 120.0 if target.kind == "litellm" else 30.0
            runs.append(await spawn_to_answer(target, upstream, core, out, wait_s))
            await asyncio.sleep(0.2)
        good = [r for r in runs if "error" not in r]
        results[target.name] = {
            "runs": runs,
            "health_ms": statistics.median(r["health_ms"] for r in good) if good else None,
            "first_chat_ms": statistics.median(r["first_chat_ms"] for r in good) if good else None,
        }
    return results


def _run(argv: list[str], env: dict[str, str], cwd: Path, core: int | None) -> tuple[float, str]:
    if core is not None and shutil.which("taskset"):
        argv = ["taskset", "-c", str(core), *argv]
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (fixed argv)
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=True
    )
    return (time.perf_counter() - started) * 1000, done.stdout + done.stderr


def import_times(upstream: Upstream, core: int | None, out: Path, reps: int) -> dict[str, Any]:
    env = proxy_env(upstream.url, "memory", out, "coldstart")
    interpreter = [_run([PYTHON, "-c", "pass"], env, out, core)[0] for _ in range(reps)]
    imports, ready, wall = [], [], []
    for _ in range(reps):
        elapsed, text = _run([PYTHON, "-c", _READY_SCRIPT], env, out, core)
        import_ms, ready_ms = (float(v) for v in text.split()[-2:])
        imports.append(import_ms)
        ready.append(ready_ms)
        wall.append(elapsed)
    _, baseline = _run([PYTHON, "-X", "importtime", "-c", "pass"], env, out, core)
    _, report = _run([PYTHON, "-X", "importtime", "-c", LAMBDA_IMPORTS], env, out, core)
    return {
        "interpreter_ms": round(statistics.median(interpreter), 1),
        "import_ms": round(statistics.median(imports), 1),
        "import_and_app_ready_ms": round(statistics.median(ready), 1),
        "process_wall_ms": round(statistics.median(wall), 1),
        "importtime": parse_importtime(report, baseline),
    }


def parse_importtime(report: str, baseline: str = "", top: int = 12) -> dict[str, Any]:
    """Total and heaviest packages from `-X importtime` lines (self | cumulative | name);
    modules in `baseline` (the report of `-c pass`: the interpreter's own start) are left out."""
    started_with = {name for name, _, _, _ in _importtime_rows(baseline)}
    top_level: dict[str, int] = {}
    per_package: dict[str, int] = {}
    per_module: dict[str, int] = {}
    for module, self_us, cumulative_us, depth in _importtime_rows(report):
        if module in started_with:
            continue
        if depth == 0:
            top_level[module] = cumulative_us
        package = module.split(".")[0]
        per_package[package] = per_package.get(package, 0) + self_us
        per_module[module] = self_us
    heaviest = sorted(per_package.items(), key=lambda kv: -kv[1])[:top]
    return {
        "total_ms": round(sum(top_level.values()) / 1000, 1),
        "packages_self_ms": [(k, round(v / 1000, 1)) for k, v in heaviest],
        "modules_self_ms": [
            (k, round(v / 1000, 1)) for k, v in sorted(per_module.items(), key=lambda kv: -kv[1])
        ][:top],
    }


def _importtime_rows(report: str) -> list[tuple[str, int, int, int]]:
    rows = []
    for line in report.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        name = fields[2]
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((name.strip(), int(fields[0]), int(fields[1]), depth))
    return rows
