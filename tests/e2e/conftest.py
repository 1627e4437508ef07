"""Real servers on loopback: the fake Gemini (one per session) and proxies built per test."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from openai import OpenAI

from gemini_proxy.app.factory import create_app
from gemini_proxy.config import Config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from tests.support.fake import FakeGemini
from tests.support.servers import ServerThread

KEYS = ["fake-key-alpha", "fake-key-bravo", "fake-key-charlie"]


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeGemini]:
    with ServerThread(create_fake_app(FakeSettings())) as server:
        yield FakeGemini(server.url)


@pytest.fixture
def fake(fake_server: FakeGemini) -> FakeGemini:
    fake_server.reset()
    return fake_server


def proxy_config(fake: FakeGemini, **overrides: Any) -> Config:
    config = Config.model_validate(
        {
            "upstream": {
                "ai_studio_base_url": fake.url,
                "code_assist_base_url": fake.url,
                "oauth_token_url": f"{fake.url}/token",
            },
            "state": {"backend": "memory"},
        }
    )
    if not overrides:
        return config
    # Through validation, so nested sections may be given as plain dicts.
    return Config.model_validate({**config.model_dump(), **overrides})


ProxyFactory = Callable[..., ServerThread]


@pytest.fixture
def start_proxy(fake: FakeGemini) -> Iterator[ProxyFactory]:
    """Start a proxy against the fake; stopped at the end of the test."""
    started: list[ServerThread] = []

    def start(
        keys: list[str] | None = None,
        client_keys: list[str] | None = None,
        config: Config | None = None,
    ) -> ServerThread:
        credentials = [Credential("ai_studio", key) for key in (KEYS if keys is None else keys)]
        app = create_app(config or proxy_config(fake), credentials, client_keys or [])
        server = ServerThread(app).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


@pytest.fixture
def proxy(start_proxy: ProxyFactory) -> ServerThread:
    return start_proxy()


@pytest.fixture
def client(proxy: ServerThread) -> OpenAI:
    return OpenAI(base_url=f"{proxy.url}/v1", api_key="not-checked", max_retries=0, timeout=30)
