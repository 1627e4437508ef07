"""Incremental SSE decoding (`SSEDecoder`): framing, fields, and arbitrary read boundaries."""

import itertools

import pytest

from gemini_proxy.upstream.sse import SSEDecoder

# What Google sends: `data: <json>` events separated by a blank line, `\r\n` line endings.
GOOGLE = (
    b'data: {"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]}\r\n\r\n'
    b'data: {"candidates": [{"content": {"parts": [{"text": "lo"}]}, "finishReason": "STOP"}]}'
    b"\r\n\r\n"
)
GOOGLE_EVENTS = [
    b'{"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]}',
    b'{"candidates": [{"content": {"parts": [{"text": "lo"}]}, "finishReason": "STOP"}]}',
]

# Everything the decoder must handle in one stream: comments, other fields, multi-line data.
RICH = (
    b": keep-alive comment\r\n\r\n"
    b"event: message\r\nid: 7\r\ndata: first\r\nretry: 100\r\n\r\n"
    b"data: line one\r\ndata: line two\r\n\r\n"
    b"id: 8\r\n\r\n"
    b"data:tight\r\n\r\n"
    b"data:  two spaces\r\n: comment inside an event\r\n\r\n"
)
RICH_EVENTS = [b"first", b"line one\nline two", b"tight", b" two spaces"]


def decode(*pieces: bytes) -> list[bytes]:
    decoder = SSEDecoder()
    events = [payload for piece in pieces for payload in decoder.feed(piece)]
    return events + decoder.close()


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (GOOGLE, GOOGLE_EVENTS),
        (GOOGLE.replace(b"\r\n", b"\n"), GOOGLE_EVENTS),
        (RICH, RICH_EVENTS),
        (RICH.replace(b"\r\n", b"\n"), RICH_EVENTS),
    ],
    ids=["google-crlf", "google-lf", "rich-crlf", "rich-lf"],
)
def test_whole_stream_in_one_feed(stream: bytes, expected: list[bytes]) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(stream) == expected
    assert decoder.close() == []


@pytest.mark.parametrize(
    "stream",
    [GOOGLE, GOOGLE.replace(b"\r\n", b"\n"), RICH, RICH.replace(b"\r\n", b"\n")],
    ids=["google-crlf", "google-lf", "rich-crlf", "rich-lf"],
)
def test_split_at_every_byte_boundary(stream: bytes) -> None:
    expected = decode(stream)
    assert expected  # sanity: the stream has events
    for cut in range(len(stream) + 1):
        assert decode(stream[:cut], stream[cut:]) == expected, f"split at byte {cut}"


def test_split_at_every_pair_of_boundaries() -> None:
    stream = b"data: a\r\n\r\ndata: b\r\ndata: c\r\n\r\n"
    for first, second in itertools.combinations(range(len(stream) + 1), 2):
        pieces = stream[:first], stream[first:second], stream[second:]
        assert decode(*pieces) == [b"a", b"b\nc"], f"split at {first} and {second}"


@pytest.mark.parametrize("stream", [GOOGLE, RICH], ids=["google", "rich"])
def test_byte_by_byte(stream: bytes) -> None:
    assert decode(*(stream[i : i + 1] for i in range(len(stream)))) == decode(stream)


def test_events_are_returned_as_soon_as_they_are_terminated() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\r\n") == []
    assert decoder.feed(b"\r\n") == [b"one"]
    assert decoder.feed(b"data: two\n\n") == [b"two"]
    assert decoder.feed(b"data: three\r\n\r\ndata: fo") == [b"three"]
    assert decoder.feed(b"ur\r\n\r\n") == [b"four"]
    assert decoder.close() == []


def test_crlf_split_across_feeds() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"\n\r") == []
    assert decoder.feed(b"\n") == [b"x"]
    assert decoder.feed(b"data: y\r\n\r") == []
    assert decoder.feed(b"\ndata: z\r") == [b"y"]
    assert decoder.feed(b"\n\r\n") == [b"z"]
    assert decoder.close() == []


def test_a_crlf_split_is_not_read_as_two_line_breaks() -> None:
    # If the held-back \r were taken as a line end on its own, \r | \n would end the event early
    # and "data: b" would become a separate event.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r\n\r\n") == [b"a\nb"]


def test_lone_cr_line_endings() -> None:
    stream = b"data: a\r\rdata: b\rdata: c\r\r"
    for cut in range(len(stream) + 1):
        assert decode(stream[:cut], stream[cut:]) == [b"a", b"b\nc"], f"split at byte {cut}"


def test_close_yields_an_unterminated_last_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: done\r\n\r\ndata: tail") == [b"done"]
    assert decoder.close() == [b"tail"]


@pytest.mark.parametrize(
    "tail",
    [b"data: tail\r\n", b"data: tail\r", b"data: tail\n", b"data: tail\r\n\r"],
    ids=["crlf", "cr", "lf", "crlf-cr"],
)
def test_close_with_a_partly_terminated_last_event(tail: bytes) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(tail) == []
    assert decoder.close() == [b"tail"]


def test_close_resets_the_decoder() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: tail")
    assert decoder.close() == [b"tail"]
    assert decoder.close() == []
    assert decoder.feed(b"data: next\n\n") == [b"next"]


@pytest.mark.parametrize(
    "stream",
    [
        b"",
        b": only a comment\r\n\r\n",
        b"event: ping\nid: 1\nretry: 5\n\n",
        b"\r\n\r\n\r\n",
        b": tail",
    ],
    ids=["empty", "comment", "other-fields", "blank-lines", "unterminated-comment"],
)
def test_streams_without_data_yield_nothing(stream: bytes) -> None:
    assert decode(stream) == []


def test_field_names_must_match_exactly() -> None:
    assert decode(b"datax: no\n\nDATA: no\n\n data: no\n\ndata: yes\n\n") == [b"yes"]


def test_only_one_leading_space_is_removed_and_trailing_text_is_kept() -> None:
    assert decode(b"data:   indented  \n\n") == [b"  indented  "]


def test_multibyte_utf8_split_mid_character() -> None:
    stream = 'data: {"text": "héllo ✓"}\r\n\r\n'.encode()
    for cut in range(len(stream) + 1):
        assert decode(stream[:cut], stream[cut:]) == ['{"text": "héllo ✓"}'.encode()]
