"""Incremental Server-Sent Events decoding: bytes in as they arrive, `data` payloads out.

Google frames events with `\\r\\n`; other servers use `\\n` (or a lone `\\r`). All are accepted,
as are multi-line `data:` fields. Only `data` matters to us: other fields and comments are
skipped.

Each byte is scanned and copied a fixed number of times, however the stream is cut into reads:
one large event (an image Gemini draws, inline base64) arrives in many small reads, and
re-scanning what is already pending on every read would make that quadratic.
"""

DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024


class EventTooLarge(Exception):
    """One event grew past the limit; the stream cannot be decoded further."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"an event was larger than the limit of {limit} bytes")
        self.limit = limit


class SSEDecoder:
    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._limit = max_event_bytes
        self._line: list[bytes] = []  # pieces of the line not terminated yet
        self._data: list[bytes] = []  # `data` values of the event so far
        self._size = 0  # bytes of the event so far, every line counted
        # A read ending in \r may be the first half of a \r\n: decided by the next read.
        self._held_cr = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """Payloads of the events completed by this chunk, in order.

        Raises EventTooLarge when the event being received outgrows the limit.
        """
        if not chunk:
            return []
        payloads: list[bytes] = []
        if self._held_cr:
            # The held \r ends a line whether or not a \n follows it.
            self._held_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
            self._end_line(b"", payloads)
        if chunk.endswith(b"\r"):
            chunk, self._held_cr = chunk[:-1], True
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *lines, rest = chunk.split(b"\n")
        for line in lines:
            self._end_line(line, payloads)
        if rest:
            self._count(len(rest))
            self._line.append(rest)
        return payloads

    def close(self) -> list[bytes]:
        """At the end of the stream: an event the server did not terminate still counts."""
        payloads: list[bytes] = []
        if self._line:
            self._end_line(b"", payloads)
        payload = self._dispatch()
        self._held_cr = False
        return [*payloads, payload] if payload is not None else payloads

    def _end_line(self, last: bytes, payloads: list[bytes]) -> None:
        self._count(len(last))
        if self._line:
            self._line.append(last)
            line = b"".join(self._line)
            self._line = []
        else:
            line = last
        if not line:
            # A blank line ends the event.
            payload = self._dispatch()
            if payload is not None:
                payloads.append(payload)
        elif line.startswith(b"data:"):
            self._data.append(line[6:] if line[5:6] == b" " else line[5:])

    def _dispatch(self) -> bytes | None:
        data, self._data, self._size = self._data, [], 0
        return b"\n".join(data) if data else None

    def _count(self, size: int) -> None:
        self._size += size
        if self._size > self._limit:
            raise EventTooLarge(self._limit)
