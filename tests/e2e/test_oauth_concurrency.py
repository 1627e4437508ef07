"""Four `gemini-proxy serve` processes share one state store and start with the same expired,
never-onboarded account. Their first requests arrive together; Google (the fake) must see one
token refresh and one onboarding, not four.

The fake answers every call 300 ms late, so the four first requests overlap for certain: without
the shared claim each process would refresh on its own.
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto.server import ThreadedMotoServer

from gemini_proxy.credentials.fingerprint import fingerprint
from tests.e2e.test_oauth import control, refreshes, write_account
from tests.state.moto_atomic import atomic_moto_writes
from tests.support.fake import FakeGemini
from tests.support.http import call, post_json
from tests.support.servers import free_port

PROCESSES = 4
ACCOUNT = "1//shared-account-refresh-token"
CLI = [sys.executable, "-m", "gemini_proxy.cli.main", "serve"]
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's standalone DynamoDB, with conditional writes made atomic as the real service's."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    with atomic_moto_writes():
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


def start_proxies(
    tmp_path: Path, fake: FakeGemini, state: dict[str, Any], env: dict[str, str]
) -> tuple[list[str], list[subprocess.Popen[bytes]]]:
    config = {
        "upstream": {
            "ai_studio_base_url": fake.url,
            "code_assist_base_url": fake.url,
            "oauth_token_url": f"{fake.url}/token",
        },
        "state": state,
        "oauth": {"onboard_poll_seconds": 0.05},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    write_account(tmp_path / "creds", ACCOUNT)
    environment = {k: v for k, v in os.environ.items() if k != "GEMINI_PROXY_API_KEYS"}
    environment.update(env, HOME=str(tmp_path))  # no hint from the machine's own Gemini CLI
    urls, processes = [], []
    for _ in range(PROCESSES):
        port = free_port()
        args = ["--port", str(port), "--config", "config.yaml", "--creds-dir", "creds"]
        processes.append(
            subprocess.Popen(
                [*CLI, *args],
                cwd=tmp_path,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    return urls, processes


def wait_healthy(urls: list[str], processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 30
    pending = set(urls)
    while pending:
        for url, process in zip(urls, processes, strict=True):
            if process.poll() is not None:
                stderr = process.stderr.read() if process.stderr else b""
                raise AssertionError(f"serve exited early: {stderr.decode(errors='replace')}")
            if url in pending:
                try:
                    if call("GET", f"{url}/health", timeout=1).status == 200:
                        pending.discard(url)
                except OSError:
                    pass
        assert time.monotonic() < deadline, f"not healthy: {pending}"
        time.sleep(0.05)


def fire_together(urls: list[str]) -> tuple[list[int], float]:
    """One chat request to each process, released at the same instant; statuses and the
    slowest time to an answer."""
    barrier = threading.Barrier(len(urls))
    statuses: list[int] = [0] * len(urls)
    elapsed: list[float] = [0.0] * len(urls)

    def one(index: int) -> None:
        body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "go"}]}
        barrier.wait()
        started = time.perf_counter()
        statuses[index] = post_json(f"{urls[index]}/v1/chat/completions", body).status
        elapsed[index] = time.perf_counter() - started

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses, max(elapsed)


def run_four(tmp_path: Path, fake: FakeGemini, state: dict[str, Any], env: dict[str, str]) -> float:
    fake.settings(new_accounts_onboarded=False, latency_ms=300)
    urls, processes = start_proxies(tmp_path, fake, state, env)
    try:
        wait_healthy(urls, processes)
        statuses, slowest = fire_together(urls)
        if statuses != [200] * PROCESSES:
            for process in processes:
                process.terminate()
            logs = b"".join(p.communicate(timeout=15)[1] for p in processes)
            raise AssertionError(f"{statuses}: {logs.decode(errors='replace')[-3000:]}")
        # The witness: Google saw one refresh and one onboarding for the account.
        assert refreshes(fake) == {fingerprint(ACCOUNT): 1}
        by_kind = control(fake, "GET", "stats")["by_kind"]
        assert by_kind.get("onboard_user") == 1
        assert by_kind.get("load_code_assist") == 1
        assert by_kind.get("generate") == PROCESSES
        # And a second round costs Google nothing but the answers.
        statuses, _ = fire_together(urls)
        assert statuses == [200] * PROCESSES
        assert refreshes(fake) == {fingerprint(ACCOUNT): 1}
        return slowest
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def test_four_processes_on_one_sqlite_file_refresh_once(fake: FakeGemini, tmp_path: Path) -> None:
    state_file = tmp_path / "shared-state.sqlite3"
    slowest = run_four(tmp_path, fake, {"backend": "sqlite", "sqlite_path": str(state_file)}, {})
    assert state_file.stat().st_mode & 0o777 == 0o600  # it holds (sealed) tokens
    print(f"sqlite: slowest first answer {slowest:.2f} s")


def test_four_processes_on_one_dynamodb_table_refresh_once(
    fake: FakeGemini, tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gemini_proxy.state.dynamodb import DynamoStore

    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    table = f"oauth-{uuid.uuid4().hex[:8]}"
    DynamoStore(table, endpoint_url=moto_endpoint, region="us-east-1").ensure_table()
    env = {**AWS_ENV, "DYNAMODB_ENDPOINT_URL": moto_endpoint}
    slowest = run_four(tmp_path, fake, {"backend": "dynamodb", "dynamodb_table": table}, env)
    print(f"dynamodb: slowest first answer {slowest:.2f} s")
