"""Reading and validating a JSON request body: every problem is a clear 4xx."""

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request

from gemini_proxy.errors import InvalidRequest, ProxyError

M = TypeVar("M", bound=BaseModel)


async def read_body(request: Request, max_bytes: int) -> bytes:
    content_type = request.headers.get("content-type")
    if content_type is not None:
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise ProxyError(
                f"Content-Type must be application/json, not '{media}'",
                status=415,
                type="invalid_request_error",
                code="unsupported_media_type",
            )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request, max_bytes: int) -> FormData:
    """A multipart form (one file at most), within the body limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ProxyError(
            "Content-Type must be multipart/form-data",
            status=415,
            type="invalid_request_error",
            code="unsupported_media_type",
        )
    try:
        return await request.form(max_files=1, max_fields=20, max_part_size=max_bytes)
    except Exception as exc:  # python-multipart's errors have no common base worth naming
        raise InvalidRequest(f"The multipart form could not be read: {exc}") from None


def _too_large(max_bytes: int) -> ProxyError:
    return ProxyError(
        f"Request body is larger than the proxy's limit of {max_bytes} bytes",
        status=413,
        type="invalid_request_error",
        code="request_too_large",
    )


def parse_body(model: type[M], body: bytes) -> M:
    if not body.strip():
        raise InvalidRequest("The request body is empty; expected a JSON object")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid(exc) from None


# Labels pydantic puts in an error location for union branches; they are not field names.
_TAGS = {"system", "developer", "user", "assistant", "tool", "function"} | {
    "text",
    "image_url",
    "input_audio",
    "file",
    "refusal",
}
_TYPE_LABELS = {"str", "int", "float", "bool"}


def _invalid(exc: ValidationError) -> InvalidRequest:
    errors = exc.errors(include_url=False, include_input=False)
    # The deepest location is the most precise: union branches report shallower ones too.
    error = max(errors, key=lambda e: len(e["loc"]))
    if error["type"] in ("json_invalid", "json_type", "model_type", "model_attributes_type"):
        return InvalidRequest(f"The request body is not a valid JSON object: {error['msg']}")
    path = _path(error["loc"])
    message = f"Invalid value for '{path}': {error['msg']}" if path else str(error["msg"])
    return InvalidRequest(message, param=path or None, code="invalid_value")


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    previous: int | str | None = None
    for item in loc:
        if isinstance(item, int):
            text += f"[{item}]"
        elif "[" in item or item in _TYPE_LABELS or (isinstance(previous, int) and item in _TAGS):
            pass  # a union branch label, not a field
        else:
            text += f".{item}" if text else item
        previous = item
    return text
