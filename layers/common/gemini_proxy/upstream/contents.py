"""Building Gemini's `contents`: the small rules every dialect's request translation obeys.

Pure functions over the wire models: Gemini rejects an empty text part, wants turns of one
role merged, and takes inline data as base64 with its MIME type.
"""

from collections.abc import Iterable

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.upstream.wire import Blob, Content, Part


def text_parts(texts: Iterable[str]) -> list[Part]:
    """Text as parts, dropping empty strings: Gemini rejects an empty text part."""
    return [Part(text=text) for text in texts if text]


def data_url_blob(url: str, param: str) -> Blob:
    """A `data:` URL as inline data; anything else is the client's 400, naming `param`."""
    header, sep, data = url.removeprefix("data:").partition(",")
    # RFC 2397: data:<type>[;<param>=<value>]*;base64,<data> (e.g. ";charset=utf-8;base64").
    mime_type, *params = header.split(";")
    mime_type = mime_type.strip().lower()
    if not sep or not params or params[-1] != "base64" or "/" not in mime_type or not data:
        raise InvalidRequest(
            "expected a data URL of the form data:<mime type>;base64,<data>", param=param
        )
    return Blob(mime_type=mime_type, data=data)


def append_turn(contents: list[Content], role: str, parts: list[Part]) -> None:
    """Add a turn, merging it into the previous one when the role repeats."""
    if not parts:
        return
    if contents and contents[-1].role == role:
        contents[-1].parts.extend(parts)
    else:
        contents.append(Content(role=role, parts=parts))
