"""Validate our answers against OpenAI's official schemas (copied into tests/data/)."""

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).parent.parent / "data" / "openai_schemas.json"


def _with_nullable(node: Any) -> Any:
    """OpenAPI's `nullable: true` (left over in OpenAI's 3.1 spec) means "or null"."""
    if isinstance(node, list):
        return [_with_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _with_nullable(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = _with_nullable(json.loads(SCHEMAS.read_text()))
    return document


@cache
def _validator(name: str) -> Draft202012Validator:
    document = _document()
    if name not in document["components"]["schemas"]:
        raise KeyError(f"schema {name} is not in {SCHEMAS.name}")
    return Draft202012Validator({**document, "$ref": f"#/components/schemas/{name}"})


def validate(name: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError if `instance` does not match OpenAI's schema `name`."""
    _validator(name).validate(instance)
