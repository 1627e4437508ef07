"""Chat completion chunks as Server-Sent Events: `data: <json>` frames and `[DONE]`."""

from collections.abc import Sequence

from pydantic_core import to_json

from gemini_proxy.errors import ProxyError
from gemini_proxy.openai.translate_response import StreamTranslator
from gemini_proxy.upstream.wire import GenerateContentResponse

DONE = b"data: [DONE]\n\n"


class ChatFrames:
    def __init__(self, translator: StreamTranslator) -> None:
        self._translator = translator

    def feed(self, event: GenerateContentResponse) -> Sequence[bytes]:
        return [_frame(chunk.model_dump_json().encode()) for chunk in self._translator.feed(event)]

    def finish(self) -> Sequence[bytes]:
        chunks = self._translator.finish()
        return [*(_frame(chunk.model_dump_json().encode()) for chunk in chunks), DONE]

    def fail(self, error: ProxyError) -> Sequence[bytes]:
        # After the first byte the status line is gone; OpenAI reports such errors in-band.
        return [_frame(to_json(error.body())), DONE]


def _frame(data: bytes) -> bytes:
    return b"data: " + data + b"\n\n"
