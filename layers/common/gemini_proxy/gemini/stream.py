"""Gemini's stream framings, with each upstream event passed through as it came.

`alt=sse`: `data: <json>\\r\\n\\r\\n` per event, as Google frames them. Without it Google streams
one JSON array, written element by element: `[{...}\\n,\\r\\n{...}\\n]`. An error after the first
byte is Google's in-band form (an `{"error": ...}` event or array element) and a clean end.
"""

from collections.abc import Sequence

from gemini_proxy.errors import InvalidRequest, ProxyError
from gemini_proxy.gemini.errors import encoded
from gemini_proxy.upstream.classify import UpstreamError, bad_answer
from gemini_proxy.upstream.code_assist import EMPTY_ANSWER

SSE_TYPE = "text/event-stream"
ARRAY_TYPE = "application/json"


class _Frames:
    def __init__(self) -> None:
        self.sent = 0

    def feed(self, event: bytes) -> Sequence[bytes]:
        if event == EMPTY_ANSWER:
            return ()  # Code Assist's metadata-only event: nothing for the client
        self.sent += 1
        return (self._frame(event),)

    def finish(self) -> Sequence[bytes]:
        if not self.sent:
            # Before the first byte: another credential may well answer.
            raise UpstreamError(bad_answer("Gemini ended the stream without any event"))
        return self._end()

    def fail(self, error: ProxyError) -> Sequence[bytes]:
        return (self._frame(encoded(error)), *self._end())

    def _frame(self, event: bytes) -> bytes:
        raise NotImplementedError

    def _end(self) -> Sequence[bytes]:
        return ()


class SseFrames(_Frames):
    def _frame(self, event: bytes) -> bytes:
        return b"data: " + event + b"\r\n\r\n"


class ArrayFrames(_Frames):
    def __init__(self) -> None:
        super().__init__()
        self._opened = False

    def _frame(self, event: bytes) -> bytes:
        separator = b"\n,\r\n" if self._opened else b"["
        self._opened = True
        return separator + event

    def _end(self) -> Sequence[bytes]:
        return (b"\n]",) if self._opened else (b"[]",)


def framing(alt: str | None) -> tuple[type[_Frames], str]:
    """The framing `?alt=` asks for, and its media type."""
    if alt == "sse":
        return SseFrames, SSE_TYPE
    if alt in (None, "json"):
        return ArrayFrames, ARRAY_TYPE
    raise InvalidRequest(
        f"Invalid value for 'alt': '{alt[:32]}' (this proxy streams 'sse' or 'json')",
        param="alt",
        code="invalid_alt",
    )
