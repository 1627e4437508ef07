"""The fake upstream on a real loopback port (uvicorn in a thread), reset before each test."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app

from .support import FakeServer


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(FakeSettings()), log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake upstream did not start")
        time.sleep(0.01)
    yield FakeServer(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def fake(fake_server: FakeServer) -> FakeServer:
    fake_server.control("POST", "/_control/reset")
    return fake_server
