"""Embeddings: deterministic unit vectors hashed from the text.

Equal texts give equal vectors and different texts practically orthogonal ones, which is all a
proxy test needs. `outputDimensionality` truncates before normalising, so every answer is a unit
vector of the requested length.
"""

import hashlib
import math
import struct
from typing import Any

from . import errors
from .catalog import ModelInfo, bare_model_id
from .fields import get
from .validation import raise_structural


def vector(text: str, dim: int) -> list[float]:
    raw = hashlib.shake_256(text.encode()).digest(dim * 2)
    ints = struct.unpack(f"<{dim}h", raw)
    norm = math.sqrt(sum(v * v for v in ints)) or 1.0
    return [v / norm for v in ints]


def _text(request: dict[str, Any], path: str) -> str:
    content = get(request, "content")
    if not isinstance(content, dict):
        raise errors.invalid_argument(f"* {path}.content: content is not specified\n")
    parts = get(content, "parts") or []
    if not parts:
        raise errors.invalid_argument(
            f"* {path}.content.parts: contents.parts must not be empty.\n"
        )
    return " ".join(str(get(p, "text") or "") for p in parts)


def _dimension(request: dict[str, Any], model: ModelInfo, path: str) -> int:
    wanted = get(request, "outputDimensionality")
    if wanted is None:
        return model.embedding_dim
    dim = int(wanted)
    if not 1 <= dim <= model.embedding_dim:
        raise errors.invalid_argument(
            f"* {path}.output_dimensionality: Output dimensionality must be between 1 and "
            f"{model.embedding_dim}.\n"
        )
    return dim


def embed(body: Any, model: ModelInfo) -> tuple[dict[str, Any], int]:
    """The embedContent answer and the tokens it consumed."""
    raise_structural(body, "EmbedContentRequest")
    text = _text(body, "EmbedContentRequest")
    values = vector(text, _dimension(body, model, "EmbedContentRequest"))
    return {"embedding": {"values": values}}, len(text.split())


def batch_embed(body: Any, model: ModelInfo) -> tuple[dict[str, Any], int]:
    raise_structural(body, "BatchEmbedContentsRequest")
    requests = get(body, "requests") or []
    if not requests:
        raise errors.invalid_argument(
            "* BatchEmbedContentsRequest.requests: requests must not be empty.\n"
        )
    if len(requests) > 100:
        raise errors.invalid_argument(
            "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch.\n"
        )
    out: list[dict[str, Any]] = []
    tokens = 0
    for i, request in enumerate(requests):
        path = f"BatchEmbedContentsRequest.requests[{i}]"
        named = get(request, "model")
        if named is not None and bare_model_id(str(named)) != model.id:
            raise errors.invalid_argument(
                f"* {path}.model: model must match the model in the URL ({model.name}).\n"
            )
        text = _text(request, path)
        tokens += len(text.split())
        out.append({"values": vector(text, _dimension(request, model, path))})
    return {"embeddings": out}, tokens
