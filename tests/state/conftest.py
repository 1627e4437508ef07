"""One `store` fixture per backend, so a single contract suite runs against all of them."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from gemini_proxy.state.base import StateStore
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.state.sqlite import SqliteStore
from tests.state.moto_atomic import atomic_moto_writes
from tests.support.servers import free_port

BACKENDS = ["memory", "sqlite", "dynamodb-mock", "dynamodb-server"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dummy credentials: nothing must ever reach real AWS from these tests.
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's standalone server on loopback: the same wire protocol boto3 speaks to AWS."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session", autouse=True)
def _atomic_moto_writes() -> Iterator[None]:
    with atomic_moto_writes():
        yield


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, aws_env: None
) -> AsyncIterator[StateStore]:
    backend: str = request.param
    if backend == "dynamodb-mock":
        with mock_aws():
            store = _dynamo(endpoint_url=None)
            yield store
            await store.close()
        return
    if backend == "memory":
        store = MemoryStore()
    elif backend == "sqlite":
        store = SqliteStore(str(tmp_path / "state.sqlite3"))
    else:
        store = _dynamo(endpoint_url=request.getfixturevalue("moto_server"))
    yield store
    await store.close()


def _dynamo(endpoint_url: str | None) -> StateStore:
    from gemini_proxy.state.dynamodb import DynamoStore

    # A fresh table per test: the in-process mock and the server share moto's global state.
    store = DynamoStore(f"state-{uuid.uuid4().hex}", endpoint_url=endpoint_url, region="us-east-1")
    store.ensure_table()
    return store
