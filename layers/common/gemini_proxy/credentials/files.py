"""AI Studio keys from the credentials folder.

Accepted, all in the folder (default `oauth creds/`): `ai_studio_keys.txt` and `keys.txt` (one
key a line, `#` comments allowed) and `keys.json` (a list of keys, or an object with a `keys`
or `ai_studio_keys` list). Duplicates are loaded once.
"""

import json
from pathlib import Path

from gemini_proxy.credentials.models import Credential
from gemini_proxy.logs import logger

KEY_FILES = ("ai_studio_keys.txt", "keys.txt")
JSON_KEY_FILE = "keys.json"


def load_ai_studio_keys(folder: Path) -> list[Credential]:
    keys: dict[str, Credential] = {}
    for name in KEY_FILES:
        path = folder / name
        if path.is_file():
            for key in keys_from_text(path.read_text(encoding="utf-8-sig")):
                keys.setdefault(key, Credential("ai_studio", key, source=name))
    path = folder / JSON_KEY_FILE
    if path.is_file():
        for key in _keys_from_json(path):
            keys.setdefault(key, Credential("ai_studio", key, source=JSON_KEY_FILE))
    return list(keys.values())


def keys_from_text(text: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def _keys_from_json(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        # The parser's message can quote the file's text, which holds keys: report only where.
        position = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        logger.warning(f"{path.name} is not valid JSON{position}; its keys were not loaded")
        return []
    if isinstance(data, dict):
        data = data.get("keys", data.get("ai_studio_keys", []))
    if not isinstance(data, list) or not all(isinstance(key, str) for key in data):
        logger.warning(f"{path.name} should hold a list of keys; its keys were not loaded")
        return []
    return [key.strip() for key in data if key.strip()]
