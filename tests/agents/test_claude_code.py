"""The real Claude Code (from npm) against the real proxy and the fake Gemini.

`claude -p` runs non-interactively in an isolated HOME with `ANTHROPIC_BASE_URL` at the proxy
and every network feature it has turned off. The fake is told, through the prompt, to call
Claude Code's `Bash` tool with a command (`call:Bash{...}`, args verbatim); Claude Code runs
it, sends the output back through the proxy, and prints the fake's final answer to it. Claude
Code asks for its own model names: the proxy's model map turns them into Gemini models, here a
Gemini 3 model, so the follow-up must carry the thought signature Google issued (it rides in
the tool_use id). A second run delegates to a subagent on the small, fast model (haiku).
"""

import json
import subprocess
from pathlib import Path
from typing import Any

from gemini_proxy.generation import signatures
from tests.e2e.conftest import KEYS, ProxyFactory, fake, fake_server, proxy_config, start_proxy  # noqa: F401
from tests.support.agents import agent, isolated_home
from tests.support.fake import FakeGemini

CLIENT_KEY = "claude-code-client-key"
# Computed by the shell, so the answer can only contain it if the command really ran.
COMMAND = "echo claude-ran-$((6*7)) | tee proof.txt"
RAN = "claude-ran-42"
# Everything that would reach past the proxy, off.
QUIET = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_BUG_COMMAND": "1",
    "DISABLE_COST_WARNINGS": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
    "NO_PROXY": "127.0.0.1,localhost",
}


def _run_claude(
    tmp_path: Path, proxy_url: str, prompt: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    claude = agent("claude")
    env = {
        **isolated_home(tmp_path),
        **QUIET,
        "ANTHROPIC_BASE_URL": proxy_url,
        "ANTHROPIC_API_KEY": CLIENT_KEY,
    }
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run(
        [str(claude), "-p", prompt, *flags],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )


def _generations(upstream: FakeGemini) -> list[dict[str, Any]]:
    return [r for r in upstream.requests() if r["kind"] in ("generate", "stream")]


def test_claude_code_runs_bash_through_the_proxy_on_gemini_3(
    tmp_path: Path,
    start_proxy: ProxyFactory,  # noqa: F811
    fake: FakeGemini,  # noqa: F811
) -> None:
    # One key, so the follow-up meets the credential that issued the signature.
    config = proxy_config(fake, anthropic={"model_map": {"claude-*": "gemini-3-flash-preview"}})
    proxy = start_proxy(keys=[KEYS[0]], client_keys=[CLIENT_KEY], config=config)
    args = {"command": COMMAND, "description": "Print a proof"}
    prompt = f"Run this for me: call:Bash{json.dumps(args)}"

    done = _run_claude(tmp_path, proxy.url, prompt, "--allowedTools", "Bash")

    assert done.returncode == 0, done.stderr[-2000:]
    # The fake answers function results with `Results: name=<json>`: Claude Code printed the
    # final answer, which holds what its Bash tool printed.
    assert "Results: Bash=" in done.stdout and RAN in done.stdout, done.stdout
    assert (tmp_path / "work" / "proof.txt").read_text().strip() == RAN
    requests = _generations(fake)
    assert requests and all(r["status"] == 200 for r in requests), [r["status"] for r in requests]
    first, last = requests[0]["body"], requests[-1]["body"]
    declared = {d["name"]: d for t in first["tools"] for d in t.get("functionDeclarations", [])}
    assert "command" in declared["Bash"]["parameters"]["properties"]
    history = last["contents"]
    call = next(p for turn in history for p in turn["parts"] if "functionCall" in p)
    assert call["functionCall"] == {"name": "Bash", "args": args}
    # Google's own signature came back (the fake refuses one it did not issue, with a 400).
    assert call["thoughtSignature"] not in (None, signatures.SKIP)
    response = next(p for turn in history for p in turn["parts"] if "functionResponse" in p)
    assert RAN in response["functionResponse"]["response"]["result"]


def test_claude_code_subagent_on_the_small_fast_model(
    tmp_path: Path,
    start_proxy: ProxyFactory,  # noqa: F811
    fake: FakeGemini,  # noqa: F811
) -> None:
    proxy = start_proxy(client_keys=[CLIENT_KEY])  # the default map: haiku -> a Flash model
    args = {
        "description": "Quick look",
        "prompt": "Say hello",
        "subagent_type": "Explore",
        "model": "haiku",
        "run_in_background": False,
    }

    done = _run_claude(tmp_path, proxy.url, f"Delegate: call:Agent{json.dumps(args)}")

    assert done.returncode == 0, done.stderr[-2000:]
    assert "Results: Agent=" in done.stdout, done.stdout
    requests = _generations(fake)
    assert all(r["status"] == 200 for r in requests), [r["status"] for r in requests]
    models = {r["model"] for r in requests}
    assert models == {"gemini-2.5-pro", "gemini-2.5-flash"}  # main model and the haiku subagent
