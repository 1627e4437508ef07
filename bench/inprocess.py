"""Counts that need the app in-process: state-store calls per steady request (CountingStore
around the memory, SQLite and moto-DynamoDB stores) and Secrets Manager calls per container
(the app built by the Lambda factory under moto, every botocore call counted).

Run by the harness in a child process (moto patches botocore for the whole process):
    python -m bench.inprocess --seconds 3 --out counts.json
"""

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import uvicorn
import uvloop

from bench.loadgen import build_request, run_load
from bench.payloads import small
from bench.procs import free_port
from bench.targets import AI_STUDIO_KEYS, CLIENT_KEY, HOST

SECRET_NAME = "gemini-proxy/bench"  # noqa: S105 (a name, not a secret)
REGION = "us-east-1"


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(
        app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def fake_upstream() -> AsyncIterator[str]:
    from gemini_proxy.fake_gemini.app import create_app
    from gemini_proxy.fake_gemini.settings import FakeSettings

    async with serving(create_app(FakeSettings())) as port:
        yield f"http://{HOST}:{port}"


def _config(upstream: str, backend: str, sqlite_path: str) -> Any:
    from gemini_proxy.config import parse_config

    return parse_config(
        json.dumps(
            {
                "upstream": {
                    "ai_studio_base_url": upstream,
                    "code_assist_base_url": upstream,
                    "oauth_token_url": upstream + "/token",
                },
                "state": {"backend": backend, "sqlite_path": sqlite_path},
            }
        ),
        "bench",
    )


async def _drive(port: int, seconds: float) -> int:
    case = small()
    request = build_request(
        "POST", case.path(), case.proxy_body(), f"{HOST}:{port}", case.headers(CLIENT_KEY)
    )
    result = await run_load(HOST, port, request, 4, seconds, warmup_s=0.0)
    if result.errors:
        raise RuntimeError(f"requests failed: {result.first_error}")
    return len(result.samples)


async def store_calls(backend: str, seconds: float, upstream: str) -> dict[str, Any]:
    """Store calls over `seconds` of steady traffic, after a warm-up."""
    from gemini_proxy.app.factory import create_app
    from gemini_proxy.credentials.models import Credential
    from gemini_proxy.state.base import StateStore
    from gemini_proxy.state.counting import CountingStore
    from gemini_proxy.state.factory import create_store

    with tempfile.TemporaryDirectory() as tmp:
        config = _config(upstream, backend, str(Path(tmp) / "state.sqlite3"))
        inner: StateStore
        if backend == "dynamodb":
            from gemini_proxy.state.dynamodb import DynamoStore

            dynamo = DynamoStore(config.state.dynamodb_table, region=REGION)
            dynamo.ensure_table()
            inner = dynamo
        else:
            inner = create_store(config.state)
        store = CountingStore(inner)
        credentials = [Credential("ai_studio", key, source="bench") for key in AI_STUDIO_KEYS]
        app = create_app(config, credentials, [CLIENT_KEY], store=store)
        async with serving(app) as port:
            await _drive(port, 0.3)  # first load of the pool's state, connections opened
            store.reset()
            started = time.perf_counter()
            requests = await _drive(port, seconds)
            elapsed = time.perf_counter() - started
            counts = dict(store.counts)
    total = sum(counts.values())
    cache = config.state.cache_seconds
    return {
        "backend": backend,
        "requests": requests,
        "seconds": round(elapsed, 2),
        "calls": counts,
        "calls_total": total,
        "calls_per_request": total / requests if requests else None,
        "cache_seconds": cache,
        "cache_periods": round(elapsed / cache, 2) if cache else None,
    }


@contextlib.contextmanager
def counting_botocore() -> Iterator[Counter[str]]:
    """Every botocore API call made inside, counted as `service.Operation`."""
    from botocore.client import BaseClient  # type: ignore[import-untyped]

    counts: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation_name: str, api_params: Any) -> Any:
        counts[f"{self.meta.service_model.service_name}.{operation_name}"] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counted
    try:
        yield counts
    finally:
        BaseClient._make_api_call = original


async def secrets_calls(seconds: float, upstream: str) -> dict[str, Any]:
    """One 'container': the Lambda factory reads the secret, then serves steady traffic."""
    import boto3  # type: ignore[import-untyped]

    from gemini_proxy.app.factory import app_from_environment

    client = boto3.client("secretsmanager", region_name=REGION)
    client.create_secret(
        Name=SECRET_NAME,
        SecretString=json.dumps(
            {"ai_studio_keys": AI_STUDIO_KEYS, "client_api_keys": [CLIENT_KEY]}
        ),
    )
    os.environ["GEMINI_PROXY_SECRET_NAME"] = SECRET_NAME
    os.environ["CONFIG_YAML"] = json.dumps(
        {
            "upstream": {"ai_studio_base_url": upstream},
            "state": {"backend": "memory"},
        }
    )
    with counting_botocore() as counts:
        started = time.perf_counter()
        app = app_from_environment()
        ready_ms = (time.perf_counter() - started) * 1000
        at_start = dict(counts)
        async with serving(app) as port:
            requests = await _drive(port, seconds)
        during = {k: v - at_start.get(k, 0) for k, v in counts.items() if v - at_start.get(k, 0)}
    reads = "secretsmanager.GetSecretValue"
    return {
        "at_start": at_start,
        "during_requests": during,
        "requests": requests,
        "get_secret_value_per_container": counts.get(reads, 0),
        "factory_ms_under_moto": round(ready_ms, 1),
    }


async def main_async(seconds: float) -> dict[str, Any]:
    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["AWS_DEFAULT_REGION"] = REGION
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # keep the per-request lines out of the way
    os.environ["LOG_LEVEL"] = "WARNING"
    results: dict[str, Any] = {"store": []}
    async with fake_upstream() as upstream:
        for backend in ("memory", "sqlite"):
            results["store"].append(await store_calls(backend, seconds, upstream))
        with mock_aws():
            results["store"].append(await store_calls("dynamodb", seconds, upstream))
            results["secrets"] = await secrets_calls(seconds, upstream)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    results = uvloop.run(main_async(args.seconds))
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
