"""POST /v1/audio/transcriptions end to end: multipart audio in, Gemini transcribes, text out.

The fake echoes the audio part as `[inlineData <mime>, <n> bytes]` followed by the instruction.
"""

import base64
import io
import json

import openai
import pytest
from openai import OpenAI

from tests.e2e.chat_helpers import last_body
from tests.support.fake import FakeGemini
from tests.support.http import call
from tests.support.openai_schema import validate
from tests.support.servers import ServerThread

WAV = b"RIFF$\x00\x00\x00WAVEfmt " + bytes(28) + b"data" + bytes(64)


def test_json_transcript(client: OpenAI, fake: FakeGemini) -> None:
    raw = client.audio.transcriptions.with_raw_response.create(
        file=("meeting.wav", WAV, "audio/wav"),
        model="gemini-2.5-flash",
        language="pt",
        prompt="Names: Joaquim, Lusíadas",
        temperature=0.2,
    )
    body = json.loads(raw.text)
    assert set(body) == {"text"}  # OpenAI's CreateTranscriptionResponseJson
    assert body["text"].startswith(f"Echo: [inlineData audio/wav, {len(WAV)} bytes] Transcribe")
    assert raw.parse().text == body["text"]
    sent = last_body(fake.requests(), "generate")
    audio, instruction = sent["contents"][0]["parts"]
    assert audio == {
        "inlineData": {"mimeType": "audio/wav", "data": base64.b64encode(WAV).decode()}
    }
    assert "'pt'" in instruction["text"] and "Joaquim, Lusíadas" in instruction["text"]
    assert sent["generationConfig"] == {"temperature": 0.2}
    assert fake.requests()[-1]["model"] == "gemini-2.5-flash"


def test_text_transcript(client: OpenAI, fake: FakeGemini) -> None:
    text = client.audio.transcriptions.create(
        file=("voice.mp3", io.BytesIO(b"ID3" + bytes(100)), "audio/mpeg"),
        model="gemini-2.5-flash",
        response_format="text",
    )
    assert isinstance(text, str)
    assert text.startswith("Echo: [inlineData audio/mpeg, 103 bytes]")


def multipart(fields: dict[str, str], filename: str, content_type: str, data: bytes) -> bytes:
    lines = []
    for name, value in fields.items():
        lines.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return "".join(lines).encode() + head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


BOUNDARY = "testboundary1234"


def test_without_a_useful_declared_type_the_file_name_decides(
    proxy: ServerThread, fake: FakeGemini
) -> None:
    body = multipart({"model": "gemini-2.5-flash"}, "voice.m4a", "application/octet-stream", WAV)
    reply = call(
        "POST",
        f"{proxy.url}/v1/audio/transcriptions",
        body,
        {"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert reply.status == 200, reply.body
    assert reply.json()["text"].startswith(f"Echo: [inlineData audio/mp4, {len(WAV)} bytes]")
    [audio, _] = last_body(fake.requests(), "generate")["contents"][0]["parts"]
    assert audio["inlineData"]["mimeType"] == "audio/mp4"


@pytest.mark.parametrize("model", ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
def test_openai_transcription_model_names_use_the_default_gemini_model(
    client: OpenAI, fake: FakeGemini, model: str
) -> None:
    result = client.audio.transcriptions.create(file=("a.wav", WAV, "audio/wav"), model=model)
    assert result.text.startswith("Echo: [inlineData audio/wav")
    assert fake.requests()[-1]["model"] == "gemini-2.5-flash"


@pytest.mark.parametrize("response_format", ["srt", "vtt", "verbose_json"])
def test_timed_formats_are_refused(client: OpenAI, fake: FakeGemini, response_format: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(
            file=("a.wav", WAV, "audio/wav"),
            model="gemini-2.5-flash",
            response_format=response_format,  # type: ignore[arg-type]
        )
    validate("ErrorResponse", caught.value.response.json())
    assert caught.value.param == "response_format"
    assert caught.value.code == "unsupported_parameter"
    assert fake.requests() == []


def test_a_file_that_is_not_audio_is_refused(client: OpenAI, fake: FakeGemini) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(
            file=("notes.txt", b"hello", "text/plain"), model="gemini-2.5-flash"
        )
    validate("ErrorResponse", caught.value.response.json())
    assert caught.value.param == "file"
    assert fake.requests() == []
