"""A dialect's routes, models and translation load at its first request, not at start.

Run in a fresh interpreter each: what an import loaded stays in `sys.modules` for the whole
test session, so only a new process shows what a cold start imports.
"""

import json
import subprocess
import sys

# Builds the app as the Lambda factory does, sends the requests named on the command line
# through it (no upstream is needed: each is refused by its dialect before any call), and
# prints the proxy's modules loaded by then.
_SCRIPT = """
import json, sys
from starlette.testclient import TestClient
from gemini_proxy.app.factory import create_app
from gemini_proxy.config import Config

app = create_app(Config(), [], ["sk-dialects-test"])
with TestClient(app) as client:
    for path in sys.argv[1:]:
        answer = client.post(path, content=b"{", headers={
            "authorization": "Bearer sk-dialects-test",
            "content-type": "application/json",
        })
        assert answer.status_code == 400, (path, answer.status_code, answer.text)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("gemini_proxy."))))
"""

HEAVY = {
    "openai": ["gemini_proxy.openai.routes", "gemini_proxy.openai.models"],
    "anthropic": ["gemini_proxy.anthropic.routes", "gemini_proxy.anthropic.models"],
    "responses": ["gemini_proxy.responses.routes", "gemini_proxy.responses.models"],
    "gemini": ["gemini_proxy.gemini.routes"],
}


def loaded_after(*paths: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_start_loads_no_dialect_routes_or_models() -> None:
    loaded = loaded_after()
    for dialect, modules in HEAVY.items():
        assert not loaded & set(modules), f"{dialect} loaded at start"
    # What the edge needs before routing is there: every dialect's claim and error shape.
    assert {"gemini_proxy.anthropic.dialect", "gemini_proxy.openai.errors"} <= loaded


def test_a_request_loads_its_own_dialect_only() -> None:
    loaded = loaded_after("/v1/messages")
    assert set(HEAVY["anthropic"]) <= loaded
    assert not loaded & {*HEAVY["openai"], *HEAVY["responses"], *HEAVY["gemini"]}

    loaded = loaded_after("/v1/responses", "/v1beta/models/gemini-2.5-flash:generateContent")
    assert set(HEAVY["responses"]) <= loaded
    assert set(HEAVY["gemini"]) <= loaded
    assert not loaded & set(HEAVY["anthropic"])
