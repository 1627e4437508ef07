"""Usage accounting end to end: the figures match the requests sent, across two `serve`
processes sharing one SQLite state; a steady request makes no state-store call; flushes stay
at one write per credential per interval under load; the last counts are written at shutdown;
and `gemini-proxy status` shows the same figures. The fake Gemini is the witness of which
credential answered what.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from openai import OpenAI

from gemini_proxy.app.factory import create_app
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential
from gemini_proxy.state.counting import CountingStore
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.state.sqlite import SqliteStore
from gemini_proxy.usage.read import read_day, total
from tests.e2e.conftest import KEYS, proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import call
from tests.support.processes import start_serve, wait_healthy
from tests.support.servers import ServerThread

FLASH, PRO = "gemini-2.5-flash", "gemini-2.5-pro"
CLIENT_KEY = "sk-usage-client-key-0123456789"


def ask(client: OpenAI, model: str, text: str, stream: bool = False) -> tuple[int, int]:
    """Send one chat request; the prompt and completion tokens Gemini reported."""
    if not stream:
        answer = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": text}]
        )
        assert answer.usage is not None
        return answer.usage.prompt_tokens, answer.usage.completion_tokens
    chunks = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": text}],
        stream=True,
        stream_options={"include_usage": True},
    )
    usage = [chunk.usage for chunk in chunks if chunk.usage is not None][-1]
    return usage.prompt_tokens, usage.completion_tokens


def served(fake: FakeGemini) -> Counter[str]:
    return Counter(
        r["credential"]
        for r in fake.requests()
        if r["kind"] in ("generate", "stream") and r["status"] == 200
    )


def state(url: str) -> dict[str, Any]:
    reply = call(
        "GET", f"{url}/dashboard/api/state", headers={"authorization": f"Bearer {CLIENT_KEY}"}
    )
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.json()
    return body


def test_two_processes_on_one_state_count_every_request(fake: FakeGemini, tmp_path: Path) -> None:
    creds = tmp_path / "oauth creds"
    creds.mkdir()
    (creds / "ai_studio_keys.txt").write_text("\n".join(KEYS) + "\n")
    store = tmp_path / "state.sqlite3"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"upstream: {{ai_studio_base_url: '{fake.url}', code_assist_base_url: '{fake.url}', "
        f"oauth_token_url: '{fake.url}/token'}}\n"
        f"state: {{backend: sqlite, sqlite_path: '{store}'}}\n"
        "usage: {flush_seconds: 0.3}\n"
    )
    env = {**os.environ, "GEMINI_PROXY_API_KEYS": CLIENT_KEY}
    args = ["--config", str(config), "--creds-dir", str(creds)]
    processes = [start_serve(args, tmp_path, env, subprocess.DEVNULL) for _ in range(2)]
    try:
        for url, process in processes:
            wait_healthy(url, process)
        # One 429 on the first key: a failover, one failed attempt on that key.
        fake.fault({"type": "rate_limit_minute", "retry_delay": "1s"}, key=KEYS[0], times=1)
        tokens = [0, 0]
        sent = Counter[str]()
        for n in range(12):
            url = processes[n % 2][0]
            model = PRO if n % 3 == 0 else FLASH
            client = OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0)
            used = ask(client, model, f"request {n}", stream=n % 4 == 1)
            tokens = [tokens[0] + used[0], tokens[1] + used[1]]
            sent[model] += 1
        answered = served(fake)
        assert sum(answered.values()) == 12

        # Either process, once the other has flushed, sees all twelve.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            body = state(processes[1][0])
            if body["totals"]["requests"] == 12 and body["instances"] == 2:
                break
            time.sleep(0.1)
        assert body["totals"] == {
            "requests": 12,
            "errors": 1,
            "input_tokens": tokens[0],
            "output_tokens": tokens[1],
        }
        assert {m: t["requests"] for m, t in body["models"].items()} == dict(sent)
        per_key = {row["fingerprint"]: row["usage"]["requests"] for row in body["credentials"]}
        assert per_key == {fingerprint(k): answered[fingerprint(k)] for k in KEYS}
        # Each process rotates through every key, so the first key met its 429.
        errors = {row["fingerprint"]: row["usage"]["errors"] for row in body["credentials"]}
        assert errors == {fingerprint(k): int(k == KEYS[0]) for k in KEYS}
        failure = body["recent_failures"][0]
        assert failure["credential"] == fingerprint(KEYS[0]) and failure["status"] == 429
    finally:
        for _, process in processes:
            process.send_signal(signal.SIGTERM)
        for _, process in processes:
            process.wait(timeout=20)

    # The CLI reads the same figures from the store the processes left.
    status = subprocess.run(
        [sys.executable, "-m", "gemini_proxy.cli.main", "status", *args, "--json", "--no-quota"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(status.stdout)
    assert report["usage"]["totals"]["requests"] == 12
    assert report["usage"]["instances"] == 2
    by_key = {row["fingerprint"]: row["usage"]["requests"] for row in report["credentials"]}
    assert by_key == per_key
    table = subprocess.run(
        [sys.executable, "-m", "gemini_proxy.cli.main", "status", *args, "--no-quota"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "12 requests, 1 failed attempts" in table
    assert "quota (configured limits): gemini-2.5-flash" in table


def test_a_steady_request_makes_no_store_call(fake: FakeGemini) -> None:
    store = CountingStore(MemoryStore())
    # A long cache and flush period: whatever the store sees here, a request caused.
    config = proxy_config(fake, state={"backend": "memory", "cache_seconds": 3600})
    config = config.model_copy(
        update={"usage": config.usage.model_copy(update={"flush_seconds": 3600})}
    )
    credentials = [Credential("ai_studio", key) for key in KEYS]
    with ServerThread(create_app(config, credentials, [], store)) as proxy:
        client = OpenAI(base_url=f"{proxy.url}/v1", api_key="unused", max_retries=0)
        ask(client, FLASH, "warm up")  # the pool's first look at the store
        store.reset()
        for n in range(30):
            ask(client, FLASH if n % 2 else PRO, f"steady {n}", stream=n % 3 == 0)
        assert store.total == 0
    # Shutdown wrote the counts: one record per credential that answered, nothing else.
    used = len(served(fake))
    assert store.counts == {"put": used, "close": 1}


def test_flushes_under_load_stay_at_one_write_per_credential_per_interval(
    fake: FakeGemini, tmp_path: Path
) -> None:
    store = CountingStore(SqliteStore(str(tmp_path / "state.sqlite3")))
    interval = 0.5
    config = proxy_config(fake, state={"backend": "sqlite", "cache_seconds": 2})
    config = config.model_copy(
        update={"usage": config.usage.model_copy(update={"flush_seconds": interval})}
    )
    credentials = [Credential("ai_studio", key) for key in KEYS]
    with ServerThread(create_app(config, credentials, [], store)) as proxy:
        client = OpenAI(base_url=f"{proxy.url}/v1", api_key="unused", max_retries=0)
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: ask(client, FLASH, f"load {n}"), range(240)))
        seconds = time.monotonic() - started
        app = proxy._server.config.app  # type: ignore[attr-defined]
        writes_while_serving = app.state.services.flusher.writes
    bound = len(KEYS) * (seconds / interval + 2)
    print(
        f"240 requests in {seconds:.2f} s: {writes_while_serving} usage writes (bound {bound:.0f})"
    )
    assert 0 < writes_while_serving <= bound
    usage = _read(SqliteStore(str(tmp_path / "state.sqlite3")))
    assert sum(total(sheet).requests for sheet in usage.sheets.values()) == 240


def _read(store: SqliteStore) -> Any:
    import asyncio

    return asyncio.run(read_day(store))
