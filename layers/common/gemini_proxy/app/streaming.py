"""Sending a committed stream: frames go out as they come, failures end it in-band.

The status line went out with the first frame, so from then on a failure cannot fail over or
change the status: the dialect's in-band error form ends the stream cleanly instead, and no text
is ever sent twice. Whatever happens, the upstream connection is closed (also when the client
hung up, so Google stops generating) and the stream slot is given back.
"""

from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

import anyio
from starlette.responses import StreamingResponse

from gemini_proxy.errors import ProxyError
from gemini_proxy.generation.service import Stream
from gemini_proxy.logs import logger
from gemini_proxy.pool.orchestrator import client_error
from gemini_proxy.upstream.classify import UpstreamError

E = TypeVar("E")

STREAM_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def stream_response(stream: Stream[E], media_type: str = "text/event-stream") -> StreamingResponse:
    return StreamingResponse(_body(stream), media_type=media_type, headers=STREAM_HEADERS)


async def _body(stream: Stream[E]) -> AsyncIterator[bytes]:
    outcome = stream.outcome
    outcome.error = "client_disconnected"  # unless the stream reaches an end below
    try:
        for frame in stream.opened.first:
            yield frame
        try:
            async for frame in stream.opened.rest():
                yield frame
            outcome.error = None
        except UpstreamError as exc:
            outcome.error = exc.failure.kind.value
            for frame in _failed(stream, client_error([exc.failure])):
                yield frame
        except ProxyError as exc:
            outcome.error = exc.code or exc.type
            for frame in _failed(stream, exc):
                yield frame
        except Exception:
            logger.exception("stream failed", extra={"request_id": outcome.request_id})
            outcome.error = "internal_error"
            error = ProxyError("The proxy hit an internal error", code="internal_error")
            for frame in _failed(stream, error):
                yield frame
    finally:
        # Shielded: when the client hung up this task is cancelled, and the upstream
        # connection must still be closed.
        with anyio.CancelScope(shield=True):
            await stream.opened.aclose()
        stream.release()


def _failed(stream: Stream[E], error: ProxyError) -> Sequence[bytes]:
    return stream.frames.fail(error)
