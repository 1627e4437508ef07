"""Strict request checks: the 400s the real API sends for requests translators get wrong.

Two stages, in Google's order: the structural walk of `fields` (unknown names, wrong JSON types),
then the rules about meaning (empty contents, roles, function-call turns, thought signatures,
thinking options, schema rules, generation ranges). Where Google's exact wording is known it is
used verbatim; the rest keeps Google's style. A passing request comes back as a `Plan`.
"""

import re
from collections.abc import Callable
from typing import Any

from . import errors
from .catalog import ModelInfo
from .fields import PART_DATA_FIELDS, enum_value, get, walk
from .plan import (
    DYNAMIC_THOUGHTS,
    LEVEL_THOUGHTS,
    Plan,
    content_tokens,
    json_tokens,
)

SKIP_SIGNATURE = "skip_thought_signature_validator"
FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
_MIME_TYPES = (
    "text/plain",
    "application/json",
    "application/xml",
    "application/yaml",
    "text/x.enum",
)
_MEDIA_PREFIXES = ("image/", "audio/", "video/", "text/")
_MEDIA_TYPES = frozenset({"application/pdf", "application/json", "application/x-javascript"})
_MAX_SCHEMA_DEPTH = 32

MSG_RESPONSE_COUNT = (
    "Please ensure that the number of function response parts is equal to the number of "
    "function call parts of the function call turn."
)
MSG_RESPONSE_ORDER = (
    "Please ensure that function response turn comes immediately after a function call turn."
)
MSG_CALL_ORDER = (
    "Please ensure that function call turn comes immediately after a user turn or after a "
    "function response turn."
)
MSG_ROLE = "Please use a valid role: user, model."
MSG_BOTH_THINKING = "You can only set only one of thinking budget and thinking level."
MSG_LEVEL_UNSUPPORTED = "Thinking level is not supported for this model."
MSG_BUDGET_ZERO = "Budget 0 is invalid. This model only works in thinking mode."
MSG_BAD_FUNCTION_NAME = (
    "Invalid function name. Must start with a letter or an underscore. Must be alphameric "
    "(a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum "
    "length of 64."
)


def missing_signature_message(name: str, position: int) -> str:
    return (
        "Function call is missing a thought_signature in functionCall parts. This is required "
        "for tools to work correctly, and missing thought_signature may lead to degraded model "
        f"performance. Additional data, function call `default_api:{name}` , position "
        f"{position}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures "
        "for more details."
    )


class _ProtoProblems:
    """Field-level rule failures, rendered the way each front end words them."""

    __slots__ = ("api", "items")

    def __init__(self, api: str) -> None:
        self.api = api
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        if len(self.items) < 50:
            self.items.append((path, message))

    def raise_if_any(self, request_name: str = "GenerateContentRequest") -> None:
        if not self.items:
            return
        if self.api == "code_assist":
            lines = "\n".join(f"  * {p}: [FIELD_INVALID] {m}" for p, m in self.items)
            raise errors.invalid_argument(f"The {request_name} proto is invalid:\n{lines}")
        text = "".join(f"* {request_name}.{p}: {m}\n" for p, m in self.items)
        raise errors.invalid_argument(text)


def raise_structural(obj: Any, message: str, path: str = "") -> None:
    violations = walk(obj, message, path)
    if violations:
        raise errors.invalid_argument(
            "\n".join(v.description for v in violations), [v.to_wire() for v in violations]
        )


def _num(value: Any) -> float:
    return float(value)


def _unable(name: str, value: Any, low: str, high: str) -> errors.GoogleError:
    shown = value if not isinstance(value, float) or not value.is_integer() else int(value)
    return errors.invalid_argument(
        f"Unable to submit request because it has a {name} value of {shown} but the supported "
        f"range is from {low} to {high}. Update the value and try again."
    )


def validate_generate(
    req: Any,
    model: ModelInfo,
    api: str,
    known_signature: Callable[[str], bool],
) -> Plan:
    """Check a GenerateContentRequest (the inner one for Code Assist) and read it into a Plan."""
    if api == "code_assist":
        raise_structural(req, "CodeAssistInnerRequest", "request")
    else:
        raise_structural(req, "GenerateContentRequest")
    return check_meaning(req, model, api, known_signature)


def check_meaning(
    req: dict[str, Any], model: ModelInfo, api: str, known_signature: Callable[[str], bool]
) -> Plan:
    problems = _ProtoProblems(api)
    contents = get(req, "contents") or []
    if not contents:
        problems.add("contents", "contents is not specified")
    _check_parts(contents, problems)
    plan = Plan(model=model, contents=contents)
    _read_tools(req, plan, problems)
    config = get(req, "generationConfig") or {}
    _check_mime(config, problems)
    problems.raise_if_any()

    cached = get(req, "cachedContent")
    if cached:
        raise errors.error(
            403, "PERMISSION_DENIED", "CachedContent not found (or permission denied)"
        )
    _check_turns(contents)
    if model.is_gemini_3:
        _check_signatures(contents, known_signature)
    _read_thinking(config, plan)
    _read_generation(config, plan)

    system = get(req, "systemInstruction")
    prompt = content_tokens(contents)
    if isinstance(system, dict):
        prompt += content_tokens([system])
    tools = get(req, "tools")
    if tools:
        prompt += json_tokens(tools)
    plan.prompt_tokens = prompt
    return plan


def _check_parts(contents: list[Any], problems: _ProtoProblems) -> None:
    for i, content in enumerate(contents):
        parts = get(content, "parts") or []
        if not parts:
            problems.add(f"contents[{i}].parts", "contents.parts must not be empty.")
            continue
        for j, part in enumerate(parts):
            if not any(get(part, name) is not None for name in PART_DATA_FIELDS):
                problems.add(
                    f"contents[{i}].parts[{j}].data",
                    "required oneof field 'data' must have one initialized field",
                )
                continue
            blob = get(part, "inlineData")
            if isinstance(blob, dict):
                mime = get(blob, "mimeType") or ""
                if not mime:
                    problems.add(
                        f"contents[{i}].parts[{j}].inline_data.mime_type",
                        "mime_type is required",
                    )
                elif not (mime.startswith(_MEDIA_PREFIXES) or mime in _MEDIA_TYPES):
                    raise errors.invalid_argument(f"Unsupported MIME type: {mime}")
            call = get(part, "functionCall")
            if isinstance(call, dict) and not get(call, "name"):
                problems.add(f"contents[{i}].parts[{j}].function_call.name", "Name is empty.")
            response = get(part, "functionResponse")
            if isinstance(response, dict) and not get(response, "name"):
                problems.add(f"contents[{i}].parts[{j}].function_response.name", "Name is empty.")


def _role(content: dict[str, Any]) -> str:
    # An omitted role reads as "user", as it does for Google.
    return get(content, "role") or "user"


def _count(content: dict[str, Any], name: str) -> int:
    return sum(1 for part in get(content, "parts") or () if get(part, name) is not None)


def _check_turns(contents: list[dict[str, Any]]) -> None:
    for content in contents:
        if _role(content) not in ("user", "model"):
            raise errors.invalid_argument(MSG_ROLE)
    previous_calls = 0
    previous_role = ""
    for content in contents:
        role = _role(content)
        calls = _count(content, "functionCall") if role == "model" else 0
        responses = _count(content, "functionResponse") if role == "user" else 0
        if previous_calls and (role != "user" or responses != previous_calls):
            raise errors.invalid_argument(MSG_RESPONSE_COUNT)
        if responses and not previous_calls:
            raise errors.invalid_argument(MSG_RESPONSE_ORDER)
        if calls and previous_role != "user":
            raise errors.invalid_argument(MSG_CALL_ORDER)
        previous_calls = calls
        previous_role = role


def _check_signatures(contents: list[dict[str, Any]], known: Callable[[str], bool]) -> None:
    for position, content in enumerate(contents, start=1):
        if _role(content) != "model":
            continue
        for part in get(content, "parts") or ():
            call = get(part, "functionCall")
            if call is None:
                continue
            signature = get(part, "thoughtSignature")
            if not signature:
                raise errors.invalid_argument(
                    missing_signature_message(str(get(call, "name")), position)
                )
            if signature != SKIP_SIGNATURE and not known(signature):
                raise errors.invalid_argument("Corrupted thought signature.")


def _read_tools(req: dict[str, Any], plan: Plan, problems: _ProtoProblems) -> None:
    for t, tool in enumerate(get(req, "tools") or ()):
        if get(tool, "googleSearch") is not None or get(tool, "googleSearchRetrieval") is not None:
            plan.google_search = True
        for d, decl in enumerate(get(tool, "functionDeclarations") or ()):
            path = f"tools[{t}].function_declarations[{d}]"
            name = get(decl, "name") or ""
            if not FUNCTION_NAME.fullmatch(name):
                problems.add(f"{path}.name", MSG_BAD_FUNCTION_NAME)
                continue
            params = get(decl, "parameters")
            if isinstance(params, dict):
                _check_schema(params, f"{path}.parameters", problems, 0)
            plan.functions.setdefault(name, decl)
    calling = get(get(req, "toolConfig") or {}, "functionCallingConfig") or {}
    plan.mode = enum_value(get(calling, "mode"), "FunctionCallingConfig.Mode") or "AUTO"
    if plan.mode == "MODE_UNSPECIFIED":
        plan.mode = "AUTO"
    plan.allowed = list(get(calling, "allowedFunctionNames") or ())
    if plan.allowed and plan.mode not in ("ANY", "VALIDATED"):
        problems.add(
            "tool_config.function_calling_config.allowed_function_names",
            "allowed_function_names can only be set when mode is ANY or VALIDATED.",
        )


def _check_schema(schema: dict[str, Any], path: str, problems: _ProtoProblems, depth: int) -> None:
    if depth > _MAX_SCHEMA_DEPTH:
        return
    kind = enum_value(get(schema, "type"), "Type") if get(schema, "type") is not None else None
    items = get(schema, "items")
    if kind == "ARRAY" and items is None:
        problems.add(f"{path}.items", "missing field.")
    if get(schema, "enum") and kind not in (None, "STRING"):
        problems.add(f"{path}.enum", "only allowed for STRING type")
    properties = get(schema, "properties") or {}
    for name, sub in properties.items():
        if isinstance(sub, dict):
            _check_schema(sub, f"{path}.properties[{name}]", problems, depth + 1)
    for i, name in enumerate(get(schema, "required") or ()):
        if name not in properties:
            problems.add(f"{path}.required[{i}]", "property is not defined")
    if isinstance(items, dict):
        _check_schema(items, f"{path}.items", problems, depth + 1)
    for i, sub in enumerate(get(schema, "anyOf") or ()):
        if isinstance(sub, dict):
            _check_schema(sub, f"{path}.any_of[{i}]", problems, depth + 1)


def _check_mime(config: dict[str, Any], problems: _ProtoProblems) -> None:
    mime = get(config, "responseMimeType")
    if mime is not None and mime not in _MIME_TYPES:
        problems.add(
            "generation_config.response_mime_type",
            "allowed mimetypes are `text/plain`, `application/json`, `application/xml`, "
            "`application/yaml` and `text/x.enum`.",
        )
    has_schema = get(config, "responseSchema") is not None
    has_json_schema = get(config, "responseJsonSchema") is not None
    if (has_schema or has_json_schema) and mime not in ("application/json", "text/x.enum"):
        field = "response_schema" if has_schema else "response_json_schema"
        problems.add(
            f"generation_config.{field}",
            f"response_mime_type must be set to `application/json` or `text/x.enum` when "
            f"{field} is set.",
        )
    if has_schema and has_json_schema:
        problems.add(
            "generation_config.response_json_schema",
            "response_json_schema and response_schema cannot both be set.",
        )
    if isinstance(get(config, "responseSchema"), dict):
        _check_schema(
            get(config, "responseSchema"), "generation_config.response_schema", problems, 0
        )


def _read_thinking(config: dict[str, Any], plan: Plan) -> None:
    model = plan.model
    thinking = get(config, "thinkingConfig") or {}
    budget_raw = get(thinking, "thinkingBudget")
    level_raw = get(thinking, "thinkingLevel")
    level = enum_value(level_raw, "ThinkingConfig.ThinkingLevel") if level_raw is not None else None
    if level == "THINKING_LEVEL_UNSPECIFIED":
        level = None
    if budget_raw is not None and level is not None:
        raise errors.invalid_argument(MSG_BOTH_THINKING)
    if level is not None:
        if not model.levels:
            raise errors.invalid_argument(MSG_LEVEL_UNSUPPORTED)
        if level.lower() not in model.levels:
            raise errors.invalid_argument(
                f"Thinking level {level} is not supported for this model. Please retry with "
                "other thinking level."
            )
        plan.thoughts_tokens = LEVEL_THOUGHTS[level]
    elif budget_raw is not None and model.thinking:
        budget = int(budget_raw)
        if budget == 0 and not model.can_disable_thinking:
            raise errors.invalid_argument(MSG_BUDGET_ZERO)
        if budget < -1 or budget > model.budget_max or 0 < budget < model.budget_min:
            raise errors.invalid_argument(f"The thinking budget ({budget}) is invalid.")
        plan.thoughts_tokens = DYNAMIC_THOUGHTS if budget == -1 else min(budget, DYNAMIC_THOUGHTS)
    elif model.thinks_by_default:
        plan.thoughts_tokens = LEVEL_THOUGHTS["HIGH"] if model.levels else DYNAMIC_THOUGHTS
    plan.include_thoughts = bool(get(thinking, "includeThoughts")) and plan.thoughts_tokens > 0


def _read_generation(config: dict[str, Any], plan: Plan) -> None:
    model = plan.model
    temperature = get(config, "temperature")
    if temperature is not None and not 0 <= _num(temperature) <= 2:
        raise _unable("temperature", _num(temperature), "0 (inclusive)", "2.0001 (exclusive)")
    top_p = get(config, "topP")
    if top_p is not None and not 0 <= _num(top_p) <= 1:
        raise _unable("topP", _num(top_p), "0 (inclusive)", "1 (inclusive)")
    top_k = get(config, "topK")
    if top_k is not None and int(top_k) < 1:
        raise _unable("topK", int(top_k), "1 (inclusive)", "65 (exclusive)")
    for name in ("presencePenalty", "frequencyPenalty"):
        value = get(config, name)
        if value is not None and not -2 <= _num(value) < 2:
            raise _unable(name, _num(value), "-2 (inclusive)", "2 (exclusive)")
    count = get(config, "candidateCount")
    if count is not None:
        plan.candidate_count = int(count)
        if not 1 <= plan.candidate_count <= 8:
            raise _unable("candidateCount", plan.candidate_count, "1 (inclusive)", "9 (exclusive)")
    max_tokens = get(config, "maxOutputTokens")
    if max_tokens is not None:
        plan.max_output_tokens = int(max_tokens)
        limit = model.output_token_limit
        if not 1 <= plan.max_output_tokens <= limit:
            raise _unable(
                "maxOutputTokens",
                plan.max_output_tokens,
                "1 (inclusive)",
                f"{limit + 1} (exclusive)",
            )
    stops = get(config, "stopSequences") or []
    if len(stops) > 5:
        raise errors.invalid_argument(
            "* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences "
            "are allowed\n"
        )
    plan.stop_sequences = [s for s in stops if s]
    plan.response_mime_type = get(config, "responseMimeType") or "text/plain"
    schema = get(config, "responseJsonSchema")
    plan.response_schema = schema if schema is not None else get(config, "responseSchema")
