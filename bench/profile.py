"""Where PROXY's CPU goes: py-spy samples the running server while the harness loads it, and the
collapsed stacks are summed by function (self and inclusive %) and by package (self %).

py-spy attaches with ptrace; where that is not allowed the profile is skipped and the report
says so.
"""

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


async def record(pid: int, seconds: float, out: Path, core: int | None) -> str | None:
    """Record `seconds` of `pid` into `out` (collapsed stacks); an error message or None."""
    exe = py_spy()
    if exe is None:
        return "py-spy is not installed (pip install -e '.[bench]')"
    argv = [
        exe,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "250",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(out),
    ]
    if core is not None:
        argv = ["taskset", "-c", str(core), *argv] if shutil.which("taskset") else argv
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await proc.communicate()
    if proc.returncode != 0 or not out.exists():  # noqa: ASYNC240 (one stat, after the fact)
        return f"py-spy failed ({proc.returncode}): {output.decode(errors='replace')[-300:]}"
    return None


def _short(path: str) -> str:
    """A file path as `package/module.py` (site-packages and the repo prefix dropped)."""
    for marker in ("site-packages/", "layers/common/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "lib/python3":
                path = "stdlib/" + path.split("/", 1)[-1]
            break
    return path


def _package(path: str) -> str:
    short = _short(path)
    parts = short.split("/")
    if parts[0] == "gemini_proxy" and len(parts) > 2:
        return "gemini_proxy/" + parts[1]
    if parts[0] == "stdlib":
        return "stdlib/" + (parts[1].removesuffix(".py") if len(parts) > 1 else "?")
    return parts[0].removesuffix(".py")


def summarise(raw: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive share of samples by function, and self share by package."""
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    package_counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names: list[str] = []
        files: list[str] = []
        for frame in stack.split(";"):
            match = _FRAME.match(frame)
            if match is None:
                names.append(frame)
                files.append("?")
                continue
            file = match["file"]
            names.append(f"{_short(file)}:{match['func']}")
            files.append(file)
        self_counts[names[-1]] += count
        package_counts[_package(files[-1])] += count
        for name in set(names):
            incl_counts[name] += count

    def share(counter: Counter[str], keep: Any = None) -> list[tuple[str, float]]:
        items = [(k, v) for k, v in counter.most_common() if keep is None or keep(k)]
        return [(k, round(100 * v / total, 1)) for k, v in items[:top]] if total else []

    return {
        "samples": total,
        "self": share(self_counts),
        "inclusive_ours": share(incl_counts, lambda k: k.startswith("gemini_proxy/")),
        "inclusive_all": share(incl_counts, lambda k: not k.startswith("stdlib/asyncio")),
        "packages": share(package_counts, None),
    }
