"""Inline media in user messages -> Gemini inlineData: data URLs and `file` parts. Pure."""

from typing import Any

import pytest

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.openai.models import ChatCompletionRequest
from gemini_proxy.openai.translate_request import to_gemini

PDF = "JVBERi0xLjQK"


def parts(*content: dict[str, Any]) -> list[dict[str, Any]]:
    chat = ChatCompletionRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": list(content)}]}
    )
    body = to_gemini(chat, "gemini-2.5-flash").request.to_wire()
    found: list[dict[str, Any]] = body["contents"][0]["parts"]
    return found


def refused(*content: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parts(*content)
    return caught.value


def image(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


@pytest.mark.parametrize(
    ("url", "mime"),
    [
        ("data:image/png;base64,AAAA", "image/png"),
        # RFC 2397 allows parameters before ;base64 (browsers' FileReader adds some).
        ("data:image/svg+xml;charset=utf-8;base64,AAAA", "image/svg+xml"),
        ("data:IMAGE/JPEG;base64,AAAA", "image/jpeg"),
    ],
)
def test_data_urls_with_parameters_are_read(url: str, mime: str) -> None:
    assert parts(image(url)) == [{"inlineData": {"mimeType": mime, "data": "AAAA"}}]


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png,AAAA",
        "data:image/png;charset=utf-8,AAAA",
        "data:png;base64,AAAA",
        "data:;base64,AAAA",
        "data:image/png;base64,",
    ],
)
def test_data_urls_that_are_not_base64_media_are_400(url: str) -> None:
    assert refused(image(url)).param == "messages[0].content[0].image_url.url"


def test_file_data_as_a_data_url() -> None:
    part = {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}"}}
    assert parts(part) == [{"inlineData": {"mimeType": "application/pdf", "data": PDF}}]


def test_bare_base64_file_data_takes_its_type_from_the_filename() -> None:
    part = {"type": "file", "file": {"filename": "report.pdf", "file_data": PDF}}
    assert parts(part) == [{"inlineData": {"mimeType": "application/pdf", "data": PDF}}]


@pytest.mark.parametrize(
    "file",
    [
        {"file_data": PDF},
        {"filename": "no-extension", "file_data": PDF},
        {"filename": "a.pdf", "file_data": ""},
    ],
)
def test_bare_base64_without_a_known_type_is_400(file: dict[str, Any]) -> None:
    error = refused({"type": "file", "file": file})
    assert error.param == "messages[0].content[0].file.file_data"
    assert "data URL" in error.message
