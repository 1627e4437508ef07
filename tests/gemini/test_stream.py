"""Gemini's two stream framings around events passed through unchanged."""

import json

import pytest

from gemini_proxy.errors import ProxyError
from gemini_proxy.gemini.stream import ArrayFrames, SseFrames, framing
from gemini_proxy.upstream.classify import FailureKind, UpstreamError
from gemini_proxy.upstream.code_assist import EMPTY_ANSWER

EVENTS = [b'{"candidates":[{"content":{"parts":[{"text":"He"}]}}]}', b'{"x": "llo"}']
LIMITED = ProxyError("slow down", status=429, code="rate_limit_exceeded")


def run(frames: SseFrames | ArrayFrames, events: list[bytes], error: ProxyError | None) -> bytes:
    out = [frame for event in events for frame in frames.feed(event)]
    out += frames.fail(error) if error else frames.finish()
    return b"".join(out)


def test_sse_frames_each_event_as_google_does() -> None:
    body = run(SseFrames(), EVENTS, None)
    assert body == b"".join(b"data: " + e + b"\r\n\r\n" for e in EVENTS)


def test_the_array_is_one_json_document_written_element_by_element() -> None:
    frames = ArrayFrames()
    assert frames.feed(EVENTS[0]) == (b"[" + EVENTS[0],)
    body = run(ArrayFrames(), EVENTS, None)
    assert body == b"[" + EVENTS[0] + b"\n,\r\n" + EVENTS[1] + b"\n]"
    assert json.loads(body) == [json.loads(e) for e in EVENTS]


def test_an_error_after_the_first_byte_is_in_band_and_the_end_is_clean() -> None:
    sse = run(SseFrames(), EVENTS[:1], LIMITED)
    last = sse.split(b"\r\n\r\n")[-2].removeprefix(b"data: ")
    assert json.loads(last)["error"]["status"] == "RESOURCE_EXHAUSTED"
    array = json.loads(run(ArrayFrames(), EVENTS[:1], LIMITED))
    assert array[0] == json.loads(EVENTS[0])
    assert array[-1]["error"]["code"] == 429


def test_code_assist_metadata_only_events_are_not_sent() -> None:
    frames = SseFrames()
    assert frames.feed(EMPTY_ANSWER) == ()
    assert frames.feed(EVENTS[0])


@pytest.mark.parametrize("frames", [SseFrames(), ArrayFrames()], ids=["sse", "array"])
def test_a_stream_without_events_fails_over(frames: SseFrames | ArrayFrames) -> None:
    frames.feed(EMPTY_ANSWER)
    with pytest.raises(UpstreamError) as caught:
        frames.finish()
    assert caught.value.failure.kind is FailureKind.BAD_ANSWER


def test_alt_picks_the_framing() -> None:
    assert framing("sse") == (SseFrames, "text/event-stream")
    assert framing(None) == (ArrayFrames, "application/json")
    assert framing("json") == (ArrayFrames, "application/json")
    with pytest.raises(ProxyError) as caught:
        framing("proto")
    assert caught.value.status == 400
