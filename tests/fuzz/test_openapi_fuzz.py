"""Schemathesis against the proxy's own OpenAPI document, over a real server and the fake.

Thousands of generated requests (valid and not): never a 5xx, never a traceback, and the
server is still healthy afterwards. FUZZ_EXAMPLES raises the count (`make fuzz`).
"""

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from gemini_proxy.app.factory import create_app
from gemini_proxy.credentials.models import Credential
from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from tests.e2e.conftest import proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import call
from tests.support.servers import ServerThread

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "250"))


@pytest.fixture(scope="module")
def proxy_url() -> Iterator[str]:
    with ServerThread(create_fake_app(FakeSettings())) as fake_server:
        fake = FakeGemini(fake_server.url)
        config = proxy_config(fake)
        credentials = [Credential("ai_studio", f"fuzz-key-{n}") for n in range(3)]
        with ServerThread(create_app(config, credentials, ["fuzz-client-key"])) as proxy:
            yield proxy.url


def test_no_request_breaks_the_proxy(proxy_url: str) -> None:
    loaded = schemathesis.openapi.from_url(f"{proxy_url}/openapi.json")
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) >= 5
    sent = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            nonlocal sent
            headers = {**(case.headers or {}), "Authorization": "Bearer fuzz-client-key"}
            response = case.call(base_url=proxy_url, headers=headers, timeout=30)
            sent += 1
            assert response.status_code < 500, (
                case.path,
                response.status_code,
                response.text[:300],
            )
            assert "Traceback" not in response.text
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["message"] and "type" in error

        check()
    print(f"fuzzed {sent} requests over {len(operations)} operations")
    assert sent >= len(operations) * min(EXAMPLES, 50)


def test_server_is_healthy_after_fuzzing(proxy_url: str) -> None:
    assert call("GET", f"{proxy_url}/health").json()["status"] == "ok"
