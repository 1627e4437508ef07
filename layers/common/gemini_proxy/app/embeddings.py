"""POST /v1/embeddings through AI Studio's batchEmbedContents (100 texts a call)."""

import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gemini_proxy.app.body import parse_body, read_body
from gemini_proxy.app.chat import log_request
from gemini_proxy.app.responses import JSONBytes, error_response
from gemini_proxy.app.services import Services
from gemini_proxy.credentials.models import Credential
from gemini_proxy.errors import ProxyError
from gemini_proxy.openai.embeddings import to_batch_embeds, to_embedding_list
from gemini_proxy.openai.models import EmbeddingList, EmbeddingRequest
from gemini_proxy.upstream.router import AI_STUDIO_ONLY


async def embeddings(request: Request) -> Response:
    services: Services = request.app.state.services
    log: dict[str, Any] = {"request_id": f"req_{secrets.token_hex(8)}", "path": request.url.path}
    started = time.perf_counter()
    try:
        services.client_keys.check(request.headers.get("authorization"))
        body = await read_body(request, services.config.server.max_body_bytes)
        wanted = parse_body(EmbeddingRequest, body)
        model = services.catalog.resolve(wanted.model)
        log["model"] = wanted.model
        batches = to_batch_embeds(wanted, model)

        async def embed(credential: Credential) -> EmbeddingList:
            # All batches on one credential: a failure retries the whole request elsewhere.
            answers = [await services.upstream.embed(credential, model, batch) for batch in batches]
            return to_embedding_list(answers, wanted)

        # Code Assist has no embeddings: only AI Studio keys can serve this.
        served = await services.orchestrator.run(model, embed, AI_STUDIO_ONLY)
    except ProxyError as exc:
        log_request(log, exc.status, started, error=exc.code)
        return error_response(exc, {"x-request-id": log["request_id"]})
    log.update(credential=served.credential.fingerprint, attempts=served.attempts)
    log_request(log, 200, started)
    return JSONBytes(
        served.value.model_dump_json().encode(),
        headers={
            "x-request-id": log["request_id"],
            "x-gemini-proxy-credential": served.credential.fingerprint,
            "x-gemini-proxy-attempts": str(served.attempts),
        },
    )
