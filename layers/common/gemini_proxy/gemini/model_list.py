"""Google's model list: the proxy's models as Gemini `Model` objects, paged as Google pages.

The names are the catalog's (configured, Gemini's own list, aliases), the same the OpenAI list
shows. A model Gemini listed carries Google's metadata; an alias carries its target's under its
own name; a configured model Gemini did not list (a Code-Assist-only pool has no list call) gets
its name and the methods its kind of model has.
"""

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.gemini.paths import BATCH_EMBED, COUNT_TOKENS, EMBED, GENERATE, METHODS
from gemini_proxy.upstream.wire import ModelInfo

DEFAULT_PAGE_SIZE = 50  # Google's defaults
MAX_PAGE_SIZE = 1000
_GENERATE = [GENERATE, COUNT_TOKENS]
_EMBED = [EMBED, BATCH_EMBED]
SERVED_METHODS = frozenset(METHODS)


def model_object(name: str, info: ModelInfo | None) -> dict[str, Any]:
    if info is None:
        methods = _EMBED if "embedding" in name else _GENERATE
        return {
            "name": f"models/{name}",
            "displayName": name,
            "supportedGenerationMethods": methods,
        }
    described = info.to_wire()
    # Only the methods this proxy serves: a client may decide by them.
    methods = [m for m in info.supported_generation_methods if m in SERVED_METHODS]
    return {**described, "name": f"models/{name}", "supportedGenerationMethods": methods}


def model_objects(
    names: list[str], details: Mapping[str, ModelInfo], aliases: Mapping[str, str]
) -> list[dict[str, Any]]:
    return [model_object(name, details.get(aliases.get(name, name))) for name in names]


def page(
    models: list[dict[str, Any]], page_size: str | None, page_token: str | None
) -> dict[str, Any]:
    size = _page_size(page_size)
    start = _offset(page_token)
    answer: dict[str, Any] = {"models": models[start : start + size]}
    if start + size < len(models):
        answer["nextPageToken"] = _token(start + size)
    return answer


def _page_size(value: str | None) -> int:
    if not value:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(value)
    except ValueError:
        raise InvalidRequest(
            f"Invalid value for 'pageSize': '{value[:32]}'", param="pageSize"
        ) from None
    if size <= 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        label, _, number = text.partition(":")
        if label == "offset" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidRequest("Invalid value for 'pageToken'", param="pageToken")
