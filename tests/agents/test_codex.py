"""The real Codex CLI (from npm) against the real proxy and the fake Gemini.

Codex speaks only the Responses API. The fake is told, through the prompt, to call Codex's
shell tool with a command; Codex runs it, sends the output back through the proxy, and prints
the fake's final answer to that output. On a Gemini 3 model the follow-up must carry
the thought signature Google issued, which rides through Codex in the reasoning item's
`encrypted_content` and in the call id.
"""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gemini_proxy.app.factory import create_app
from gemini_proxy.credentials.models import Credential
from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from gemini_proxy.generation import signatures
from gemini_proxy.responses import carrier
from tests.e2e.conftest import KEYS, proxy_config
from tests.support.agents import agent, isolated_home
from tests.support.fake import FakeGemini
from tests.support.servers import ServerThread

ASGI = Any

MODEL = "gemini-3-flash-preview"
CLIENT_KEY = "codex-client-key"
# Computed by the shell, so the answer can only contain it if the command really ran.
COMMAND = "echo codex-ran-$((6*7))"
RAN = "codex-ran-42"


def _config(proxy_url: str) -> str:
    return f"""
model = "{MODEL}"
model_provider = "proxy"
check_for_update_on_startup = false

[model_providers.proxy]
name = "Gemini CLI Proxy"
base_url = "{proxy_url}/v1"
env_key = "PROXY_CLIENT_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[feedback]
enabled = false
"""


def _run_codex(tmp_path: Path, proxy_url: str, prompt: str) -> subprocess.CompletedProcess[str]:
    codex = agent("codex")
    env = isolated_home(tmp_path)
    codex_home = Path(env["HOME"]) / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(_config(proxy_url))
    work = tmp_path / "work"
    work.mkdir()
    env["PROXY_CLIENT_KEY"] = CLIENT_KEY
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return subprocess.run(
        [
            str(codex),
            "exec",
            "--skip-git-repo-check",
            "--ephemeral",
            "--dangerously-bypass-approvals-and-sandbox",
            "--color",
            "never",
            prompt,
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with ServerThread(create_fake_app(FakeSettings())) as server:
        yield FakeGemini(server.url)


def _recording(app: ASGI, bodies: list[bytes]) -> ASGI:
    """The app, keeping every POST body it receives (what Codex sent)."""

    async def recorded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def receive_and_keep() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                bodies.append(b"".join(chunks))
            return message

        await app(scope, receive_and_keep, send)

    return recorded


def _generations(fake: FakeGemini) -> list[dict[str, Any]]:
    return [r for r in fake.requests() if r["kind"] in ("generate", "stream")]


def test_codex_runs_the_shell_call_the_fake_asks_for(tmp_path: Path, fake: FakeGemini) -> None:
    # One key: the follow-up goes back to the credential that issued the signature.
    credentials = [Credential("ai_studio", KEYS[0])]
    args = json.dumps({"cmd": COMMAND})
    sent: list[bytes] = []
    app = _recording(create_app(proxy_config(fake), credentials, [CLIENT_KEY]), sent)
    with ServerThread(app) as proxy:
        done = _run_codex(tmp_path, proxy.url, f"Run this for me. call:exec_command{args}")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]

    first, second, *rest = _generations(fake)
    assert rest == []
    assert all(r["status"] == 200 for r in (first, second))
    # Codex declared its shell tool, and the proxy passed it on as a Gemini function.
    declared = {
        d["name"] for t in first["body"]["tools"] for d in t.get("functionDeclarations", [])
    }
    assert "exec_command" in declared
    # The follow-up replays the call with Google's own signature, and the command's output.
    history = second["body"]["contents"]
    call_part = next(p for turn in history for p in turn["parts"] if "functionCall" in p)
    assert call_part["functionCall"] == {"name": "exec_command", "args": {"cmd": COMMAND}}
    signature = call_part["thoughtSignature"]
    assert signature != signatures.SKIP and not signatures.is_bound(signature)
    answered = next(p for turn in history for p in turn["parts"] if "functionResponse" in p)
    assert RAN in json.dumps(answered["functionResponse"]["response"])
    # Codex replayed the reasoning item's encrypted_content as it got it: it carries the
    # signature of the call it replayed.
    replayed = json.loads(sent[-1])["input"]
    reasoning = next(item for item in replayed if item["type"] == "reasoning")
    call = next(item for item in replayed if item["type"] == "function_call")
    carried = carrier.unseal(reasoning["encrypted_content"])
    assert carried is not None and carrier.call_key(call["call_id"]) in carried.calls
    # Codex printed the final answer, the fake's reply to the command's output (which it
    # quotes, cut at 100 characters: Codex's own report of the run comes first).
    assert "Results: exec_command=" in done.stdout
    assert "Process exited with code 0" in done.stdout
