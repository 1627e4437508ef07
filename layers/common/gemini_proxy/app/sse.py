"""Server-Sent Events for OpenAI clients: `data: <json>` frames and the `[DONE]` sentinel."""

from pydantic import BaseModel
from pydantic_core import to_json

from gemini_proxy.errors import ProxyError

DONE = b"data: [DONE]\n\n"


def event(chunk: BaseModel) -> bytes:
    return b"data: " + chunk.model_dump_json().encode() + b"\n\n"


def error_event(error: ProxyError) -> bytes:
    # After the first byte the status line is gone; OpenAI reports such errors in-band.
    return b"data: " + to_json(error.body()) + b"\n\n"
