"""The Lambda start script, run as the Web Adapter runs it: env vars in, uvicorn on $PORT.

The adapter itself cannot run here (no Lambda), so the test plays its part: wait for the
readiness path, then forward the sample API Gateway events as plain HTTP requests. The package
comes from the layer's trimmed copy (tests/deploy/layer.py), as on Lambda.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from tests.deploy.layer import trimmed_package
from tests.support.http import call
from tests.support.servers import ServerThread, free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENT_KEY = "sample-client-key"  # the key the sample events carry


@pytest.fixture
def started(tmp_path: Path) -> Iterator[str]:
    layer = trimmed_package(tmp_path / "opt" / "python")
    with ServerThread(create_fake_app(FakeSettings(chunk_delay_ms=20))) as fake:
        port = free_port()
        venv_bin = str(Path(sys.executable).parent)
        env = {
            "PATH": f"{venv_bin}:{os.environ['PATH']}",
            "PYTHONPATH": str(layer),  # run.sh puts /opt/python first; this copy stands for it
            "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
            "AWS_LWA_INVOKE_MODE": "response_stream",
            "AWS_LWA_READINESS_CHECK_PATH": "/health",
            "PORT": str(port),
            "AWS_LAMBDA_FUNCTION_NAME": "gemini-proxy-ProxyFunction",
            "CONFIG_YAML": (
                f"state: {{backend: memory}}\nupstream: {{ai_studio_base_url: '{fake.url}'}}\n"
            ),
            "GEMINI_API_KEY_1": "AIzaFAKE-start-script",
            "GEMINI_PROXY_API_KEYS": CLIENT_KEY,
        }
        process = subprocess.Popen(
            ["bash", str(ROOT / "functions/proxy/run.sh")],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    if call("GET", url + "/health", timeout=1).status == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "the start script never became ready"
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def replay(url: str, name: str) -> tuple[int, dict[str, str], bytes]:
    """Send an API Gateway proxy event to the app the way the Web Adapter does."""
    event = json.loads((ROOT / "events" / name).read_text())
    reply = call(
        event["httpMethod"],
        url + event["path"],
        event["body"].encode(),
        {k: v for k, v in event["headers"].items() if k.lower() != "host"},
    )
    return reply.status, reply.headers, reply.body


def test_start_script_serves_health_and_a_streamed_chat(started: str) -> None:
    health = call("GET", started + "/health").json()
    assert health["status"] == "ok" and health["credentials"]["loaded"] == 1
    client = OpenAI(base_url=f"{started}/v1", api_key=CLIENT_KEY, max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="gemini-2.5-flash",
            messages=[{"role": "user", "content": "stream through the start script"}],
            stream=True,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream through the start script"


def test_sample_events_are_answered(started: str) -> None:
    status, headers, body = replay(started, "api-gateway-chat-stream.json")
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert body.rstrip().endswith(b"data: [DONE]")
    chunks = [json.loads(line[6:]) for line in body.decode().splitlines() if line[6:7] == "{"]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Echo: Say hello from the sample event"
    assert chunks[-1]["usage"]["total_tokens"] > 0  # the event asked for include_usage
    status, _, body = replay(started, "api-gateway-chat.json")
    assert status == 200 and json.loads(body)["object"] == "chat.completion"


def test_lambda_without_client_keys_refuses_to_start(tmp_path: Path) -> None:
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PORT": str(free_port()),
        "AWS_LAMBDA_FUNCTION_NAME": "gemini-proxy-ProxyFunction",
        "CONFIG_YAML": "state: {backend: memory}\n",
    }
    result = subprocess.run(
        ["bash", str(ROOT / "functions/proxy/run.sh")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert b"without client keys" in result.stderr
