"""Child processes of the harness: start pinned to a core, wait until they answer, read their CPU
time and memory from /proc, stop them (only the ones the harness started, by pid)."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.loadgen import build_request, one_request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cores() -> tuple[int | None, int | None]:
    """(core for the load client and upstream, core for the target); None when not pinned."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return available[0], available[1]


def pin_self(core: int | None) -> None:
    if core is not None:
        os.sched_setaffinity(0, {core})


class Proc:
    """One server process (and whatever it forks) in its own process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        core: int | None,
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.core = core
        self.log_path = log_path
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> None:
        core = self.core

        def pin() -> None:  # runs in the child before exec
            if core is not None:
                os.sched_setaffinity(0, {core})

        log = self.log_path.open("ab")
        self.started_at = time.perf_counter()
        self.popen = subprocess.Popen(  # noqa: S603 (argv built by the harness)
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=pin,
            start_new_session=True,
        )
        log.close()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        # The group is the one start_new_session made for this child: its own pid.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout)

    # --- /proc readings, summed over the process and its descendants ---------------------

    def pids(self) -> list[int]:
        if not self.alive():
            return []
        found = [self.pid]
        index = 0
        while index < len(found):
            found += _children(found[index])
            index += 1
        return found

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.pids())

    def peak_rss_mb(self) -> float:
        return sum(_status_kb(pid, "VmHWM") for pid in self.pids()) / 1024

    def rss_mb(self) -> float:
        return sum(_status_kb(pid, "VmRSS") for pid in self.pids()) / 1024

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy (user, nice, system, irq, softirq, steal) since boot."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()
    except OSError:
        return 0.0
    busy = sum(int(fields[i]) for i in (1, 2, 3, 6, 7, 8))
    return busy / CLOCK_TICKS


def self_cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


async def wait_ready(
    port: int, path: str, wait_s: float, proc: Proc | None = None, poll_s: float = 0.002
) -> float | None:
    """Seconds from now until GET `path` answers 200; None on timeout or if `proc` died."""
    request = build_request("GET", path, b"", f"127.0.0.1:{port}")
    start = time.perf_counter()
    while time.perf_counter() - start < wait_s:
        if proc is not None and not proc.alive():
            return None
        sample = await one_request("127.0.0.1", port, request, wait_s=2.0)
        if sample is not None and sample.status == 200:
            return time.perf_counter() - start
        await asyncio.sleep(poll_s)
    return None
