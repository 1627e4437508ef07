"""`gemini-proxy serve` as a person runs it: a real process, real ports, the openai SDK."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from tests.support.http import call
from tests.support.servers import free_port

CLI = [sys.executable, "-m", "gemini_proxy.cli.main"]


def wait_healthy(url: str, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited early: {process.stderr.read() if process.stderr else ''!r}"
            )
        try:
            if call("GET", f"{url}/health", timeout=1).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not become healthy")


@pytest.fixture
def run_serve(tmp_path: Path) -> Iterator[object]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        environment = {k: v for k, v in os.environ.items() if k != "GEMINI_PROXY_API_KEYS"}
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), *args],
            cwd=tmp_path,
            env={**environment, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process)
        return url, process

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_demo_mode_answers_through_the_fake(run_serve) -> None:  # type: ignore[no-untyped-def]
    url, _ = run_serve("--demo")
    client = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "Is this thing on?"}]
    )
    assert "Is this thing on?" in (reply.choices[0].message.content or "")
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model="gemini-2.5-flash",
            messages=[{"role": "user", "content": "Is this thing on?"}],
            stream=True,
        )
        if chunk.choices
    )
    assert streamed == reply.choices[0].message.content


def test_keys_from_the_credentials_folder_are_loaded_and_never_printed(
    run_serve,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path / "oauth creds"
    folder.mkdir()
    (folder / "ai_studio_keys.txt").write_text(
        "# my keys\nAIzaFAKE-first-key\n\nAIzaFAKE-second-key\n"
    )
    url, process = run_serve()
    health = call("GET", f"{url}/health").json()
    assert health["credentials"]["loaded"] == 2
    process.terminate()
    _, stderr = process.communicate(timeout=10)
    assert b"AIzaFAKE" not in stderr
    assert b"2 credential(s)" in stderr


def test_refuses_a_public_address_without_client_keys(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "GEMINI_PROXY_API_KEYS"},
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert b"GEMINI_PROXY_API_KEYS" in result.stderr


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("upstream:\n  ai_studio_base_ulr: http://x\n")
    result = subprocess.run(
        [*CLI, "serve", "--port", str(free_port())], cwd=tmp_path, capture_output=True, timeout=30
    )
    assert result.returncode == 2
    assert b"ai_studio_base_ulr" in result.stderr
