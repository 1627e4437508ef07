"""Reading Gemini's answers: an error object inside a 200 is still an error.

Answers travel as bytes; a dialect that translates parses them (`parse_answer`), a dialect that
passes them through does not, and both see the same failures raised.
"""

import re

from pydantic import ValidationError
from pydantic_core import from_json

from gemini_proxy.upstream.classify import UpstreamError, bad_answer, classify_http
from gemini_proxy.upstream.wire import GenerateContentResponse, UsageMetadata, WireModel

# `{"error": ...}` or `[{"error": ...}]` (Code Assist), with any whitespace around it.
_ERROR_START = re.compile(rb"\s*\[?\s*\{\s*\"error\"")


def checked(payload: bytes) -> bytes:
    """The payload, unless it is an error object: then the classified failure is raised."""
    if _ERROR_START.match(payload):
        raise UpstreamError(classify_http(_error_code(payload), payload))
    return payload


def parse_answer(payload: bytes) -> GenerateContentResponse:
    """One answer or stream event, already `checked`."""
    try:
        return GenerateContentResponse.model_validate_json(payload)
    except ValidationError:
        raise UpstreamError(bad_answer("Gemini sent an answer that could not be read")) from None


class _UsageOnly(WireModel):
    usage_metadata: UsageMetadata | None = None


def usage_of(payload: bytes) -> UsageMetadata | None:
    """The token counts in an answer (or a stream's last event), without reading the rest."""
    try:
        return _UsageOnly.model_validate_json(payload).usage_metadata
    except ValidationError:
        return None


def _error_code(payload: bytes) -> int:
    try:
        data = from_json(payload)
        if isinstance(data, list):
            data = data[0]
        code = data["error"].get("code")
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        return 500
    return code if isinstance(code, int) else 500
