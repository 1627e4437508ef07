"""The fault mix of issue #16, shared by tests/e2e/test_failover_under_faults.py (240 requests
inside `make test`) and the chaos harness (`make chaos`, 1,200 requests, three processes).

Six AI Studio keys: per-minute 429s half the time on two of them, a per-day 429 on one, a dead
key, an overloaded key (503 on every request), a healthy one; and on every key 10% HTTP 500s and
5% connection resets. Half the requests are streamed; two models.

What is scored, from the client's side and from the fake's request log (the witness):
- success rate and failures by class (status and OpenAI error code);
- requests sent to a credential inside a cooldown the proxy had been told about: after a 429,
  until its retry hint ran out (the proxy may bench longer, never shorter), per (key, model);
  after a per-day 429, for the rest of the run; after an invalid-key answer, at all;
- streamed or whole answers whose text is not exactly the one answer (nothing replayed).
"""

import json
import math
import os
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
from openai import OpenAI

from gemini_proxy.credentials.fingerprint import fingerprint
from tests.support.http import call, post_json
from tests.support.processes import CLI, start_serve, wait_healthy
from tests.support.servers import free_port

KEYS = [f"AIzaMIX-fault-mix-key-{n}" for n in range(6)]
MODELS = ["gemini-2.5-flash", "gemini-2.5-pro"]
# Rules apply first-match with their own chance, in this order: the faults every key suffers
# come first, so that each key sees them at their stated rate.
EVERYWHERE: list[tuple[dict[str, Any], float]] = [
    ({"type": "internal"}, 0.10),
    ({"type": "reset"}, 0.05),
]
# key index -> (fault, probability, the bench it tells the proxy about in seconds: None for
# none, inf for the rest of the run)
PER_KEY: dict[int, tuple[dict[str, Any], float, float | None]] = {
    0: ({"type": "rate_limit_minute", "retry_delay": "1.5s"}, 0.5, 1.5),
    1: ({"type": "rate_limit_minute", "retry_delay": "2.5s"}, 0.5, 2.5),
    2: ({"type": "quota_day"}, 1.0, math.inf),
    3: ({"type": "invalid_key"}, 1.0, math.inf),
    4: ({"type": "unavailable"}, 1.0, None),  # "The model is overloaded", every time
}
HEALTHY = KEYS[5]
# A request the proxy had already chosen a credential for when Gemini's 429 reached it (or,
# across processes, before the shared store had the bench) was in flight, not sent into a known
# cooldown. On a busy 2-core machine such a request was seen to reach the fake up to ~0.2 s
# after the 429 (traced: chosen before the 429 arrived, delivered late), so calls that start
# this soon after a 429 are not counted; a proxy ignoring benches would still send many later.
IN_FLIGHT_SECONDS = 0.25


@dataclass
class Servers:
    fake: str
    proxies: list[str]
    logs: list[Path]


@contextmanager
def servers(folder: Path, processes: int) -> Iterator[Servers]:
    """The fake Gemini playing the mix and `processes` proxies on one SQLite state, each in a
    process of its own: the fake's clock readings are the witness, and must not wait on a
    process busy with the clients' threads (nor must the proxies' decisions)."""
    with ExitStack() as stack:
        fake = _start_fake(folder, stack)
        script(fake)
        creds = folder / "oauth creds"
        creds.mkdir()
        (creds / "ai_studio_keys.txt").write_text("\n".join(KEYS) + "\n")
        config = folder / "config.yaml"
        config.write_text(
            f"upstream: {{ai_studio_base_url: '{fake}', code_assist_base_url: '{fake}'}}\n"
            f"state: {{backend: sqlite, sqlite_path: '{folder / 'state.sqlite3'}'}}\n"
        )
        env = {k: v for k, v in os.environ.items() if not _ours(k)}
        started = []
        for n in range(processes):
            log = folder / f"proxy-{n}.log"
            output = stack.enter_context(log.open("wb"))
            args = ["--config", str(config), "--creds-dir", str(creds)]
            url, process = start_serve(args, folder, env, output=output)
            stack.callback(_stop, process)
            started.append((url, process, log))
        for url, process, _ in started:
            wait_healthy(url, process)
        yield Servers(fake, [url for url, _, _ in started], [log for _, _, log in started])


def _ours(name: str) -> bool:
    # The proxies' credentials and settings come from the files above only.
    return name in ("GEMINI_PROXY_API_KEYS", "CONFIG_YAML") or name.startswith("GEMINI_API_KEY")


def _start_fake(folder: Path, stack: ExitStack) -> str:
    port = free_port()
    output = stack.enter_context((folder / "fake.log").open("wb"))
    process = subprocess.Popen(
        [*CLI, "fake-gemini", "--port", str(port), "--chunk-delay-ms", "5"],
        cwd=folder,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    stack.callback(_stop, process)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if call("GET", f"{url}/_control/settings", timeout=1).status == 200:
                return url
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("the fake Gemini did not start")
        time.sleep(0.05)


def _stop(process: "subprocess.Popen[bytes]") -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def requests_log(fake_url: str) -> list[dict[str, Any]]:
    reply = call("GET", f"{fake_url}/_control/requests")
    assert reply.status == 200
    entries: list[dict[str, Any]] = reply.json()["requests"]
    return entries


def script(fake_url: str) -> None:
    """Tell the fake to play the mix (after a reset)."""
    for fault, chance in EVERYWHERE:
        _rule(fake_url, {"fault": fault, "probability": chance})
    for index, (fault, chance, _) in PER_KEY.items():
        _rule(fake_url, {"fault": fault, "probability": chance, "credential": _fp(index)})


def _rule(fake_url: str, rule: dict[str, Any]) -> None:
    reply = post_json(f"{fake_url}/_control/faults", rule)
    assert reply.status == 200, reply.body


def _fp(index: int) -> str:
    return fingerprint(KEYS[index])


def ask(client: OpenAI, n: int) -> dict[str, Any]:
    """Request number `n`: odd ones streamed, models in turn; never raises."""
    prompt = f"fault mix request {n} please answer"
    model = MODELS[(n // 2) % len(MODELS)]
    messages: Any = [{"role": "user", "content": prompt}]
    result: dict[str, Any] = {"prompt": prompt, "stream": n % 2 == 1, "text": ""}
    try:
        if result["stream"]:
            with client.chat.completions.with_streaming_response.create(
                model=model, messages=messages, stream=True
            ) as response:
                for line in response.iter_lines():
                    if not line.startswith("data: {"):
                        continue
                    chunk = json.loads(line[6:])
                    if "error" in chunk:
                        return {**result, "ok": False, "status": 200, "body": chunk}
                    if chunk["choices"]:
                        result["text"] += chunk["choices"][0]["delta"].get("content") or ""
            return {**result, "ok": True}
        reply = client.chat.completions.create(model=model, messages=messages)
        return {**result, "ok": True, "text": reply.choices[0].message.content}
    except openai.APIStatusError as error:
        try:
            body = error.response.json()
        except ValueError:
            body = None
        return {**result, "ok": False, "status": error.status_code, "body": body}
    except openai.APIConnectionError as error:
        return {**result, "ok": False, "status": 0, "body": None, "why": str(error)}


@dataclass
class Tally:
    requests: int = 0
    succeeded: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    not_openai_shaped: int = 0
    wrong_status: int = 0
    duplicated_text: int = 0
    during_cooldown: int = 0
    upstream_attempts: int = 0
    faults_fired: Counter[str] = field(default_factory=Counter)

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.requests if self.requests else 0.0

    def lines(self) -> list[str]:
        return [
            f"requests: {self.requests} ({self.upstream_attempts} upstream attempts)",
            f"success rate: {self.success_rate:.2%} ({self.succeeded})",
            f"failures by class: {dict(self.failures)}",
            f"failures not OpenAI-shaped: {self.not_openai_shaped}",
            f"failures with a wrong status: {self.wrong_status}",
            f"requests sent to a credential during a known cooldown: {self.during_cooldown}",
            f"answers with duplicated or altered text: {self.duplicated_text}",
            f"faults fired: {dict(self.faults_fired)}",
        ]


def score(results: list[dict[str, Any]], log: list[dict[str, Any]]) -> Tally:
    """The tally of a run: the clients' results and the fake's log of generate/stream calls."""
    tally = Tally(requests=len(results))
    for result in results:
        expected = f"Echo: {result['prompt']}"
        if result["ok"]:
            tally.succeeded += 1
            tally.duplicated_text += result["text"] != expected
            continue
        body = result.get("body")
        error = body.get("error") if isinstance(body, dict) else None
        if not (isinstance(error, dict) and {"message", "type", "param", "code"} <= set(error)):
            tally.not_openai_shaped += 1
            tally.failures[f"{result['status']}:unshaped"] += 1
            continue
        tally.failures[f"{result['status']}:{error['code']}"] += 1
        tally.wrong_status += result["status"] not in (200, 429, 502, 503)
        # What came before an in-band error must be the start of the answer, once.
        tally.duplicated_text += bool(result["text"]) and not expected.startswith(result["text"])
    calls = [e for e in log if e["kind"] in ("generate", "stream")]
    tally.upstream_attempts = len(calls)
    tally.faults_fired = Counter(e["fault"] for e in calls if e["fault"])
    tally.during_cooldown = len(cooldown_violations(log))
    return tally


def cooldown_violations(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calls that reached a (key, model) inside a cooldown the proxy had been told about."""
    calls = [e for e in log if e["kind"] in ("generate", "stream")]
    by_pair: defaultdict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in calls:
        by_pair[(entry["credential"], entry["model"])].append(entry)
    benches = {_fp(index): bench for index, (_, _, bench) in PER_KEY.items() if bench}
    dead = _fp(3)
    violations: dict[int, dict[str, Any]] = {}
    for (credential, _), entries in by_pair.items():
        bench = benches.get(credential)
        if bench is None:
            continue
        told = [e for e in entries if e["status"] == 429]
        if credential == dead:
            # Invalid for every model at once: a later call on any model is one.
            told = [e for e in calls if e["credential"] == dead and e["status"] == 400]
        for limit in told:
            start = limit["ended_at"] + IN_FLIGHT_SECONDS
            end = limit["started_at"] + bench
            violations.update({e["seq"]: e for e in entries if start < e["started_at"] < end})
    return list(violations.values())
