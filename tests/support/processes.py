"""`gemini-proxy serve` as separate processes, the way users and CI run it."""

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from tests.support.http import call
from tests.support.servers import free_port

CLI = [sys.executable, "-m", "gemini_proxy.cli.main"]


def start_serve(
    args: list[str],
    cwd: Path,
    env: Mapping[str, str],
    output: IO[bytes] | int = subprocess.PIPE,
) -> tuple[str, "subprocess.Popen[bytes]"]:
    """Start `serve` on a free port with `args`; its URL and process (not yet ready)."""
    port = free_port()
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), *args],
        cwd=cwd,
        env=dict(env),
        stdout=output,
        stderr=subprocess.STDOUT,  # one stream: logs (stdout) and messages (stderr) together
    )
    return f"http://127.0.0.1:{port}", process


def wait_healthy(url: str, process: "subprocess.Popen[bytes]", seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise AssertionError(f"serve at {url} exited with {process.returncode}")
        try:
            if call("GET", f"{url}/health", timeout=1).status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"serve at {url} did not become healthy")
        time.sleep(0.05)
