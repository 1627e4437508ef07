"""The documentation keeps up with the code it describes."""

from pathlib import Path

from pydantic import BaseModel

from gemini_proxy.config import Config

ROOT = Path(__file__).resolve().parents[1]


def _keys(model: BaseModel) -> list[str]:
    keys = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        keys.append(name)
        if isinstance(value, BaseModel):
            keys += _keys(value)
    return keys


def test_every_config_key_is_documented() -> None:
    text = (ROOT / "docs" / "CONFIGURATION.md").read_text()
    missing = [key for key in _keys(Config()) if f"{key}:" not in text]
    assert missing == []


def test_readme_shows_the_two_commands_first() -> None:
    text = (ROOT / "README.md").read_text()
    assert "make serve" in text[:800] and "make test" in text[:800]
