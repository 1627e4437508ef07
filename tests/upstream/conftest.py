"""The fake Google for upstream client tests: one server per session, reset for each test."""

from collections.abc import Iterator

import pytest

from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from tests.support.fake import FakeGemini
from tests.support.servers import ServerThread


@pytest.fixture(scope="session")
def fake_google() -> Iterator[FakeGemini]:
    with ServerThread(create_fake_app(FakeSettings())) as server:
        yield FakeGemini(server.url)


@pytest.fixture
def fake(fake_google: FakeGemini) -> FakeGemini:
    fake_google.reset()
    return fake_google
