"""Cold start: how long a fresh process takes to answer, and what its imports cost.

- spawn -> first `GET /health` 200 -> first chat completion 200, for each server target, started
  exactly as in the throughput runs (for PROXY: the Lambda entry's uvicorn --factory command,
  which is also what the Lambda Web Adapter waits on);
- import + app ready in a fresh interpreter (the factory's imports, uvicorn's, then
  `app_from_environment()`), timed inside the process, and the interpreter's own start;
- `python -X importtime` of the same imports: total and the heaviest top-level packages;
- the Lambda layer, today's against ours, in one run (`layer_cold_starts`, below; alone:
  `python -m bench.coldstart --layers`, or `make bench-coldstart`).
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.loadgen import fetch
from bench.payloads import small
from bench.procs import Proc, cores, free_port, pin_self, wait_ready
from bench.targets import (
    HERE,
    HOST,
    PYTHON,
    Target,
    Upstream,
    proxy_env,
    start_fake,
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


# --- The Lambda layer: today's against ours, in one run ---------------------------------------
#
# before  the layer as `sam build`'s python3.13 build method shipped it: the whole package and
#         the dependencies' files, no bytecode. /opt is read-only on Lambda, so each cold start
#         compiled every module it imported; PYTHONDONTWRITEBYTECODE=1 does the same here.
# after   `make layer`, the template's build: the package without the CLI and the fake Gemini,
#         unchecked-hash bytecode compiled by python3.13, for the dependencies too.
# Both are built for this machine's architecture (Lambda's arm64 wheels cannot load here) from
# the same sources and wheels, and run by python3.13 as functions/proxy/run.sh runs them.

LAYERS = {"before": ["LAYER_EXCLUDE=", "LAYER_COMPILE=no"], "after": []}
LAMBDA_PYTHON = "3.13"
_LAYER_READY_SCRIPT = _READY_SCRIPT.replace(
    "print(round((t1 - t0) * 1000, 2), round((t2 - t0) * 1000, 2))",
    "print(round((t1 - t0) * 1000, 2), round((t2 - t0) * 1000, 2),"
    " round(time.process_time() * 1000, 2))",
)


def python313() -> tuple[str, str]:
    """The real python3.13 executable (a pyenv shim would add its own start to every figure)
    and its version."""
    env = {**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.13.0")}
    script = "import platform, sys; print(sys.executable, platform.python_version())"
    done = subprocess.run(  # noqa: S603 (fixed argv)
        [os.environ.get("LAYER_PYTHON", "python3.13"), "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    executable, version = done.stdout.split()
    return executable, version


def build_layers(out: Path, source: Path) -> dict[str, Path]:
    """Both layers, built by the Makefile for this machine; their python/ folders."""
    built = {}
    for name, variables in LAYERS.items():
        target = out / "layers" / name / "python"
        make = ["make", "-s", "--no-print-directory", "-C", str(HERE.parent), "layer"]
        make += [f"LAYER_ARCH={platform.machine()}", f"LAYER_SRC={source}", f"LAYER_OUT={target}"]
        subprocess.run(  # noqa: S603 (fixed argv)
            [*make, *variables],
            env={**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.13.0")},
            capture_output=True,
            timeout=600,
            check=True,
        )
        built[name] = target
    return built


def _layer_env(upstream_url: str, out: Path, layer: Path) -> dict[str, str]:
    env = proxy_env(upstream_url, "memory", out, "layer")
    env.pop("PYTHONPYCACHEPREFIX", None)  # no bytecode cache between runs: /opt is read-only
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONPATH"] = str(layer)
    env["AWS_LAMBDA_FUNCTION_NAME"] = "gemini-proxy-ProxyFunction"  # as on Lambda (EMF on)
    return env


async def _layer_spawn(
    python: str, env: dict[str, str], upstream: Upstream | None, core: int | None, out: Path
) -> dict[str, Any]:
    """Spawn -> /health 200 (and the first chat), as the Web Adapter sees the start script."""
    port = free_port()
    argv = [python, "-s", "-m", "uvicorn", "--factory"]
    argv += ["gemini_proxy.app.factory:app_from_environment", "--host", HOST, "--port", str(port)]
    argv += ["--no-access-log", "--log-level", "warning"]
    proc = Proc("layer", argv, env, core, out / "layer-coldstart.log", cwd=out)
    proc.start()
    try:
        health_s = await wait_ready(port, "/health", 60.0, proc, poll_s=0.001)
        if health_s is None:
            return {"error": "never answered /health", "log": proc.log_tail()}
        result = {
            "health_ms": (time.perf_counter() - proc.started_at) * 1000,
            "health_cpu_ms": proc.cpu_seconds() * 1000,
        }
        if upstream is not None:
            target = Target("layer", "proxy", port=port)
            status, _ = await fetch(HOST, port, target.request(small()), wait_s=30)
            result["first_chat_status"] = status
            if status == 200:  # the table calls it "first chat 200"
                result["first_chat_ms"] = (time.perf_counter() - proc.started_at) * 1000
        return result
    finally:
        proc.stop()


async def layer_cold_starts(
    upstream: Upstream | None, core: int | None, out: Path, reps: int, source: Path | None = None
) -> dict[str, Any]:
    """Today's layer against ours, interleaved rep by rep so that drift hits both alike."""
    try:
        python, version = python313()
        layers = build_layers(out, source or HERE.parent / "layers" / "common")
    except (OSError, subprocess.SubprocessError) as error:
        return {"error": f"layers not built: {error}"}
    url = upstream.url if upstream else "http://127.0.0.1:9"
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in layers}
    floor_env = _layer_env(url, out, layers["after"])
    floor_script, floor_modules = _dependencies_script(python, floor_env, out, layers["after"])
    runs[FLOOR] = []
    loads = [os.getloadavg()[0]]
    for rep in range(reps):
        order = list(layers) if rep % 2 == 0 else list(reversed(layers))
        for name in order:
            env = _layer_env(url, out, layers[name])
            _, text = _run([python, "-s", "-c", _LAYER_READY_SCRIPT], env, out, core)
            import_ms, ready_ms, ready_cpu_ms = (float(v) for v in text.split()[-3:])
            run = {"import_ms": import_ms, "ready_ms": ready_ms, "ready_cpu_ms": ready_cpu_ms}
            run.update(await _layer_spawn(python, env, upstream, core, out))
            runs[name].append(run)
        _, text = _run([python, "-s", "-c", floor_script], floor_env, out, core)
        import_ms, import_cpu_ms = (float(v) for v in text.split()[-2:])
        runs[FLOOR].append({"import_ms": import_ms, "ready_cpu_ms": import_cpu_ms})
    loads.append(os.getloadavg()[0])
    keys = ("import_ms", "ready_ms", "ready_cpu_ms", "health_ms", "health_cpu_ms", "first_chat_ms")
    summary: dict[str, Any] = {}
    for name, layer_runs in runs.items():
        good = [r for r in layer_runs if "error" not in r]
        summary[name] = {key: _spread([r[key] for r in good if key in r]) for key in keys} | {
            "errors": len(layer_runs) - len(good),
            "size_mb": _size_mb(layers[name]) if name in layers else None,
        }
    return {
        "python": version,
        "machine": platform.machine(),
        "reps": reps,
        "load_1min": [round(v, 2) for v in loads],
        "floor_modules": floor_modules,
        "layers": summary,
        "runs": runs,
    }


# The floor under "import + app ready": the third-party modules the Lambda entry imports, from
# the after layer, imported alone in the order the entry imports them; no gemini_proxy module.
FLOOR = "dependencies"
_LIST_DEPENDENCIES = (
    "import sys; " + LAMBDA_IMPORTS + "; root = sys.argv[1]; "
    "print(' '.join(n for n, m in list(sys.modules.items()) "
    "if (getattr(m, '__file__', None) or '').startswith(root) "
    "and n.split('.')[0] != 'gemini_proxy'))"
)


def _dependencies_script(
    python: str, env: dict[str, str], out: Path, layer: Path
) -> tuple[str, int]:
    """The script that imports the floor, and how many modules it imports."""
    _, text = _run([python, "-s", "-c", _LIST_DEPENDENCIES, str(layer)], env, out, None)
    modules = text.split()
    script = (
        "import importlib, time; t0 = time.perf_counter(); "
        f"[importlib.import_module(n) for n in {modules!r}]; "
        "print(round((time.perf_counter() - t0) * 1000, 2), round(time.process_time() * 1000, 2))"
    )
    return script, len(modules)


def _spread(values: list[float]) -> dict[str, float] | None:
    """Median with the lower and upper quartile (this machine's neighbours make noise)."""
    if not values:
        return None
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return {
        "median": round(statistics.median(values), 1),
        "q1": round(q[0], 1),
        "q3": round(q[2], 1),
    }


def _size_mb(layer: Path) -> float:
    size = sum(f.stat().st_size for f in layer.rglob("*") if f.is_file())
    return round(size / 1e6, 1)


def layers_table(result: dict[str, Any]) -> str:
    """Markdown: before and after, median (quartiles), and what changed."""
    if "error" in result:
        return f"Layer comparison not measured: {result['error']}"
    rows = [
        ("import + app ready (in-process)", "ready_ms"),
        ("  of which imports", "import_ms"),
        ("  CPU time at app ready", "ready_cpu_ms"),
        ("spawn -> /health 200", "health_ms"),
        ("  server CPU time by then", "health_cpu_ms"),
        ("spawn -> first chat 200", "first_chat_ms"),
    ]
    before, after = result["layers"]["before"], result["layers"]["after"]
    lines = [
        "| ms, median (quartiles) | before: today's layer | after: `make layer` | after / before |",
        "|---|---|---|---|",
    ]
    for label, key in rows:
        b, a = before.get(key), after.get(key)
        if not b or not a:
            continue
        lines.append(
            f"| {label} | {b['median']:,.0f} ({b['q1']:,.0f}-{b['q3']:,.0f}) "
            f"| {a['median']:,.0f} ({a['q1']:,.0f}-{a['q3']:,.0f}) "
            f"| {a['median'] / b['median']:.2f} |"
        )
    lines.append(f"| layer size, MB unpacked | {before['size_mb']} | {after['size_mb']} | |")
    lines.append(_floor_line(result))
    return "\n".join(lines) + (
        f"\n\nPython {result['python']} ({result['machine']}), {result['reps']} interleaved starts "
        f"of each; load average (1 min) {result['load_1min'][0]} before, "
        f"{result['load_1min'][1]} after."
    )


def _floor_line(result: dict[str, Any]) -> str:
    """What the dependencies cost alone, under the after layer's import + app ready."""
    floor = result["layers"].get(FLOOR, {}).get("import_ms")
    ready = result["layers"]["after"].get("ready_ms")
    cpu = result["layers"].get(FLOOR, {}).get("ready_cpu_ms")
    if not floor or not ready or not cpu:
        return ""
    own = ready["median"] - floor["median"]
    return (
        f"\nThe floor: the {result['floor_modules']} third-party modules the entry imports "
        "(uvicorn, starlette, pydantic, aiohttp, Powertools, PyYAML and their own imports), "
        "from the after layer, imported alone in the same run: "
        f"**{floor['median']:,.0f} ms** ({floor['q1']:,.0f}-{floor['q3']:,.0f}), "
        f"CPU {cpu['median']:,.0f} ms. The proxy's own modules and app set-up add "
        f"{own:,.0f} ms on top ({own / ready['median']:.0%} of import + app ready).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Cold start: today's Lambda layer against ours")
    parser.add_argument("--layers", action="store_true", help="compare the layers (the default)")
    parser.add_argument("--reps", type=int, default=11)
    parser.add_argument("--source", type=Path, default=HERE.parent / "layers" / "common")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    client_core, server_core = cores()
    pin_self(client_core)
    fake = start_fake(client_core, out)  # answers the first chat
    try:
        asyncio.run(_wait_fake(fake))
        result = asyncio.run(
            layer_cold_starts(fake, server_core, out, args.reps, args.source.resolve())
        )
    finally:
        fake.proc.stop()
    (out / "coldstart-layers.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(layers_table(result))


async def _wait_fake(fake: Upstream) -> None:
    if await wait_ready(fake.port, "/_control/settings", 30.0, fake.proc) is None:
        raise RuntimeError("the fake Gemini did not start: " + fake.proc.log_tail())


if __name__ == "__main__":
    main()
