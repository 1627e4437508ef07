"""Responses tools -> Gemini tools, and back to the client's names. Pure.

- `function`: a function declaration (schema through the shared sanitiser).
- `custom` (free-form input, as Codex's `apply_patch`): Gemini has only JSON functions, so it
  becomes a function with one string parameter `input`; the call comes back as a
  `custom_tool_call` with that string.
- `namespace` (Codex groups functions this way): each member becomes `<namespace>.<name>`, and
  its calls come back with `namespace` and the member's own name.
- `web_search` / `web_search_preview`: Google Search grounding.
- Hosted tools Gemini cannot run (file search, code interpreter, computer use, image
  generation, remote MCP, hosted shells) are refused by name.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from gemini_proxy.errors import InvalidRequest, Unsupported
from gemini_proxy.generation.schema import gemini_function_name, sanitize_schema

SEARCH_TYPES = frozenset(
    {"web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11"}
)
CUSTOM_INPUT = "input"  # the one parameter a custom tool's function takes


@dataclass(frozen=True)
class ToolRef:
    """The client's tool behind a Gemini function name."""

    kind: Literal["function", "custom"]
    name: str
    namespace: str | None = None


@dataclass
class ToolSetup:
    tools: list[dict[str, Any]] = field(default_factory=list)  # Gemini's `tools`
    tool_config: dict[str, Any] | None = None
    refs: dict[str, ToolRef] = field(default_factory=dict)  # Gemini name -> client's tool
    search: bool = False
    schema_changes: list[str] = field(default_factory=list)
    echo: list[dict[str, Any]] = field(default_factory=list)  # the tools, as the answer lists


def gemini_name(name: str, namespace: str | None = None) -> str:
    return gemini_function_name(f"{namespace}.{name}" if namespace else name)


def tool_setup(tools: list[Any] | None, choice: Any) -> ToolSetup:
    setup = ToolSetup()
    declarations: list[dict[str, Any]] = []
    for index, tool in enumerate(tools or []):
        param = f"tools[{index}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or not isinstance(kind, str):
            raise InvalidRequest("each tool must be an object with a 'type'", param=param)
        if kind == "function":
            declarations.append(_function(tool, param, None, setup))
            setup.echo.append(_function_echo(tool))
        elif kind == "custom":
            declarations.append(_custom(tool, param, None, setup))
            setup.echo.append(_custom_echo(tool))
        elif kind == "namespace":
            declarations.extend(_namespace(tool, param, setup))
        elif kind in SEARCH_TYPES:
            setup.search = True
            setup.echo.append(tool)
        else:
            raise Unsupported(param, f"the hosted tool '{kind}' has no Gemini equivalent")
    setup.tool_config, declarations = _tool_config(choice, setup, declarations)
    if declarations:
        setup.tools.append({"functionDeclarations": declarations})
    if setup.search:
        setup.tools.append({"googleSearch": {}})
    return setup


def _name(tool: dict[str, Any], param: str) -> str:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("the tool needs a 'name'", param=f"{param}.name")
    return name


def _register(setup: ToolSetup, ref: ToolRef, param: str) -> str:
    name = gemini_name(ref.name, ref.namespace)
    if name in setup.refs and setup.refs[name] != ref:
        raise InvalidRequest(f"two tools map to the same Gemini name '{name}'", param=param)
    setup.refs[name] = ref
    return name


def _described(declaration: dict[str, Any], *texts: Any) -> dict[str, Any]:
    text = "\n\n".join(t for t in texts if isinstance(t, str) and t)
    if text:
        declaration["description"] = text
    return declaration


def _function(
    tool: dict[str, Any], param: str, namespace: dict[str, Any] | None, setup: ToolSetup
) -> dict[str, Any]:
    name = _name(tool, param)
    space = namespace.get("name") if namespace else None
    gemini = _register(setup, ToolRef("function", name, space), param)
    declaration = _described({"name": gemini}, _namespace_text(namespace), tool.get("description"))
    parameters, changes = sanitize_schema(tool.get("parameters"))
    if parameters.get("properties"):
        declaration["parameters"] = parameters
    setup.schema_changes.extend(f"{gemini}: {change}" for change in changes)
    return declaration


def _custom(
    tool: dict[str, Any], param: str, namespace: dict[str, Any] | None, setup: ToolSetup
) -> dict[str, Any]:
    name = _name(tool, param)
    space = namespace.get("name") if namespace else None
    gemini = _register(setup, ToolRef("custom", name, space), param)
    described = "The tool's whole input, as free-form text."
    fmt = tool.get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "grammar":
        # Gemini cannot constrain to a grammar; the model reads it instead.
        described += (
            f" It must follow this {fmt.get('syntax', '')} grammar:\n{fmt.get('definition', '')}"
        )
    parameters = {
        "type": "object",
        "properties": {CUSTOM_INPUT: {"type": "string", "description": described}},
        "required": [CUSTOM_INPUT],
    }
    declaration = _described({"name": gemini}, _namespace_text(namespace), tool.get("description"))
    declaration["parameters"] = parameters
    return declaration


def _namespace(tool: dict[str, Any], param: str, setup: ToolSetup) -> list[dict[str, Any]]:
    _name(tool, param)
    members = tool.get("tools")
    if not isinstance(members, list) or not members:
        raise InvalidRequest("a namespace needs a list of 'tools'", param=f"{param}.tools")
    declarations = []
    echoed = []
    for n, member in enumerate(members):
        member_param = f"{param}.tools[{n}]"
        kind = member.get("type") if isinstance(member, dict) else None
        if kind == "function":
            declarations.append(_function(member, member_param, tool, setup))
            echoed.append(_function_echo(member))
        elif kind == "custom":
            declarations.append(_custom(member, member_param, tool, setup))
            echoed.append(_custom_echo(member))
        else:
            raise InvalidRequest(
                "a namespace holds only 'function' and 'custom' tools", param=member_param
            )
    setup.echo.append(
        {
            "type": "namespace",
            "name": tool["name"],
            "description": str(tool.get("description") or ""),
            "tools": echoed,
        }
    )
    return declarations


def _namespace_text(namespace: dict[str, Any] | None) -> str | None:
    if namespace is None:
        return None
    about = namespace.get("description")
    return f"[{namespace.get('name')}] {about}" if about else None


def _function_echo(tool: dict[str, Any]) -> dict[str, Any]:
    parameters = tool.get("parameters")
    return {
        "type": "function",
        "name": tool["name"],
        "description": tool.get("description")
        if isinstance(tool.get("description"), str)
        else None,
        "parameters": parameters if isinstance(parameters, dict) else None,
        "strict": tool.get("strict") if isinstance(tool.get("strict"), bool) else None,
    }


def _custom_echo(tool: dict[str, Any]) -> dict[str, Any]:
    echo: dict[str, Any] = {"type": "custom", "name": tool["name"]}
    if isinstance(tool.get("description"), str):
        echo["description"] = tool["description"]
    if isinstance(tool.get("format"), dict):
        echo["format"] = tool["format"]
    return echo


# --- tool_choice ----------------------------------------------------------------------------


def _calling(mode: str, allowed: list[str] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"mode": mode}
    if allowed:
        config["allowedFunctionNames"] = allowed
    return {"functionCallingConfig": config}


def _tool_config(
    choice: Any, setup: ToolSetup, declarations: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Gemini's toolConfig for `tool_choice`, and the declarations left to send."""
    if choice is None or choice == "auto":
        return None, declarations
    if choice in ("none", "required"):
        if choice == "none":
            setup.search = False  # "none" means no tool at all, web search included
        if not declarations:
            if choice == "required" and not setup.search:
                raise InvalidRequest("'tool_choice' 'required' needs tools", param="tool_choice")
            return None, declarations  # Gemini takes no calling mode without functions
        return _calling("NONE" if choice == "none" else "ANY"), declarations
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind in ("function", "custom"):
        name = _chosen(choice.get("name"), setup, "tool_choice.name")
        return _calling("ANY", [name]), declarations
    if kind == "allowed_tools":
        return _allowed(choice, setup, declarations)
    if kind in SEARCH_TYPES:
        return None, declarations  # search is on; Gemini cannot be made to search
    if isinstance(kind, str):
        raise Unsupported("tool_choice", f"the hosted tool '{kind}' has no Gemini equivalent")
    raise InvalidRequest(
        "'tool_choice' must be 'auto', 'none', 'required', a named function or custom tool, "
        "or 'allowed_tools'",
        param="tool_choice",
    )


def _chosen(name: Any, setup: ToolSetup, param: str) -> str:
    if isinstance(name, str):
        for gemini, ref in setup.refs.items():
            if name in (ref.name, gemini):
                return gemini
    raise InvalidRequest(f"'tool_choice' names '{name}', which is not among the tools", param=param)


def _allowed(
    choice: dict[str, Any], setup: ToolSetup, declarations: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    listed = choice.get("tools")
    if not isinstance(listed, list):
        raise InvalidRequest("'allowed_tools' needs a list of tools", param="tool_choice.tools")
    names = [
        _chosen(tool.get("name"), setup, f"tool_choice.tools[{n}].name")
        for n, tool in enumerate(listed)
        if isinstance(tool, dict) and tool.get("type") not in SEARCH_TYPES
    ]
    if choice.get("mode") == "required":
        return (_calling("ANY", names) if names else None), declarations
    # Gemini restricts names only when it must call; for `auto`, declare only those allowed.
    return None, [d for d in declarations if d["name"] in names]
