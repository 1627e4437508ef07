"""Chaos: several proxy processes sharing one SQLite state, a fake Gemini injecting every
kind of fault, many concurrent clients. Loopback only, bounded in time.

`python -m tests.chaos.harness [--processes 3] [--requests 1200] [--concurrency 32]` prints the
report (`make chaos`); tests/chaos/test_chaos.py runs a short version inside `make test`.
"""

import argparse
import json
import os
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import openai
from openai import OpenAI

from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from tests.support.fake import FakeGemini
from tests.support.http import call
from tests.support.processes import start_serve, wait_healthy
from tests.support.servers import ServerThread

KEYS = [f"AIzaCHAOS-key-{n:02d}" for n in range(8)]
ACCOUNTS = [f"1//chaos-refresh-{n}" for n in range(2)]
MODELS = ["gemini-2.5-flash", "gemini-2.5-pro"]
# Propagation allowance: a request another process sent in the few milliseconds between
# Gemini's 429 and that process's write reaching the shared store is not a violation.
PROPAGATION_SECONDS = 0.05

# (credential, fault, times, bench implied in seconds or None). Faults sit on particular
# credentials, as real ones do, so a request's attempts spread over healthy and faulty ones.
FAULTS: list[tuple[str, dict[str, Any], int | None, float | None]] = [
    (KEYS[0], {"type": "rate_limit_minute", "retry_delay": "1.5s"}, 6, 1.5),
    (KEYS[1], {"type": "rate_limit_minute", "retry_delay": "0.7s"}, 6, 0.7),
    (KEYS[2], {"type": "quota_day"}, None, float("inf")),
    (KEYS[3], {"type": "invalid_key"}, None, None),
    (KEYS[4], {"type": "leaked"}, None, None),
    (KEYS[5], {"type": "internal"}, 12, None),
    (KEYS[6], {"type": "reset"}, 12, None),
    (KEYS[7], {"type": "capacity"}, 12, None),
    (KEYS[7], {"type": "slow", "delay_ms": 300}, 12, None),
    (ACCOUNTS[0], {"type": "drop_mid_stream", "after_events": 2}, 8, None),
    (ACCOUNTS[1], {"type": "empty_stream"}, 8, None),
    (ACCOUNTS[1], {"type": "rate_limit_exceeded", "retry_delay": "1s"}, 4, 1.0),
]


@dataclass
class Report:
    requests: int = 0
    succeeded: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    not_openai_shaped: int = 0
    wrong_status: int = 0
    during_cooldown: int = 0
    duplicated_text: int = 0
    refreshes: dict[str, int] = field(default_factory=dict)
    lost_transitions: int = 0
    upstream_requests: int = 0
    seconds: float = 0.0
    faults_fired: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        rate = self.succeeded / self.requests if self.requests else 0.0
        return [
            f"requests: {self.requests} in {self.seconds:.1f} s "
            f"({self.upstream_requests} upstream attempts)",
            f"success rate: {rate:.2%} ({self.succeeded})",
            f"failures by class: {dict(self.failures)}",
            f"failures not OpenAI-shaped: {self.not_openai_shaped}",
            f"failures with a wrong status: {self.wrong_status}",
            f"requests sent to a credential during its cooldown: {self.during_cooldown}",
            f"streams with duplicated text: {self.duplicated_text}",
            f"token refreshes per account: {self.refreshes}",
            f"lost state transitions: {self.lost_transitions}",
            f"faults fired: {dict(self.faults_fired)}",
        ]


def _write_inputs(folder: Path, fake_url: str) -> tuple[Path, Path]:
    creds = folder / "oauth creds"
    creds.mkdir()
    (creds / "ai_studio_keys.txt").write_text("\n".join(KEYS) + "\n")
    for n, refresh in enumerate(ACCOUNTS):
        expired = {
            "access_token": f"ya29.chaos-expired-{n}",
            "refresh_token": refresh,
            "expiry_date": 1000,
            "token_type": "Bearer",
        }
        (creds / f"account-{n}.json").write_text(json.dumps(expired))
    config = folder / "config.yaml"
    config.write_text(
        f"upstream: {{ai_studio_base_url: '{fake_url}', code_assist_base_url: '{fake_url}', "
        f"oauth_token_url: '{fake_url}/token', max_attempts: 4}}\n"
        f"state: {{backend: sqlite, sqlite_path: '{folder / 'state.sqlite3'}'}}\n"
        "ai_studio: {fallback_mode: combined}\n"
        "oauth: {onboard_poll_seconds: 0.05}\n"
    )
    return creds, config


def _start_proxies(count: int, creds: Path, config: Path, folder: Path) -> list[tuple[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != "GEMINI_PROXY_API_KEYS"}
    started = []
    for n in range(count):
        log = open(folder / f"proxy-{n}.log", "wb")  # noqa: SIM115 (closed by the caller)
        args = ["--config", str(config), "--creds-dir", str(creds)]
        url, process = start_serve(args, folder, env, output=log)
        started.append((url, (process, log)))
    for url, (process, _) in started:
        wait_healthy(url, process)
    return started


def _ask(url: str, n: int) -> dict[str, Any]:
    client = OpenAI(base_url=f"{url}/v1", api_key="chaos", max_retries=0, timeout=60)
    prompt = f"chaos request {n} answer please"
    model = MODELS[n % len(MODELS)]
    messages = [{"role": "user", "content": prompt}]
    result: dict[str, Any] = {"prompt": prompt, "stream": n % 2 == 1}
    try:
        if result["stream"]:
            text = ""
            with client.chat.completions.with_streaming_response.create(
                model=model, messages=messages, stream=True
            ) as response:
                for line in response.iter_lines():
                    if not line.startswith("data: {"):
                        continue
                    chunk = json.loads(line[6:])
                    if "error" in chunk:
                        return {**result, "ok": False, "status": 200, "body": chunk, "text": text}
                    if chunk["choices"]:
                        text += chunk["choices"][0]["delta"].get("content") or ""
            return {**result, "ok": True, "text": text}
        reply = client.chat.completions.create(model=model, messages=messages)
        return {**result, "ok": True, "text": reply.choices[0].message.content}
    except openai.APIStatusError as error:
        try:
            body = error.response.json()
        except ValueError:
            body = None
        return {**result, "ok": False, "status": error.status_code, "body": body, "text": ""}
    except openai.APIConnectionError as error:
        return {**result, "ok": False, "status": 0, "body": None, "text": "", "why": str(error)}


def _cooldown_violations(log: list[dict[str, Any]]) -> int:
    by_pair: defaultdict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in log:
        by_pair[(entry["credential"], entry["model"])].append(entry)
    benches = {fingerprint(secret): bench for secret, _, _, bench in FAULTS if bench}
    violations = 0
    for (credential, _), entries in by_pair.items():
        bench = benches.get(credential)
        if not bench:
            continue
        for limited in (e for e in entries if e["status"] == 429):
            start = limited["ended_at"] + PROPAGATION_SECONDS
            end = limited["started_at"] + bench
            violations += sum(1 for e in entries if start < e["started_at"] < end)
    return violations


def run(processes: int, requests: int, concurrency: int) -> Report:
    report = Report(requests=requests)
    with (
        TemporaryDirectory() as temp,
        ServerThread(create_fake_app(FakeSettings(chunk_delay_ms=5))) as fake_server,
    ):
        folder = Path(temp)
        fake = FakeGemini(fake_server.url)
        for secret, fault, times, _ in FAULTS:
            fake.fault(fault, key=secret, times=times)
        creds, config = _write_inputs(folder, fake.url)
        proxies = _start_proxies(processes, creds, config, folder)
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(concurrency) as pool:
                results = list(
                    pool.map(lambda n: _ask(proxies[n % len(proxies)][0], n), range(requests))
                )
            report.seconds = time.monotonic() - started
        finally:
            for _, (process, log) in proxies:
                process.terminate()
                process.wait(timeout=15)
                log.close()
        _score(report, results, fake, folder)
    return report


def _score(report: Report, results: list[dict[str, Any]], fake: FakeGemini, folder: Path) -> None:
    for result in results:
        expected = f"Echo: {result['prompt']}"
        if result["ok"]:
            report.succeeded += 1
            if result["text"] != expected:
                report.duplicated_text += 1
            continue
        body = result.get("body")
        error = body.get("error") if isinstance(body, dict) else None
        if not (isinstance(error, dict) and {"message", "type", "param", "code"} <= set(error)):
            report.not_openai_shaped += 1
            report.failures[f"{result['status']}:unshaped"] += 1
            continue
        report.failures[f"{result['status']}:{error['code']}"] += 1
        if result["status"] not in (200, 429, 502, 503):
            report.wrong_status += 1
        if result["text"] and not expected.startswith(result["text"]):
            report.duplicated_text += 1  # what came before an in-band error must be a prefix
    log = fake.requests()
    generate = [e for e in log if e["kind"] in ("generate", "stream")]
    report.upstream_requests = len(generate)
    report.faults_fired = Counter(e["fault"] for e in generate if e["fault"])
    report.during_cooldown = _cooldown_violations(generate)
    stats = call("GET", f"{fake.url}/_control/stats").json()
    refreshes = stats.get("token_refreshes", {})
    report.refreshes = {fingerprint(a): refreshes.get(fingerprint(a), 0) for a in ACCOUNTS}
    logs = "".join(p.read_text(errors="ignore") for p in folder.glob("proxy-*.log"))
    report.lost_transitions = logs.count("gave up recording a credential transition")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    report = run(args.processes, args.requests, args.concurrency)
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
