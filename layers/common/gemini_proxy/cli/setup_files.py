"""The files the wizard writes: config.yaml, samconfig.toml and the local `.env`.

Each is rendered to text first (and config.yaml validated against the Config model), so nothing
is written unless everything could be; then each is written whole or not at all (a temporary
file in the same folder, renamed over the target). Existing files are merged, not replaced:
config.yaml keeps every setting the wizard does not ask about, samconfig.toml keeps its other
environments, `.env` keeps its other lines.
"""

import contextlib
import json
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gemini_proxy.config import parse_config

DEFAULT_STACK = "gemini-proxy"
DEFAULT_REGION = "us-east-1"
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
CLIENT_KEYS_VAR = "GEMINI_PROXY_API_KEYS"
PORT_VAR = "GEMINI_PROXY_PORT"
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    """Write `text` to `path` so that no reader (and no Ctrl-C) ever sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        # mkstemp creates the file 0600; widen only what should be wider, before any byte.
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


# --- config.yaml -------------------------------------------------------------------------


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The file's top-level mapping, or {} when absent, empty or not a mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def render_config(base: Mapping[str, Any], settings: Mapping[str, Mapping[str, Any]]) -> str:
    """`base` with `settings` (section -> key -> value) merged in, validated, as YAML."""
    data: dict[str, Any] = {key: value for key, value in base.items()}
    for section, values in settings.items():
        current = data.get(section)
        merged = dict(current) if isinstance(current, dict) else {}
        merged.update(values)
        data[section] = merged
    header = (
        "# Gemini CLI Proxy configuration, written by `gemini-proxy setup`.\n"
        "# Every key is described in README.md. Client API keys never go here: see .env.\n"
    )
    text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    parse_config(text, "config.yaml")  # raises ConfigError: never write what the proxy refuses
    return text


def tidy_number(value: float) -> int | float:
    """60.0 as 60 in the written YAML; 0.5 stays 0.5."""
    return int(value) if math.isfinite(value) and value == int(value) else value


# --- samconfig.toml ----------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def sam_defaults(existing: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, str]:
    """(stack name, region) already chosen in samconfig.toml, else sensible ones."""
    glob = _table(existing, "default", "global", "parameters")
    deploy = _table(existing, "default", "deploy", "parameters")
    stack = glob.get("stack_name") or deploy.get("stack_name") or DEFAULT_STACK
    region = (
        glob.get("region")
        or deploy.get("region")
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or DEFAULT_REGION
    )
    return str(stack), str(region)


def render_samconfig(existing: Mapping[str, Any], stack_name: str, region: str) -> str:
    data: dict[str, Any] = json.loads(json.dumps(existing, default=str))  # a deep copy
    data.setdefault("version", 0.1)
    default = data.setdefault("default", {})
    default.setdefault("global", {}).setdefault("parameters", {}).update(
        {"stack_name": stack_name, "region": region}
    )
    default.setdefault("build", {}).setdefault("parameters", {"cached": True, "parallel": True})
    deploy = default.setdefault("deploy", {}).setdefault("parameters", {})
    for key, value in (
        ("capabilities", "CAPABILITY_IAM"),
        ("confirm_changeset", True),
        ("resolve_s3", True),
    ):
        deploy.setdefault(key, value)
    text = "# AWS SAM settings, written by `gemini-proxy setup`. Names only, never secrets.\n"
    text += dump_toml(data)
    tomllib.loads(text)  # what we write must read back
    return text


def _table(data: Mapping[str, Any], *path: str) -> dict[str, Any]:
    node: Any = data
    for name in path:
        node = node.get(name) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def dump_toml(data: Mapping[str, Any]) -> str:
    """TOML for nested tables of scalars and lists (all samconfig.toml holds)."""
    lines: list[str] = []
    _dump_table(data, [], lines)
    return "\n".join(lines).strip() + "\n"


def _dump_table(table: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if scalars and path:
        lines += ["", f"[{'.'.join(_toml_key(p) for p in path)}]"]
    lines += [f"{_toml_key(key)} = {_toml_value(value)}" for key, value in scalars.items()]
    for key, value in tables.items():
        _dump_table(value, [*path, key], lines)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    # JSON's string escapes are valid TOML basic-string escapes.
    return json.dumps(str(value), ensure_ascii=False)


# --- .env --------------------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    values = {}
    for line in text.splitlines():
        match = _ENV_LINE.match(line)
        if match:
            values[match.group(1)] = match.group(2).strip().strip("'\"")
    return values


def render_env_file(existing: str, updates: Mapping[str, str | None]) -> str:
    """`existing` with each variable in `updates` set (None: removed); other lines kept."""
    pending = dict(updates)
    lines = []
    for line in existing.splitlines():
        match = _ENV_LINE.match(line)
        if match and match.group(1) in pending:
            value = pending.pop(match.group(1))
            if value is not None:
                lines.append(f"{match.group(1)}={value}")
            continue
        lines.append(line)
    if not existing:
        lines.append("# Local settings for gemini-proxy (written by `gemini-proxy setup`).")
    lines += [f"{name}={value}" for name, value in pending.items() if value is not None]
    return "\n".join(lines).rstrip("\n") + "\n"
