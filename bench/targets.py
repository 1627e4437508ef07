"""The servers the harness compares, and the upstreams they forward to.

DIRECT  the load client talks to the upstream itself: the floor of floors.
FLOOR   bench/floor.py, a pass-through aiohttp forwarder (no translation).
PROXY   ours, started as the Lambda entry starts it (uvicorn --factory
        gemini_proxy.app.factory:app_from_environment), uvloop + httptools, access log off,
        one worker, configured only through the environment (CONFIG_YAML, GEMINI_API_KEY_<n>,
        GEMINI_PROXY_API_KEYS), state in memory (PROXY-mem) or SQLite (PROXY-sqlite).
        PROXY-base (`--baseline REV`): the same command and environment, memory state, with
        another revision's package first on PYTHONPATH (bench/baseline.py).
LITELLM LiteLLM's proxy from bench/.venv-litellm (`make bench-peers`), `gemini/` provider with
        api_base at the same upstream, master key set, one worker, its default logging; driven
        through chat only.
"""

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.baseline import Baseline
from bench.loadgen import build_request
from bench.payloads import CHAT, MODEL, Case, answered_gemini
from bench.procs import Proc, free_port

PYTHON = sys.executable
HERE = Path(__file__).resolve().parent
LITELLM_VENV = HERE / ".venv-litellm"
CLIENT_KEY = "bench-client-key-0123456789"
LITELLM_MASTER_KEY = "sk-bench-" + "0123456789abcdef" * 4
AI_STUDIO_KEYS = [f"AIzaBench{n}-fake-key-for-the-fake-upstream" for n in range(1, 5)]
HOST = "127.0.0.1"
BASELINE_TARGET = "PROXY-base"

# Variables of the developer's shell that would change what the proxy loads.
_SCRUB = (
    "GEMINI_PROXY_CONFIG",
    "GEMINI_PROXY_SECRET_NAME",
    "GEMINI_PROXY_API_KEYS",
    "GEMINI_PROXY_CREDS_DIR",
    "CONFIG_YAML",
    "AWS_LAMBDA_FUNCTION_NAME",
    "LOG_LEVEL",
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
)


def base_env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in _SCRUB and not k.startswith("GEMINI_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # Bytecode is cached (as on any normal install, and as a Lambda layer should ship it), in
    # bench/out so that nothing outside bench/ is written.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(HERE / "out" / "pycache")
    return env


@dataclass
class Upstream:
    """The fake Gemini (faithful) or the replay server, on the load client's core."""

    name: str  # fake | replay
    port: int
    proc: Proc

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def start_fake(core: int | None, out: Path) -> Upstream:
    port = free_port()
    argv = [PYTHON, "-m", "gemini_proxy.cli.main", "fake-gemini", "--port", str(port)]
    proc = Proc("fake", argv, base_env(), core, out / "fake.log")
    proc.start()
    return Upstream("fake", port, proc)


def start_replay(core: int | None, out: Path, answers: Path) -> Upstream:
    port = free_port()
    argv = [PYTHON, "-m", "bench.replay", "--port", str(port), "--answers", str(answers)]
    proc = Proc("replay", argv, base_env(), core, out / "replay.log", cwd=HERE.parent)
    proc.start()
    return Upstream("replay", port, proc)


@dataclass
class Target:
    name: str
    kind: str  # direct | floor | proxy | litellm
    port: int = 0
    proc: Proc | None = None
    health_path: str = "/health"
    notes: str = ""
    dialects: frozenset[str] | None = None  # None: every dialect the harness has
    source: Path | None = None  # PROXY at another revision: its layers/common, first on the path
    _requests: dict[str, bytes] = field(default_factory=dict)

    def request(self, case: Case) -> bytes:
        """The bytes that ask this target for `case` (cached: built once per case)."""
        if case.name not in self._requests:
            host = f"{HOST}:{self.port}"
            if self.kind in ("direct", "floor"):
                # The Gemini request the proxy sends upstream for the case, with a pool key.
                request = build_request(
                    "POST",
                    case.gemini_path(),
                    case.gemini_body(),
                    host,
                    {"x-goog-api-key": AI_STUDIO_KEYS[0]},
                )
            else:
                key = CLIENT_KEY if self.kind == "proxy" else LITELLM_MASTER_KEY
                request = build_request(
                    "POST", case.path(), case.proxy_body(), host, case.headers(key)
                )
            self._requests[case.name] = request
        return self._requests[case.name]

    def speaks(self, case: Case) -> bool:
        """Whether the target is driven with `case` at all (LiteLLM: chat only)."""
        return self.dialects is None or case.dialect in self.dialects

    def answered(self, case: Case, status: int, body: bytes) -> bool:
        if self.kind in ("direct", "floor"):
            return answered_gemini(case.stream, status, body)
        return case.answered(status, body)


def proxy_config(upstream_url: str, backend: str, out: Path, name: str) -> str:
    return json.dumps(  # JSON is YAML
        {
            "upstream": {
                "ai_studio_base_url": upstream_url,
                "code_assist_base_url": upstream_url,
                "oauth_token_url": upstream_url + "/token",
            },
            "state": {"backend": backend, "sqlite_path": str(out / f"{name}.sqlite3")},
        }
    )


def proxy_env(upstream_url: str, backend: str, out: Path, name: str) -> dict[str, str]:
    env = base_env()
    env["CONFIG_YAML"] = proxy_config(upstream_url, backend, out, name)
    env["GEMINI_PROXY_API_KEYS"] = CLIENT_KEY
    env["GEMINI_PROXY_CREDS_DIR"] = str(out / "no-creds-dir")
    for n, key in enumerate(AI_STUDIO_KEYS, 1):
        env[f"GEMINI_API_KEY_{n}"] = key
    return env


def target_env(target: Target, upstream_url: str, out: Path, name: str) -> dict[str, str]:
    """A PROXY target's environment: memory or SQLite state, and for PROXY-base its revision's
    package ahead of the installed one."""
    backend = "sqlite" if target.name.endswith("sqlite") else "memory"
    env = proxy_env(upstream_url, backend, out, name)
    if target.source is not None:
        env["PYTHONPATH"] = str(target.source)
    return env


def proxy_argv(port: int) -> list[str]:
    # What functions/proxy/run.sh runs on Lambda, with the loop and parser named explicitly.
    return [
        PYTHON,
        "-m",
        "uvicorn",
        "--factory",
        "gemini_proxy.app.factory:app_from_environment",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]


def make_targets(peers: bool, baseline: Baseline | None = None) -> list[Target]:
    targets = [
        Target("DIRECT", "direct", notes="client -> upstream"),
        Target("FLOOR", "floor", notes="aiohttp pass-through"),
        Target("PROXY-mem", "proxy", notes="ours, memory state"),
        Target("PROXY-sqlite", "proxy", notes="ours, SQLite state"),
    ]
    if baseline is not None:
        targets.append(
            Target(
                BASELINE_TARGET,
                "proxy",
                notes=f"ours at {baseline.short} (before the edge redesign), memory state",
                source=baseline.source,
            )
        )
    if peers:
        targets.append(
            Target(
                "LITELLM",
                "litellm",
                health_path="/health/liveliness",
                notes="LiteLLM proxy (driven through chat only)",
                dialects=frozenset({CHAT}),
            )
        )
    return targets


def start_target(target: Target, upstream: Upstream, core: int | None, out: Path) -> None:
    """Start the target's server pointed at `upstream` (DIRECT has none: it is the upstream)."""
    if target.kind == "direct":
        target.port = upstream.port
        target.proc = upstream.proc
        target._requests.clear()
        return
    target.port = free_port()
    target._requests.clear()
    log = out / f"{target.name}-{upstream.name}.log"
    if target.kind == "floor":
        argv = [PYTHON, "-m", "bench.floor", "--port", str(target.port), "--upstream", upstream.url]
        target.proc = Proc(target.name, argv, base_env(), core, log, cwd=HERE.parent)
    elif target.kind == "proxy":
        env = target_env(target, upstream.url, out, f"{target.name}-{upstream.name}")
        sqlite = out / f"{target.name}-{upstream.name}.sqlite3"
        sqlite.unlink(missing_ok=True)
        if target.source is not None:
            with log.open("a", encoding="utf-8") as note:
                note.write(f"[bench] PYTHONPATH={target.source}\n")
        target.proc = Proc(target.name, proxy_argv(target.port), env, core, log, cwd=out)
    elif target.kind == "litellm":
        config = out / f"litellm-{upstream.name}.yaml"
        config.write_text(litellm_config(upstream.url), encoding="utf-8")
        env = base_env()
        env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no download of the price list
        env["LITELLM_TELEMETRY"] = "False"
        argv = [
            str(LITELLM_VENV / "bin" / "litellm"),
            "--config",
            str(config),
            "--host",
            HOST,
            "--port",
            str(target.port),
            "--num_workers",
            "1",
        ]
        target.proc = Proc(target.name, argv, env, core, log, cwd=out)
    assert target.proc is not None
    target.proc.start()


def litellm_config(upstream_url: str) -> str:
    model = {
        "model_name": MODEL,
        "litellm_params": {
            "model": f"gemini/{MODEL}",
            "api_key": AI_STUDIO_KEYS[0],
            # LiteLLM appends /models/<model>:<method> to a custom Gemini api_base.
            "api_base": upstream_url + "/v1beta",
        },
    }
    return json.dumps(
        {
            "model_list": [model],
            "litellm_settings": {"telemetry": False},
            "general_settings": {"master_key": LITELLM_MASTER_KEY},
        }
    )


def litellm_available() -> bool:
    return (LITELLM_VENV / "bin" / "litellm").exists()
