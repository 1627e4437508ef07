"""Reading Gemini's answers: an error object inside a 200 is still an error.

Answers travel as bytes; a dialect that translates parses them (`parse_answer`), a dialect that
passes them through does not, and both see the same failures raised.
"""

import re

from pydantic import ValidationError
from pydantic_core import from_json

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.upstream.classify import UpstreamError, bad_answer, classify_http
from gemini_proxy.upstream.wire import Candidate, GenerateContentResponse, UsageMetadata, WireModel

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


# Finish reasons of an answer Gemini's safety filters stopped: a finished answer, refused.
SAFETY_FINISH = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"}
)
# Finish reasons that mean the answer is broken rather than finished: another attempt may do
# better, so they fail over like any upstream failure.
FAILED_FINISH = frozenset(
    {"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"}
)


def check_finish(candidate: Candidate) -> None:
    if candidate.finish_reason in FAILED_FINISH:
        raise UpstreamError(bad_answer(f"Gemini ended the answer with {candidate.finish_reason}"))


def check_prompt_not_blocked(answer: GenerateContentResponse, param: str) -> None:
    """A prompt Gemini refused to answer at all is the request's fault: a 400 naming `param`
    (where the client's prompt is), which no other credential would answer differently."""
    feedback = answer.prompt_feedback
    if not answer.candidates and feedback and feedback.block_reason:
        detail = f": {feedback.block_reason_message}" if feedback.block_reason_message else ""
        raise InvalidRequest(
            f"Gemini blocked the prompt ({feedback.block_reason}){detail}",
            param=param,
            code="content_policy_violation",
        )


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
