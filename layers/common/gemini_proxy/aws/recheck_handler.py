"""The scheduled recheck Lambda: probe credentials benched as INVALID, restore healthy ones."""

import asyncio
import time
from typing import Any

from gemini_proxy.app.services import code_assist_client, rules_for_kind
from gemini_proxy.credentials.models import Credential
from gemini_proxy.logs import logger
from gemini_proxy.pool.pool import CredentialPool, Ordering
from gemini_proxy.pool.recheck import PROBE_MODEL, recheck
from gemini_proxy.runtime import Runtime, load_runtime
from gemini_proxy.state.factory import create_store
from gemini_proxy.upstream.ai_studio import AiStudioClient
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.router import UpstreamRouter

# Stop starting probes this long before the Lambda timeout, so the run ends cleanly.
SAFETY_MARGIN_SECONDS = 10.0


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, object]:
    seconds = context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_SECONDS
    return asyncio.run(run_recheck(load_runtime(), max(1.0, seconds)))


async def run_recheck(runtime: Runtime, seconds: float) -> dict[str, object]:
    config = runtime.config
    store = create_store(config.state)
    http = HttpClient(config.upstream.connect_timeout_seconds, 30.0)
    upstream = UpstreamRouter(
        AiStudioClient(http, config.upstream.ai_studio_base_url),
        code_assist_client(config, http, store),
    )
    pool = CredentialPool(
        runtime.credentials,
        store,
        rules_for_kind(config, "ai_studio"),
        Ordering(config.ai_studio.fallback_mode),
        cache_seconds=0,
        rules_for=lambda credential: rules_for_kind(config, credential.kind),
    )

    async def probe(credential: Credential) -> None:
        # The cheapest call each kind allows: a model's metadata for a key, a token refresh
        # and project lookup for an account.
        await upstream.probe(credential, PROBE_MODEL)

    try:
        report = await recheck(pool, probe, time.monotonic() + seconds)
    finally:
        await http.close()
        await store.close()
    return report.as_dict()
