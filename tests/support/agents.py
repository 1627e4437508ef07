"""The real coding agents, installed from npm by `make agents` into `.agents/`.

A test that drives one asks `agent("codex")` for its binary. Where it is missing the test is
skipped with the reason and the fix; under CI (which installs them) a missing agent is a failure,
so a broken install cannot pass as a skipped test.
"""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AGENTS_BIN = ROOT / ".agents" / "node_modules" / ".bin"
PACKAGES = {
    "codex": "@openai/codex",
    "claude": "@anthropic-ai/claude-code",
    "gemini": "@google/gemini-cli",
}


def agent(name: str) -> Path:
    """The agent's executable, or skip (fail under CI) saying what is missing."""
    binary = AGENTS_BIN / name
    if binary.exists() and shutil.which("node"):
        return binary
    why = (
        f"{PACKAGES[name]} is not installed: run `make agents` (needs node and npm)"
        if shutil.which("npm")
        else f"{PACKAGES[name]} needs npm, which this machine lacks"
    )
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


def isolated_home(tmp: Path) -> dict[str, str]:
    """Environment for an agent run that reads and writes nothing of the real user's: its own
    HOME and config folders, no proxy settings, no telemetry."""
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TERM", "TMPDIR")}
    return {
        **keep,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "NO_COLOR": "1",
        "CI": "1",
    }
