"""Tools between Anthropic and Gemini: declarations, tool choice, tool-use ids. Pure.

Gemini 3 signs the first function call of each step, and refuses a replayed call without its
signature. Claude Code keeps only the fields of a `tool_use` block it knows, but it returns the
block's `id` verbatim, in the `tool_use` block of the history and in the `tool_result` that
answers it. So a call's signature rides in its id, as the bound token of
`generation.signatures` (whose charset is Anthropic's id charset, `[A-Za-z0-9_-]`):
`toolu_<random>_gts1_<token>`. A thinking block would be a weaker carrier: clients drop
thinking from earlier turns, and Claude Code drops it when thinking is off.
"""

import secrets
from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.anthropic.models import Tool, ToolChoice
from gemini_proxy.errors import InvalidRequest, Unsupported
from gemini_proxy.generation import signatures
from gemini_proxy.generation.schema import gemini_function_name, sanitize_schema

_ID_PREFIX = "toolu_"
_SIGNED = "_" + signatures.PREFIX  # where a bound signature starts inside an id
WEB_SEARCH_PREFIX = "web_search_"


def tool_use_id(bound_signature: str | None) -> str:
    """A new tool-use id, carrying the call's bound signature when it has one."""
    call_id = _ID_PREFIX + secrets.token_hex(12)
    if bound_signature is not None and signatures.is_bound(bound_signature):
        call_id += "_" + bound_signature
    return call_id


def signature_in_id(call_id: str) -> str | None:
    """The bound signature an id carries (opened or replaced per attempt later), if any."""
    at = call_id.find(_SIGNED)
    return call_id[at + 1 :] if at >= 0 else None


@dataclass
class ToolSetup:
    """What the request declared, in Gemini's terms, plus what the answer needs to map back."""

    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_config: dict[str, Any] | None = None
    names: dict[str, str] = field(default_factory=dict)  # Gemini name -> client's name
    schema_changes: list[str] = field(default_factory=list)
    web_search: bool = False
    single_call: bool = False  # disable_parallel_tool_use: at most one call per answer


def tool_setup(tools: list[Tool] | None, choice: ToolChoice | None) -> ToolSetup:
    setup = ToolSetup()
    declarations = []
    for index, tool in enumerate(tools or []):
        if tool.type in (None, "custom"):
            declarations.append(_declaration(tool, index, setup))
        elif tool.type.startswith(WEB_SEARCH_PREFIX):
            setup.web_search = True
        else:
            raise Unsupported(
                f"tools[{index}]",
                f"the server tool '{tool.type}' has no Gemini counterpart (web_search_* maps to "
                "Google Search; declare client tools with name and input_schema)",
            )
    if declarations:
        setup.tools.append({"functionDeclarations": declarations})
    if setup.web_search:
        setup.tools.append({"googleSearch": {}})
    setup.tool_config = _tool_config(choice, setup, bool(declarations))
    setup.single_call = bool(choice and choice.disable_parallel_tool_use)
    return setup


def _declaration(tool: Tool, index: int, setup: ToolSetup) -> dict[str, Any]:
    param = f"tools[{index}]"
    if tool.input_schema is None:
        raise InvalidRequest(f"tool '{tool.name}' needs an input_schema", param=param)
    gemini_name = gemini_function_name(tool.name)
    if setup.names.get(gemini_name, tool.name) != tool.name:
        raise InvalidRequest(f"two tools map to the same name '{gemini_name}'", param=param)
    setup.names[gemini_name] = tool.name
    declaration: dict[str, Any] = {"name": gemini_name}
    if tool.description:
        declaration["description"] = tool.description
    parameters, changes = sanitize_schema(tool.input_schema)
    if parameters.get("properties"):
        declaration["parameters"] = parameters
    setup.schema_changes.extend(f"{tool.name}: {change}" for change in changes)
    return declaration


def _tool_config(
    choice: ToolChoice | None, setup: ToolSetup, has_functions: bool
) -> dict[str, Any] | None:
    if choice is None or choice.type == "auto":
        return None if choice is None or not has_functions else _mode("AUTO")
    if choice.type == "none":
        return _mode("NONE") if has_functions else None
    if not has_functions:
        raise InvalidRequest(
            f"tool_choice '{choice.type}' needs at least one client tool in 'tools'",
            param="tool_choice",
        )
    if choice.type == "any":
        return _mode("ANY")
    if not choice.name:
        raise InvalidRequest("tool_choice of type 'tool' needs a 'name'", param="tool_choice.name")
    gemini_name = gemini_function_name(choice.name)
    if setup.names.get(gemini_name) != choice.name:
        raise InvalidRequest(
            f"tool_choice names '{choice.name}', which is not among the tools",
            param="tool_choice.name",
        )
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [gemini_name]}}


def _mode(mode: str) -> dict[str, Any]:
    return {"functionCallingConfig": {"mode": mode}}
