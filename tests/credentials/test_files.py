"""AI Studio keys from the credentials folder (`load_ai_studio_keys`) and `Credential` secrecy."""

import json
from pathlib import Path

import pytest

from gemini_proxy.credentials import files
from gemini_proxy.credentials.files import load_ai_studio_keys
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential

KEY_A = "AIzaSyA-fake-key-aaaaaaaaaaaaaaaaaaaaaaa"
KEY_B = "AIzaSyB-fake-key-bbbbbbbbbbbbbbbbbbbbbbb"
KEY_C = "AIzaSyC-fake-key-ccccccccccccccccccccccc"
KEY_D = "AIzaSyD-fake-key-ddddddddddddddddddddddd"


class Warnings:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def warning(self, message: object, *args: object, **kwargs: object) -> None:
        self.messages.append(str(message) % args if args else str(message))


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> Warnings:
    recorder = Warnings()
    monkeypatch.setattr(files, "logger", recorder)
    return recorder


def loaded(folder: Path) -> list[tuple[str, str]]:
    credentials = load_ai_studio_keys(folder)
    assert all(c.kind == "ai_studio" for c in credentials)
    return [(c.secret, c.source) for c in credentials]


@pytest.mark.parametrize("name", ["ai_studio_keys.txt", "keys.txt"])
def test_text_file_with_comments_and_blank_lines(
    tmp_path: Path, name: str, warnings: Warnings
) -> None:
    (tmp_path / name).write_text(
        f"# my keys\n\n{KEY_A}\n   {KEY_B}   \n\t\n{KEY_C}  # the third one\n# {KEY_D}\n",
        encoding="utf-8",
    )
    assert loaded(tmp_path) == [(KEY_A, name), (KEY_B, name), (KEY_C, name)]
    assert warnings.messages == []


def test_text_file_with_windows_line_endings(tmp_path: Path) -> None:
    (tmp_path / "keys.txt").write_bytes(f"{KEY_A}\r\n{KEY_B}\r\n".encode())
    assert [secret for secret, _ in loaded(tmp_path)] == [KEY_A, KEY_B]


@pytest.mark.parametrize(
    "document",
    [
        [KEY_A, KEY_B],
        {"keys": [KEY_A, KEY_B]},
        {"ai_studio_keys": [KEY_A, KEY_B]},
        [f"  {KEY_A} ", "", "   ", KEY_B],
    ],
    ids=["list", "keys", "ai_studio_keys", "padded"],
)
def test_json_file(tmp_path: Path, document: object, warnings: Warnings) -> None:
    (tmp_path / "keys.json").write_text(json.dumps(document), encoding="utf-8")
    assert loaded(tmp_path) == [(KEY_A, "keys.json"), (KEY_B, "keys.json")]
    assert warnings.messages == []


def test_invalid_json_warns_without_quoting_the_file(tmp_path: Path, warnings: Warnings) -> None:
    (tmp_path / "keys.json").write_text(f'[\n  "{KEY_A}",\n  {KEY_B}\n]', encoding="utf-8")
    (tmp_path / "keys.txt").write_text(KEY_C, encoding="utf-8")
    assert loaded(tmp_path) == [(KEY_C, "keys.txt")]
    assert len(warnings.messages) == 1
    warning = warnings.messages[0]
    assert "keys.json" in warning
    assert "line 3" in warning
    for key in (KEY_A, KEY_B, KEY_C):
        assert key not in warning
    assert "AIza" not in warning
    assert "fake-key" not in warning


def test_json_that_is_not_utf8_warns(tmp_path: Path, warnings: Warnings) -> None:
    (tmp_path / "keys.json").write_bytes(b'["\xff\xfe' + KEY_A.encode() + b'"]')
    assert loaded(tmp_path) == []
    assert len(warnings.messages) == 1
    assert KEY_A not in warnings.messages[0]


@pytest.mark.parametrize(
    "document",
    [{"keys": KEY_A}, [KEY_A, 5], [[KEY_A]], 42, f'"{KEY_A}"'],
    ids=["keys-string", "mixed-list", "nested-list", "number", "string"],
)
def test_json_of_the_wrong_shape_warns(
    tmp_path: Path, document: object, warnings: Warnings
) -> None:
    text = document if isinstance(document, str) else json.dumps(document)
    (tmp_path / "keys.json").write_text(text, encoding="utf-8")
    assert loaded(tmp_path) == []
    assert len(warnings.messages) == 1
    assert "keys.json" in warnings.messages[0]
    assert KEY_A not in warnings.messages[0]


def test_json_object_without_a_key_list_loads_nothing(tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_text('{"comment": "none yet"}', encoding="utf-8")
    assert loaded(tmp_path) == []


def test_all_files_together_and_duplicates_loaded_once(tmp_path: Path) -> None:
    (tmp_path / "ai_studio_keys.txt").write_text(f"{KEY_A}\n{KEY_B}\n{KEY_A}\n", encoding="utf-8")
    (tmp_path / "keys.txt").write_text(f"{KEY_B}\n{KEY_C}\n", encoding="utf-8")
    (tmp_path / "keys.json").write_text(json.dumps([KEY_C, KEY_D, f" {KEY_A}"]), encoding="utf-8")
    assert loaded(tmp_path) == [
        (KEY_A, "ai_studio_keys.txt"),
        (KEY_B, "ai_studio_keys.txt"),
        (KEY_C, "keys.txt"),
        (KEY_D, "keys.json"),
    ]


def test_other_files_in_the_folder_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text(KEY_A, encoding="utf-8")
    (tmp_path / "oauth_creds.json").write_text(json.dumps({"access_token": "x"}), encoding="utf-8")
    assert loaded(tmp_path) == []


def test_missing_folder_gives_no_keys(tmp_path: Path) -> None:
    assert load_ai_studio_keys(tmp_path / "does-not-exist") == []


def test_a_directory_named_like_a_key_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "keys.txt").mkdir()
    (tmp_path / "keys.json").mkdir()
    assert load_ai_studio_keys(tmp_path) == []


@pytest.mark.parametrize("name", ["keys.txt", "ai_studio_keys.txt", "keys.json"])
def test_utf8_bom_is_ignored(tmp_path: Path, name: str) -> None:
    text = json.dumps([KEY_A, KEY_B]) if name.endswith(".json") else f"{KEY_A}\n{KEY_B}\n"
    (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert [secret for secret, _ in loaded(tmp_path)] == [KEY_A, KEY_B]


# --- Credential -----------------------------------------------------------------------------------


def test_credential_never_shows_its_secret() -> None:
    credential = Credential("ai_studio", KEY_A, source="keys.txt")
    shown = [
        repr(credential),
        str(credential),
        f"{credential}",
        f"{credential!r}",
        repr([credential]),
    ]
    for text in shown:
        assert KEY_A not in text
        assert KEY_A[8:20] not in text
    assert str(credential) == f"ai_studio:{fingerprint(KEY_A)}"
    assert fingerprint(KEY_A) in repr(credential)
    assert "keys.txt" in repr(credential)


def test_credential_fingerprint_and_identity() -> None:
    first = Credential("ai_studio", KEY_A, source="keys.txt")
    assert first.fingerprint == fingerprint(KEY_A)
    assert first.secret == KEY_A
    assert first == Credential("ai_studio", KEY_A, source="keys.txt")
    assert first.fingerprint != Credential("ai_studio", KEY_B).fingerprint
    with pytest.raises(AttributeError):
        first.secret = KEY_B  # type: ignore[misc]
