"""JSON Schema from clients -> the OpenAPI subset Gemini accepts for function parameters.

Clients send whatever their framework generates (pydantic, zod, MCP servers): `$ref`/`$defs`,
`additionalProperties`, `const`, `anyOf` with null, arrays without `items`... Gemini rejects all
of these with a 400. `sanitize_schema` rewrites a schema into what Gemini takes and lists every
change it made, so the caller can log them. Pure functions.
"""

import hashlib
import re
from typing import Any

# Keywords Gemini's Schema object understands; anything else is dropped (and reported).
_KEPT = {
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "items",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "anyOf",
    "propertyOrdering",
    "example",
    "default",
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# What a kept keyword's value must look like; a malformed one is dropped like an unknown one.
_SHAPES: dict[str, Any] = {
    "type": lambda v: (
        isinstance(v, str) or (isinstance(v, list) and all(isinstance(t, str) for t in v))
    ),
    "format": lambda v: isinstance(v, str),
    "title": lambda v: isinstance(v, str),
    "description": lambda v: isinstance(v, str),
    "nullable": lambda v: isinstance(v, bool),
    "enum": lambda v: isinstance(v, list),
    "items": lambda v: isinstance(v, dict),
    "minItems": _is_count,
    "maxItems": _is_count,
    "properties": lambda v: isinstance(v, dict),
    "required": lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v),
    "minProperties": _is_count,
    "maxProperties": _is_count,
    "minLength": _is_count,
    "maxLength": _is_count,
    "pattern": lambda v: isinstance(v, str),
    "minimum": _is_number,
    "maximum": _is_number,
    "anyOf": lambda v: isinstance(v, list),
    "propertyOrdering": lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v),
}

_FORMATS = {
    "string": {"enum", "date-time"},
    "integer": {"int32", "int64"},
    "number": {"float", "double"},
}
_TYPES = {"string", "number", "integer", "boolean", "array", "object"}
MAX_DEPTH = 32

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")


def gemini_function_name(name: str) -> str:
    """A name Gemini accepts: `[A-Za-z_][A-Za-z0-9_.:-]*`, at most 64 characters.

    Valid names pass unchanged. Others are rewritten deterministically (a short hash keeps two
    long names that share a prefix apart), so the same name maps the same way on every turn.
    """
    if NAME_PATTERN.match(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_.:-]", "_", name) or "_"
    if not re.match(r"[A-Za-z_]", cleaned[0]):
        cleaned = "_" + cleaned
    if len(cleaned) > 64:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        cleaned = f"{cleaned[:55]}_{digest}"
    return cleaned


class _Sanitizer:
    def __init__(self, root: dict[str, Any]) -> None:
        self.definitions: dict[str, Any] = {}
        for name in ("definitions", "$defs"):
            found = root.get(name)
            if isinstance(found, dict):
                self.definitions.update({k: v for k, v in found.items() if isinstance(v, dict)})
        self.changes: list[str] = []

    def note(self, path: str, change: str) -> None:
        self.changes.append(f"{path or '<root>'}: {change}")

    def resolve(self, node: dict[str, Any], path: str, seen: tuple[str, ...]) -> dict[str, Any]:
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node
        name = ref.rsplit("/", 1)[-1]
        if name in seen or name not in self.definitions:
            why = "is recursive" if name in seen else "is not defined"
            self.note(path, f"$ref {ref} {why}; replaced by an open object")
            return {"type": "object", "description": node.get("description", "")}
        self.note(path, f"inlined $ref {ref}")
        target = dict(self.definitions[name])
        for key, value in node.items():
            if key != "$ref":
                target.setdefault(key, value)
        return target

    def clean(self, node: Any, path: str, seen: tuple[str, ...] = (), depth: int = 0) -> Any:
        if not isinstance(node, dict):
            return {"type": "string"} if node is not True else {}
        if depth > MAX_DEPTH:
            self.note(path, "nested too deep; cut to an open object")
            return {"type": "object"}
        if "$ref" in node:
            ref_name = str(node["$ref"]).rsplit("/", 1)[-1]
            return self.clean(self.resolve(node, path, seen), path, (*seen, ref_name), depth + 1)
        node = self._simplify_unions(node, path)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "const":
                out["enum"] = [value]
                self.note(path, "const became a one-value enum")
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, int | float):
                lower = key == "exclusiveMinimum"
                if node.get("type") == "integer":
                    value = value + 1 if lower else value - 1
                out["minimum" if lower else "maximum"] = value
                self.note(path, f"{key} became an inclusive bound")
            elif key not in _KEPT:
                if key not in ("$defs", "definitions") or path:
                    self.note(path, f"dropped unsupported keyword '{key}'")
            elif key in _SHAPES and not _SHAPES[key](value):
                self.note(path, f"dropped malformed '{key}'")
            else:
                out[key] = value
        self._fix_type(out, path)
        if "properties" in out:
            out["properties"] = {
                name: self.clean(schema, f"{path}.{name}" if path else name, seen, depth + 1)
                for name, schema in (out["properties"] or {}).items()
            }
        if out.get("type") == "array":
            if "items" not in out or not isinstance(out["items"], dict):
                out["items"] = {"type": "string"}
                self.note(path, "array without items got string items")
            else:
                out["items"] = self.clean(out["items"], f"{path}[]", seen, depth + 1)
        elif "items" in out:
            del out["items"]
        if "anyOf" in out:
            out["anyOf"] = [self.clean(branch, path, seen, depth + 1) for branch in out["anyOf"]]
        self._fix_required(out, path)
        self._fix_enum_and_format(out, path)
        return out

    def _simplify_unions(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        node = dict(node)
        if "oneOf" in node:
            node.setdefault("anyOf", node.pop("oneOf"))
            self.note(path, "oneOf became anyOf")
        if "allOf" in node:
            merged: dict[str, Any] = {}
            branches = node.pop("allOf")
            for branch in branches if isinstance(branches, list) else []:
                if isinstance(branch, dict):
                    branch = self.resolve(branch, path, ())
                    properties = branch.get("properties")
                    required = branch.get("required")
                    if isinstance(properties, dict):
                        merged.setdefault("properties", {}).update(properties)
                    if isinstance(required, list):
                        merged["required"] = [*merged.get("required", []), *required]
                    for key, value in branch.items():
                        if key not in ("properties", "required"):
                            merged.setdefault(key, value)
            if not merged.get("properties"):
                merged.pop("properties", None)
            node = {**merged, **node}
            self.note(path, "allOf merged into one schema")
        branches = node.get("anyOf")
        if isinstance(branches, list):
            nulls = [b for b in branches if isinstance(b, dict) and b.get("type") == "null"]
            others = [b for b in branches if b not in nulls]
            if nulls:
                node["nullable"] = True
                self.note(path, "null branch of anyOf became nullable")
            if len(others) == 1 and isinstance(others[0], dict):
                del node["anyOf"]
                single = self.resolve(others[0], path, ())
                node = {**single, **node}
            else:
                node["anyOf"] = others
        return node

    def _fix_type(self, out: dict[str, Any], path: str) -> None:
        kind = out.get("type")
        if isinstance(kind, list):
            types = [t for t in kind if t != "null"]
            if "null" in kind:
                out["nullable"] = True
            out["type"] = types[0] if types else "string"
            if len(types) > 1:
                out["anyOf"] = [{"type": t} for t in types]
                del out["type"]
            self.note(path, f"type list {kind} simplified")
        elif kind == "null":
            out["type"] = "string"
            out["nullable"] = True
            self.note(path, "type null became a nullable string")
        elif kind is not None and kind not in _TYPES:
            del out["type"]
            self.note(path, f"unknown type '{kind}' dropped")
        if "type" not in out and "anyOf" not in out:
            out["type"] = "object" if "properties" in out else "string"

    def _fix_required(self, out: dict[str, Any], path: str) -> None:
        if "required" not in out:
            return
        properties = out.get("properties") or {}
        required = [name for name in out["required"] if name in properties]
        missing = [name for name in out["required"] if name not in properties]
        if missing:
            self.note(path, f"required names without a property dropped: {missing}")
        if required:
            out["required"] = list(dict.fromkeys(required))
        else:
            del out["required"]

    def _fix_enum_and_format(self, out: dict[str, Any], path: str) -> None:
        if "enum" in out:
            if None in out["enum"]:
                out["enum"] = [v for v in out["enum"] if v is not None]
                out["nullable"] = True
            values = out["enum"]
            if not all(isinstance(v, str) for v in values):
                out["enum"] = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
                self.note(path, "enum values became strings (Gemini enums are strings)")
            if out.get("type") != "string":
                out["type"] = "string"
        fmt = out.get("format")
        if fmt is not None and fmt not in _FORMATS.get(str(out.get("type")), set()):
            del out["format"]
            self.note(path, f"format '{fmt}' dropped")


def sanitize_schema(schema: Any) -> tuple[dict[str, Any], list[str]]:
    """Gemini-acceptable copy of `schema`, and the list of changes made (empty if none)."""
    if not isinstance(schema, dict) or not schema:
        return {"type": "object"}, []
    sanitizer = _Sanitizer(schema)
    return sanitizer.clean(schema, ""), sanitizer.changes
