"""Incremental Server-Sent Events decoding: bytes in as they arrive, `data` payloads out.

Google frames events with `\\r\\n`; other servers use `\\n`. Both are accepted, as are
multi-line `data:` fields. Only `data` matters to us: other fields and comments are skipped.
"""


class SSEDecoder:
    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """Payloads of the events completed by this chunk, in order."""
        data = self._pending + chunk
        carry = b""
        if data.endswith(b"\r"):
            # Possibly the first half of a \r\n split across two reads.
            data, carry = data[:-1], b"\r"
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events = data.split(b"\n\n")
        self._pending = events.pop() + carry
        return [payload for event in events if (payload := _payload(event)) is not None]

    def close(self) -> list[bytes]:
        """At the end of the stream: an event the server did not terminate still counts."""
        rest, self._pending = self._pending, b""
        payload = _payload(rest.replace(b"\r", b"\n").strip(b"\n"))
        return [payload] if payload is not None else []


def _payload(event: bytes) -> bytes | None:
    lines = [line for line in event.split(b"\n") if line.startswith(b"data:")]
    if not lines:
        return None
    return b"\n".join(line[6:] if line[5:6] == b" " else line[5:] for line in lines)
