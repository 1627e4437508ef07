"""AI Studio (Generative Language API v1beta): API-key auth, models, generate, count, embed.

Order of checks, as Google applies them: API key, scripted fault (quota and key state live with
the credential), model and method, then the request itself.
"""

import base64
import binascii
from typing import Any

from pydantic_core import from_json, to_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gemini_proxy.credentials.fingerprint import fingerprint

from . import embeddings, errors
from .catalog import MODEL_ORDER, MODELS, ModelInfo, bare_model_id, find_model
from .exchange import Exchange
from .faults import FaultContext
from .fields import get
from .plan import content_tokens
from .state import FakeState
from .validation import check_meaning, raise_structural, validate_generate

_KINDS = {
    "generateContent": "generate",
    "streamGenerateContent": "stream",
    "countTokens": "count_tokens",
    "embedContent": "embed",
    "batchEmbedContents": "batch_embed",
}
_MAX_PAGE = 1000
_DEFAULT_PAGE = 50


class AiStudio:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("/v1beta/models", self.list_models, methods=["GET"]),
            Route("/v1beta/models/{rest}", self.get_model, methods=["GET"]),
            Route("/v1beta/models/{rest}", self.model_method, methods=["POST"]),
        ]

    def _key(self, request: Request, ex: Exchange) -> str:
        """The caller's fingerprint; raises the error Google gives for a missing or bad key."""
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key") or ""
        if not key:
            raise errors.unregistered_caller()
        valid = self.state.settings.valid_keys
        ex.entry.credential = fingerprint(key)
        if valid is not None and key not in valid:
            raise errors.api_key_invalid()
        return ex.entry.credential

    async def list_models(self, request: Request) -> Response:
        ex = Exchange(self.state, request, "models", "ai_studio")
        try:
            credential = self._key(request, ex)
            fault = ex.take_fault(credential, None)
            if fault is not None and fault.is_error:
                return ex.error(fault.error(FaultContext("ai_studio", "")))
            if fault is not None and fault.type == "reset":
                return ex.reset()
            size = int(request.query_params.get("pageSize") or _DEFAULT_PAGE)
            size = _DEFAULT_PAGE if size <= 0 else min(size, _MAX_PAGE)
            start = _decode_token(request.query_params.get("pageToken") or "")
        except errors.GoogleError as failure:
            return ex.error(failure)
        except ValueError:
            return ex.error(errors.invalid_argument("Invalid value for pageSize."))
        page = [MODELS[m].to_wire() for m in MODEL_ORDER[start : start + size]]
        payload: dict[str, object] = {"models": page}
        if start + size < len(MODEL_ORDER):
            payload["nextPageToken"] = _encode_token(start + size)
        return ex.json(payload)

    async def get_model(self, request: Request) -> Response:
        ex = Exchange(self.state, request, "get_model", "ai_studio")
        name = bare_model_id(request.path_params["rest"])
        ex.entry.model = name
        try:
            fault = ex.take_fault(self._key(request, ex), name)
            if fault is not None and fault.is_error:
                return ex.error(fault.error(FaultContext("ai_studio", name)))
            if fault is not None and fault.type == "reset":
                return ex.reset()
        except errors.GoogleError as failure:
            return ex.error(failure)
        model = find_model(name)
        if model is None:
            return ex.error(errors.model_not_found(name, "get"))
        return ex.json(model.to_wire())

    async def model_method(self, request: Request) -> Response:
        model_name, _, method = request.path_params["rest"].rpartition(":")
        kind = _KINDS.get(method)
        ex = Exchange(self.state, request, kind or "unknown", "ai_studio")
        name = bare_model_id(model_name)
        ex.entry.model = name
        try:
            body = await ex.read_json(request)
            if kind is None:
                raise errors.error(404, "NOT_FOUND", f"Method not found: {method}")
            credential = self._key(request, ex)
            ex.check_body()
            fault = ex.take_fault(credential, name)
            if fault is not None and fault.is_error:
                return ex.error(fault.error(FaultContext("ai_studio", name)))
            if fault is not None and fault.type == "reset":
                return ex.reset()
            model = find_model(name)
            if model is None or not model.supports(method):
                raise errors.model_not_found(name, method)
            cut = fault is not None and fault.type == "drop_mid_stream"
            if kind == "embed":
                payload, _ = embeddings.embed(body, model)
                return ex.json(payload, cut_half=cut)
            if kind == "batch_embed":
                payload, _ = embeddings.batch_embed(body, model)
                return ex.json(payload, cut_half=cut)
            if kind == "count_tokens":
                return ex.json(self._count(body, model), cut_half=cut)
            plan = validate_generate(body, model, "ai_studio", ex.signature_check())
            streaming = kind == "stream"
            sse = request.query_params.get("alt") == "sse"
            return ex.answer(plan, fault, streaming=streaming, sse=sse)
        except errors.GoogleError as failure:
            return ex.error(failure)

    def _count(self, body: Any, model: ModelInfo) -> dict[str, object]:
        raise_structural(body, "CountTokensRequest")
        inner = get(body, "generateContentRequest")
        if isinstance(inner, dict):
            # Counting reads signatures, it does not verify whose they are.
            issued = self.state.signatures.__contains__
            total = check_meaning(inner, model, "ai_studio", issued).prompt_tokens
        else:
            contents = get(body, "contents") or []
            check_meaning({"contents": contents}, model, "ai_studio", lambda _: True)
            total = content_tokens(contents)
        return {
            "totalTokens": total,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}],
        }


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(to_json({"o": offset})).decode().rstrip("=")


def _decode_token(token: str) -> int:
    if not token:
        return 0
    try:
        data = from_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(data["o"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise errors.invalid_argument("Invalid page token.") from None
    if offset < 0:
        raise errors.invalid_argument("Invalid page token.")
    return offset
