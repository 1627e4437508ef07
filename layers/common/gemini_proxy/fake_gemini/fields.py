"""Proto-shaped field tables and the structural walk Google's JSON parser performs.

The real API parses request JSON into protobuf messages before looking at the meaning: an unknown
name, a list where a single value belongs or a string where a number belongs fails there with
"Invalid JSON payload received. ..." and a BadRequest detail, paths in snake_case
(`tools[0].function_declarations[1].parameters.properties[2].value`). Field names are accepted in
camelCase and snake_case, as proto3 JSON allows. Free-form values (Struct, Value) are not walked.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic_core import to_json

_PKG = "type.googleapis.com/google.ai.generativelanguage.v1beta."
_MAX_VIOLATIONS = 50


@dataclass(frozen=True, slots=True)
class Field:
    proto: str
    """snake_case name used in error paths."""
    kind: str
    """str, int, float, bool, bytes, enum, msg, map_msg, map_str, struct or any."""
    ref: str = ""
    repeated: bool = False


@cache
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _f(kind: str, ref: str = "", repeated: bool = False) -> tuple[str, str, bool]:
    return (kind, ref, repeated)


S = _f("str")
I = _f("int")  # noqa: E741 - reads like the proto table it mirrors
F = _f("float")
B = _f("bool")
BY = _f("bytes")
ANY = _f("any")
STRUCT = _f("struct")


def msg(ref: str, repeated: bool = False) -> tuple[str, str, bool]:
    return _f("msg", ref, repeated)


def enum(ref: str, repeated: bool = False) -> tuple[str, str, bool]:
    return _f("enum", ref, repeated)


_SCHEMA = {
    "type": enum("Type"),
    "format": S,
    "title": S,
    "description": S,
    "nullable": B,
    "enum": _f("str", repeated=True),
    "maxItems": I,
    "minItems": I,
    "properties": _f("map_msg", "Schema"),
    "required": _f("str", repeated=True),
    "minProperties": I,
    "maxProperties": I,
    "minLength": I,
    "maxLength": I,
    "pattern": S,
    "example": ANY,
    "anyOf": msg("Schema", True),
    "propertyOrdering": _f("str", repeated=True),
    "default": ANY,
    "items": msg("Schema"),
    "minimum": F,
    "maximum": F,
}

_GENERATION_CONFIG = {
    "stopSequences": _f("str", repeated=True),
    "responseMimeType": S,
    "responseSchema": msg("Schema"),
    "responseJsonSchema": ANY,
    "responseModalities": enum("GenerationConfig.Modality", True),
    "candidateCount": I,
    "maxOutputTokens": I,
    "temperature": F,
    "topP": F,
    "topK": I,
    "seed": I,
    "presencePenalty": F,
    "frequencyPenalty": F,
    "responseLogprobs": B,
    "logprobs": I,
    "enableEnhancedCivicAnswers": B,
    "speechConfig": STRUCT,
    "imageConfig": STRUCT,
    "thinkingConfig": msg("ThinkingConfig"),
    "mediaResolution": enum("GenerationConfig.MediaResolution"),
}

_TABLES: dict[str, dict[str, tuple[str, str, bool]]] = {
    "GenerateContentRequest": {
        "model": S,
        "contents": msg("Content", True),
        "systemInstruction": msg("Content"),
        "tools": msg("Tool", True),
        "toolConfig": msg("ToolConfig"),
        "safetySettings": msg("SafetySetting", True),
        "generationConfig": msg("GenerationConfig"),
        "cachedContent": S,
        "labels": _f("map_str"),
    },
    # Code Assist forwards to Vertex, whose request also carries Gemini CLI's session id and a few
    # Vertex-only generation options.
    "CodeAssistInnerRequest": {
        "model": S,
        "contents": msg("Content", True),
        "systemInstruction": msg("Content"),
        "tools": msg("Tool", True),
        "toolConfig": msg("ToolConfig"),
        "safetySettings": msg("SafetySetting", True),
        "generationConfig": msg("VertexGenerationConfig"),
        "cachedContent": S,
        "labels": _f("map_str"),
        "sessionId": S,
    },
    "CodeAssistRequest": {
        "model": S,
        "project": S,
        "userPromptId": S,
        "request": msg("CodeAssistInnerRequest"),
        "enabledCreditTypes": _f("str", repeated=True),
    },
    "CodeAssistCountTokensRequest": {"request": msg("CountTokensInner")},
    "CountTokensInner": {"model": S, "contents": msg("Content", True)},
    "CountTokensRequest": {
        "contents": msg("Content", True),
        "generateContentRequest": msg("GenerateContentRequest"),
    },
    "Content": {"role": S, "parts": msg("Part", True)},
    "Part": {
        "text": S,
        "inlineData": msg("Blob"),
        "fileData": msg("FileData"),
        "functionCall": msg("FunctionCall"),
        "functionResponse": msg("FunctionResponse"),
        "executableCode": msg("ExecutableCode"),
        "codeExecutionResult": msg("CodeExecutionResult"),
        "thought": B,
        "thoughtSignature": BY,
        "videoMetadata": STRUCT,
        "partMetadata": STRUCT,
        "mediaResolution": STRUCT,
    },
    "Blob": {"mimeType": S, "data": BY},
    "FileData": {"mimeType": S, "fileUri": S},
    "FunctionCall": {"id": S, "name": S, "args": STRUCT},
    "FunctionResponse": {
        "id": S,
        "name": S,
        "response": STRUCT,
        "parts": ANY,
        "willContinue": B,
        "scheduling": enum("FunctionResponse.Scheduling"),
    },
    "ExecutableCode": {"language": enum("ExecutableCode.Language"), "code": S},
    "CodeExecutionResult": {"outcome": enum("CodeExecutionResult.Outcome"), "output": S},
    "Tool": {
        "functionDeclarations": msg("FunctionDeclaration", True),
        "googleSearchRetrieval": STRUCT,
        "codeExecution": STRUCT,
        "googleSearch": STRUCT,
        "urlContext": STRUCT,
        "computerUse": STRUCT,
        "fileSearch": STRUCT,
        "googleMaps": STRUCT,
    },
    "FunctionDeclaration": {
        "name": S,
        "description": S,
        "parameters": msg("Schema"),
        "parametersJsonSchema": ANY,
        "response": msg("Schema"),
        "responseJsonSchema": ANY,
        "behavior": enum("FunctionDeclaration.Behavior"),
    },
    "Schema": _SCHEMA,
    "ToolConfig": {
        "functionCallingConfig": msg("FunctionCallingConfig"),
        "retrievalConfig": STRUCT,
    },
    "FunctionCallingConfig": {
        "mode": enum("FunctionCallingConfig.Mode"),
        "allowedFunctionNames": _f("str", repeated=True),
    },
    "SafetySetting": {
        "category": enum("HarmCategory"),
        "threshold": enum("SafetySetting.HarmBlockThreshold"),
        "method": enum("SafetySetting.HarmBlockMethod"),
    },
    "GenerationConfig": _GENERATION_CONFIG,
    "VertexGenerationConfig": {
        **_GENERATION_CONFIG,
        "routingConfig": STRUCT,
        "modelSelectionConfig": STRUCT,
        "audioTimestamp": B,
    },
    "ThinkingConfig": {
        "includeThoughts": B,
        "thinkingBudget": I,
        "thinkingLevel": enum("ThinkingConfig.ThinkingLevel"),
    },
    "EmbedContentRequest": {
        "model": S,
        "content": msg("Content"),
        "taskType": enum("TaskType"),
        "title": S,
        "outputDimensionality": I,
    },
    "BatchEmbedContentsRequest": {"requests": msg("EmbedContentRequest", True)},
}

ENUMS: dict[str, frozenset[str]] = {
    "Type": frozenset(
        {"TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}
    ),
    "GenerationConfig.Modality": frozenset({"MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO"}),
    "GenerationConfig.MediaResolution": frozenset(
        {
            "MEDIA_RESOLUTION_UNSPECIFIED",
            "MEDIA_RESOLUTION_LOW",
            "MEDIA_RESOLUTION_MEDIUM",
            "MEDIA_RESOLUTION_HIGH",
        }
    ),
    "FunctionResponse.Scheduling": frozenset(
        {"SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT"}
    ),
    "ExecutableCode.Language": frozenset({"LANGUAGE_UNSPECIFIED", "PYTHON"}),
    "CodeExecutionResult.Outcome": frozenset(
        {"OUTCOME_UNSPECIFIED", "OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"}
    ),
    "FunctionDeclaration.Behavior": frozenset({"UNSPECIFIED", "BLOCKING", "NON_BLOCKING"}),
    "FunctionCallingConfig.Mode": frozenset(
        {"MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"}
    ),
    "HarmCategory": frozenset(
        {
            "HARM_CATEGORY_UNSPECIFIED",
            "HARM_CATEGORY_DEROGATORY",
            "HARM_CATEGORY_TOXICITY",
            "HARM_CATEGORY_VIOLENCE",
            "HARM_CATEGORY_SEXUAL",
            "HARM_CATEGORY_MEDICAL",
            "HARM_CATEGORY_DANGEROUS",
            "HARM_CATEGORY_HARASSMENT",
            "HARM_CATEGORY_HATE_SPEECH",
            "HARM_CATEGORY_SEXUALLY_EXPLICIT",
            "HARM_CATEGORY_DANGEROUS_CONTENT",
            "HARM_CATEGORY_CIVIC_INTEGRITY",
        }
    ),
    "SafetySetting.HarmBlockThreshold": frozenset(
        {
            "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
            "BLOCK_LOW_AND_ABOVE",
            "BLOCK_MEDIUM_AND_ABOVE",
            "BLOCK_ONLY_HIGH",
            "BLOCK_NONE",
            "OFF",
        }
    ),
    "SafetySetting.HarmBlockMethod": frozenset(
        {"HARM_BLOCK_METHOD_UNSPECIFIED", "SEVERITY", "PROBABILITY"}
    ),
    "ThinkingConfig.ThinkingLevel": frozenset(
        {"THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"}
    ),
    "TaskType": frozenset(
        {
            "TASK_TYPE_UNSPECIFIED",
            "RETRIEVAL_QUERY",
            "RETRIEVAL_DOCUMENT",
            "SEMANTIC_SIMILARITY",
            "CLASSIFICATION",
            "CLUSTERING",
            "QUESTION_ANSWERING",
            "FACT_VERIFICATION",
            "CODE_RETRIEVAL_QUERY",
        }
    ),
}

# Part.data is a oneof: exactly one of these may be set.
PART_DATA_FIELDS = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
)
_PART_DATA_ALIASES = {name: name for name in PART_DATA_FIELDS} | {
    _snake(name): name for name in PART_DATA_FIELDS
}


def _build() -> dict[str, dict[str, Field]]:
    out: dict[str, dict[str, Field]] = {}
    for message, table in _TABLES.items():
        fields: dict[str, Field] = {}
        for json_name, (kind, ref, repeated) in table.items():
            proto = _snake(json_name)
            spec = Field(proto, kind, ref, repeated)
            fields[json_name] = spec
            fields[proto] = spec
        out[message] = fields
    # The envelope's own names are snake_case in Gemini CLI's JSON; the camel forms also parse.
    return out


MESSAGES = _build()

_SCALAR_TYPES = {
    "str": "TYPE_STRING",
    "int": "TYPE_INT32",
    "float": "TYPE_FLOAT",
    "bool": "TYPE_BOOL",
    "bytes": "TYPE_BYTES",
}


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    description: str

    def to_wire(self) -> dict[str, str]:
        if self.field:
            return {"field": self.field, "description": self.description}
        return {"description": self.description}


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _show(value: Any) -> str:
    text = to_json(value).decode()
    return text if len(text) <= 200 else text[:200] + "..."


def _type_name(spec: Field) -> str:
    if spec.kind in _SCALAR_TYPES:
        return _SCALAR_TYPES[spec.kind]
    if spec.kind == "struct":
        return "type.googleapis.com/google.protobuf.Struct"
    return _PKG + spec.ref


class Walker:
    """Collects structural violations the way Google's JSON-to-proto parser reports them."""

    __slots__ = ("violations",)

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def _add(self, field: str, description: str) -> None:
        if len(self.violations) < _MAX_VIOLATIONS:
            self.violations.append(Violation(field, description))

    def unknown(self, name: str, path: str, suffix: str = "Cannot find field.") -> None:
        where = f" at '{path}'" if path else ""
        self._add(path, f'Invalid JSON payload received. Unknown name "{name}"{where}: {suffix}')

    def invalid(self, path: str, spec: Field, value: Any) -> None:
        self._add(path, f"Invalid value at '{path}' ({_type_name(spec)}), {_show(value)}")

    def message(self, obj: Any, message: str, path: str) -> None:
        if len(self.violations) >= _MAX_VIOLATIONS:
            return
        if not isinstance(obj, dict):
            self._add(path, f"Invalid value at '{path}' ({_PKG}{message}), {_show(obj)}")
            return
        table = MESSAGES[message]
        for key, value in obj.items():
            spec = table.get(key)
            if spec is None:
                self.unknown(key, path)
                continue
            if value is None:
                continue
            sub = _join(path, spec.proto)
            if spec.repeated:
                if not isinstance(value, list):
                    self.invalid(sub, spec, value)
                    continue
                for i, item in enumerate(value):
                    self.value(item, spec, f"{sub}[{i}]")
            elif isinstance(value, list) and spec.kind != "any":
                self.unknown(key, path, "Proto field is not repeating, cannot start list.")
            else:
                self.value(value, spec, sub)
        if message == "Part":
            self._oneof(obj, path)

    def _oneof(self, part: dict[str, Any], path: str) -> None:
        seen: list[str] = []
        for key, value in part.items():
            name = _PART_DATA_ALIASES.get(key)
            if name is not None and value is not None:
                seen.append(name)
        if len(seen) > 1:
            where = _join(path, "data")
            self._add(
                where,
                f"Invalid value at '{where}' (oneof), oneof field 'data' is already set. "
                f"Cannot set '{seen[1]}'",
            )

    def value(self, value: Any, spec: Field, path: str) -> None:
        kind = spec.kind
        if kind == "msg":
            self.message(value, spec.ref, path)
        elif kind == "str":
            if not isinstance(value, str):
                self.invalid(path, spec, value)
        elif kind == "int":
            if not _is_int(value):
                self.invalid(path, spec, value)
        elif kind == "float":
            if not _is_float(value):
                self.invalid(path, spec, value)
        elif kind == "bool":
            if not isinstance(value, bool):
                self.invalid(path, spec, value)
        elif kind == "bytes":
            if not isinstance(value, str):
                self.invalid(path, spec, value)
            elif not is_base64(value):
                self._add(
                    path,
                    f"Invalid value at '{path}' (TYPE_BYTES), Base64 decoding failed for "
                    f"{_show(value)}",
                )
        elif kind == "enum":
            if not enum_value(value, spec.ref):
                self.invalid(path, spec, value)
        elif kind == "map_msg":
            if not isinstance(value, dict):
                self._add(path, f"Invalid value at '{path}' ({_PKG}{spec.ref}), {_show(value)}")
                return
            for i, item in enumerate(value.values()):
                self.message(item, spec.ref, f"{path}[{i}].value")
        elif kind == "map_str":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                self.invalid(path, Field("", "str"), value)
        elif kind == "struct" and not isinstance(value, dict):
            self.invalid(path, spec, value)


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        return re.fullmatch(r"-?\d+", value) is not None
    return False


def _is_float(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def enum_value(value: Any, ref: str) -> str | None:
    """Canonical enum name, or None; names match case-insensitively as Google's parser allows."""
    if isinstance(value, str):
        upper = value.upper()
        return upper if upper in ENUMS[ref] else None
    if isinstance(value, int) and not isinstance(value, bool):
        names = sorted(ENUMS[ref])
        return names[value] if 0 <= value < len(names) else None
    return None


def is_base64(text: str) -> bool:
    # Google accepts both the standard and the URL-safe alphabet, padded or not.
    cleaned = text.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def walk(obj: Any, message: str, path: str = "") -> list[Violation]:
    walker = Walker()
    walker.message(obj, message, path)
    return walker.violations


def get(obj: dict[str, Any], json_name: str) -> Any:
    """Field value by camelCase name, falling back to its snake_case spelling."""
    value = obj.get(json_name)
    if value is None:
        value = obj.get(_snake(json_name))
    return value
