"""The real Gemini CLI (from npm), headless, against the real proxy and the fake Gemini.

Gemini CLI speaks Gemini's own API: a routing model through `:generateContent`, then the main
model through `:streamGenerateContent?alt=sse`. The fake is told, through the prompt, to call
the CLI's shell tool with a command; the CLI runs it, sends the output back through the proxy,
and prints the fake's final answer to that output. The pool's first key is rate limited, so
every answer comes from the other one; the client's key never reaches Gemini.
"""

import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.generation import signatures
from tests.e2e.conftest import (  # noqa: F401
    KEYS,
    ProxyFactory,
    fake,
    fake_server,
    proxy_config,
    start_proxy,
)
from tests.support.agents import agent, isolated_home
from tests.support.fake import FakeGemini

CLIENT_KEY = "gemini-cli-client-key"
FLASH = "gemini-3-flash-preview"
PRO = "gemini-3-pro-preview"
# Gemini CLI 0.61's own model names that the fake does not know (Google does): the pool serves
# them with the fake's Gemini 3 models, as a user would alias a model their keys lack.
CLI_MODELS = {
    "gemini-3.5-flash-lite": FLASH,
    "gemini-3.1-flash-lite": FLASH,
    "gemini-3.5-flash": FLASH,
    "gemini-3.8-flash": FLASH,
    "gemini-3.1-pro-preview": PRO,
    "gemini-3.1-pro-preview-customtools": PRO,
}
# The CLI refuses `$(...)` in a command; printf joins the words, so the answer can only
# contain RAN if the command really ran.
COMMAND = "printf '%s-%s\\n' native 42"
RAN = "native-42"
SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    "telemetry": {"enabled": False},
    "privacy": {"usageStatisticsEnabled": False},
}


def _run_gemini(tmp_path: Path, proxy_url: str, prompt: str) -> subprocess.CompletedProcess[str]:
    gemini = agent("gemini")
    env = isolated_home(tmp_path)
    settings = Path(env["HOME"]) / ".gemini" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps(SETTINGS))
    work = tmp_path / "work"
    work.mkdir()
    env.update(
        GEMINI_API_KEY=CLIENT_KEY,
        GOOGLE_GEMINI_BASE_URL=proxy_url,
        GEMINI_CLI_TRUST_WORKSPACE="true",
        GEMINI_TELEMETRY_ENABLED="false",
        NO_PROXY="127.0.0.1,localhost",
    )
    return subprocess.run(
        [str(gemini), "--approval-mode", "yolo", "--output-format", "text", "-p", prompt],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )


def _parts(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [p for turn in body["contents"] for p in turn["parts"] if kind in p]


def test_gemini_cli_runs_the_shell_call_the_fake_asks_for(
    tmp_path: Path,
    fake: FakeGemini,  # noqa: F811
    start_proxy: ProxyFactory,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gemini-proxy")
    config = proxy_config(fake, model_aliases=CLI_MODELS)
    proxy = start_proxy(keys=KEYS[:2], client_keys=[CLIENT_KEY], config=config)
    for model in (FLASH, PRO):
        fake.fault({"type": "rate_limit_minute", "retry_delay": "60s"}, KEYS[0], model)
    args = json.dumps({"command": COMMAND, "description": "Print a word"})
    done = _run_gemini(tmp_path, proxy.url, f"Run this for me. call:run_shell_command{args}")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]

    # What the CLI called, as the proxy saw it: the router's generateContent, then the stream.
    paths = [getattr(r, "path", "") for r in caplog.records if r.getMessage() == "request"]
    assert any(p.startswith("/v1beta/models/") and p.endswith(":generateContent") for p in paths)
    assert any(p.endswith(":streamGenerateContent") for p in paths), paths

    answered = [r for r in fake.requests() if r["status"] == 200]
    assert {r["credential"] for r in answered} == {fingerprint(KEYS[1])}
    assert {r["credential"] for r in fake.requests()} <= {fingerprint(k) for k in KEYS[:2]}
    assert CLIENT_KEY not in json.dumps(fake.requests())

    streams = [r for r in answered if r["kind"] == "stream"]
    assert len(streams) == 2, [r["kind"] for r in fake.requests()]
    first, second = streams
    assert first["query"] == {"alt": "sse"}
    declared = {
        d["name"] for t in first["body"]["tools"] for d in t.get("functionDeclarations", [])
    }
    assert "run_shell_command" in declared
    # The follow-up replays the call as the fake made it, with Google's own signature (the
    # native dialect passes it through), and the command's output.
    call_part = _parts(second["body"], "functionCall")[-1]
    assert call_part["functionCall"]["name"] == "run_shell_command"
    assert call_part["functionCall"]["args"] == {"command": COMMAND, "description": "Print a word"}
    signature = call_part["thoughtSignature"]
    assert signature != signatures.SKIP and not signatures.is_bound(signature)
    response = _parts(second["body"], "functionResponse")[-1]["functionResponse"]
    assert RAN in json.dumps(response["response"])
    # The CLI printed the final answer: the fake's reply quoting the command's output.
    assert "Results: run_shell_command=" in done.stdout
    assert RAN in done.stdout
