"""Pick the state backend named in the configuration."""

import os

from gemini_proxy.config import ConfigError, StateConfig
from gemini_proxy.state.base import StateStore

DEFAULT_AWS_REGION = "us-east-1"


def create_store(config: StateConfig) -> StateStore:
    # Each backend is imported only when chosen: a Lambda (DynamoDB) never loads sqlite3.
    if config.backend == "memory":
        from gemini_proxy.state.memory import MemoryStore

        return MemoryStore()
    if config.backend == "sqlite":
        from gemini_proxy.state.sqlite import SqliteStore

        return SqliteStore(config.sqlite_path)
    return _dynamodb_store(config)


def _dynamodb_store(config: StateConfig) -> StateStore:
    # Imported here: boto3 is optional, and local runs on SQLite should not need it.
    try:
        from gemini_proxy.state.dynamodb import DynamoStore
    except ModuleNotFoundError as exc:
        if exc.name not in ("boto3", "botocore"):
            raise
        raise ConfigError(
            "state.backend dynamodb needs boto3: pip install 'gemini-cli-proxy[aws]'"
        ) from None
    region = (
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_AWS_REGION
    )
    # Set for DynamoDB Local or moto; unset on AWS, where boto3 finds the regional endpoint.
    endpoint_url = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
    return DynamoStore(config.dynamodb_table, endpoint_url=endpoint_url, region=region)
