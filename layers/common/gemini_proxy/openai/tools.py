"""Function calling between OpenAI and Gemini: declarations, tool choice, call ids. Pure.

Gemini 3 attaches a `thoughtSignature` to each function call and refuses history that lacks it.
OpenAI clients echo tool-call ids back verbatim, so the signature rides inside the id
(`call_<random>.ts.<signature, base64url>`), and `extra_content.google.thought_signature` (the
form Google's own OpenAI endpoint uses) is read too.
"""

import base64
import binascii
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.errors import InvalidRequest, Unsupported
from gemini_proxy.generation import signatures
from gemini_proxy.generation.schema import gemini_function_name, sanitize_schema
from gemini_proxy.openai.models import ChatCompletionRequest, ToolCall
from gemini_proxy.upstream.wire import FunctionCall, Part

SKIP_SIGNATURE = signatures.SKIP
_SIGNATURE_MARK = ".ts."
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


def new_call_id(signature: str | None) -> str:
    """A tool-call id; `signature` is usually a bound token (see generation.signatures), which is
    id-safe already, so it goes in as it is."""
    call_id = f"call_{secrets.token_hex(12)}"
    if signature and signatures.is_bound(signature):
        call_id += _SIGNATURE_MARK + signature
    elif signature:
        encoded = base64.urlsafe_b64encode(signature.encode()).decode().rstrip("=")
        call_id += _SIGNATURE_MARK + encoded
    return call_id


def signature_in_id(call_id: str) -> str | None:
    _, mark, encoded = call_id.partition(_SIGNATURE_MARK)
    if not mark or not encoded:
        return None
    if signatures.is_bound(encoded):
        return encoded  # opened (or replaced) for the serving credential, per attempt
    try:
        signature = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    # Signatures are base64 text. Anything else means the client mangled the id: treat it as
    # absent (Gemini 3 then gets the skip value) rather than send bytes Gemini cannot parse.
    return signature if _BASE64_TEXT.fullmatch(signature) else None


@dataclass
class ToolSetup:
    """What the request declared, in Gemini's terms, plus what the answer needs to map back."""

    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_config: dict[str, Any] | None = None
    names: dict[str, str] = field(default_factory=dict)  # Gemini name -> client's name
    schema_changes: list[str] = field(default_factory=list)


def tool_setup(request: ChatCompletionRequest) -> ToolSetup:
    if request.functions or request.function_call not in (None, "none", "auto"):
        raise Unsupported(
            "functions", "the legacy 'functions' API is not mapped; send 'tools' instead"
        )
    setup = ToolSetup()
    declarations = []
    for index, tool in enumerate(request.tools or []):
        declarations.append(_declaration(tool, index, setup))
    if declarations:
        setup.tools.append({"functionDeclarations": declarations})
    if request.web_search_options is not None:
        setup.tools.append({"googleSearch": {}})
    setup.tool_config = _tool_config(request.tool_choice, setup, bool(declarations))
    return setup


def _declaration(tool: Any, index: int, setup: ToolSetup) -> dict[str, Any]:
    param = f"tools[{index}]"
    if not isinstance(tool, dict) or tool.get("type") != "function":
        kind = tool.get("type") if isinstance(tool, dict) else type(tool).__name__
        raise Unsupported(param, f"only 'function' tools are supported, not '{kind}'")
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise InvalidRequest("a function tool needs function.name", param=f"{param}.function")
    name = function["name"]
    gemini_name = gemini_function_name(name)
    if gemini_name in setup.names and setup.names[gemini_name] != name:
        raise InvalidRequest(f"two tools map to the same name '{gemini_name}'", param=param)
    setup.names[gemini_name] = name
    declaration: dict[str, Any] = {"name": gemini_name}
    if function.get("description"):
        declaration["description"] = str(function["description"])
    parameters, changes = sanitize_schema(function.get("parameters"))
    if parameters.get("properties"):
        declaration["parameters"] = parameters
    setup.schema_changes.extend(f"{name}: {change}" for change in changes)
    return declaration


def _tool_config(choice: Any, setup: ToolSetup, has_functions: bool) -> dict[str, Any] | None:
    if choice is None or not has_functions:
        if choice not in (None, "none", "auto"):
            raise InvalidRequest("'tool_choice' needs 'tools'", param="tool_choice")
        return None
    if choice in ("auto", "none", "required"):
        mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}[choice]
        return {"functionCallingConfig": {"mode": mode}}
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        gemini_name = gemini_function_name(str(name))
        if gemini_name not in setup.names:
            raise InvalidRequest(
                f"'tool_choice' names '{name}', which is not among the tools", param="tool_choice"
            )
        config = {"mode": "ANY", "allowedFunctionNames": [gemini_name]}
        return {"functionCallingConfig": config}
    raise InvalidRequest(
        "'tool_choice' must be 'auto', 'none', 'required' or a named function",
        param="tool_choice",
    )


def call_parts(
    tool_calls: list[ToolCall], index: int, needs_signature: bool
) -> tuple[list[Part], dict[str, str]]:
    """An assistant's tool calls as functionCall parts, and their ids -> function names."""
    parts = []
    names = {}
    for n, call in enumerate(tool_calls):
        param = f"messages[{index}].tool_calls[{n}].function.arguments"
        try:
            arguments = json.loads(call.function.arguments or "{}")
        except ValueError:
            raise InvalidRequest("tool call arguments must be a JSON object", param=param) from None
        if not isinstance(arguments, dict):
            raise InvalidRequest("tool call arguments must be a JSON object", param=param)
        signature = _signature(call)
        if signature is None and needs_signature:
            signature = SKIP_SIGNATURE
        name = gemini_function_name(call.function.name)
        parts.append(
            Part(function_call=FunctionCall(name=name, args=arguments), thought_signature=signature)
        )
        names[call.id] = name
    return parts, names


def _signature(call: ToolCall) -> str | None:
    google = (call.extra_content or {}).get("google") if call.extra_content else None
    if isinstance(google, dict) and isinstance(google.get("thought_signature"), str):
        return str(google["thought_signature"])
    return signature_in_id(call.id)


def result_payload(content: str) -> dict[str, Any]:
    """A tool message's content as Gemini's functionResponse.response (a JSON object)."""
    try:
        parsed = json.loads(content)
    except ValueError:
        return {"result": content}
    return parsed if isinstance(parsed, dict) else {"result": parsed}
