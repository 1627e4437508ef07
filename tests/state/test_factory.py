import subprocess
import sys
from pathlib import Path

import pytest

from gemini_proxy.config import ConfigError, StateConfig
from gemini_proxy.state.factory import create_store
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.state.sqlite import SqliteStore

pytestmark = pytest.mark.anyio


async def test_memory_backend() -> None:
    assert isinstance(create_store(StateConfig(backend="memory")), MemoryStore)


async def test_sqlite_backend_uses_the_configured_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "state.sqlite3"
    store = create_store(StateConfig(backend="sqlite", sqlite_path=str(path)))
    assert isinstance(store, SqliteStore)
    assert await store.put("ns", "k", {"n": 1}, 0) is not None
    assert path.is_file()


async def test_dynamodb_backend_follows_the_environment(
    moto_server: str, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gemini_proxy.state.dynamodb import DynamoStore

    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    store = create_store(StateConfig(backend="dynamodb", dynamodb_table="factory-test"))
    assert isinstance(store, DynamoStore)
    assert store.table_name == "factory-test"
    store.ensure_table()
    written = await store.put("ns", "k", {"n": 1}, 0)
    assert await store.get("ns", "k") == written
    await store.close()


def test_dynamodb_region_defaults_to_us_east_1(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "DYNAMODB_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    store = create_store(StateConfig(backend="dynamodb"))
    client = store._client  # type: ignore[attr-defined]
    assert client.meta.region_name == "us-east-1"
    assert client.meta.endpoint_url == "https://dynamodb.us-east-1.amazonaws.com"


def test_missing_boto3_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "gemini_proxy.state.dynamodb", raising=False)
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ConfigError, match="boto3"):
        create_store(StateConfig(backend="dynamodb"))


def test_local_backends_never_import_boto3(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from gemini_proxy.config import StateConfig\n"
        "from gemini_proxy.state.factory import create_store\n"
        "create_store(StateConfig(backend='memory'))\n"
        f"create_store(StateConfig(backend='sqlite', sqlite_path={str(tmp_path / 's')!r}))\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
