"""Deterministic answers derived from the request, so tests can check what the proxy translated.

- Plain prompt: `Echo: <text of the last user turn>` (first 200 characters, then `...`); inline
  media shows as `[inlineData image/png, 1234 bytes]`, file data as `[fileData <mime> <uri>]`.
- Candidate i > 0 appends ` (candidate i)`.
- `call:NAME` words in the last user turn: one functionCall per declared NAME, args sampled from
  the declared schema (required properties only); `call:NAME{"json": "object"}` gives the args
  verbatim, so a test can make a real agent run a chosen command. Mode ANY without a usable
  directive calls the first allowed function; mode NONE never calls. Gemini 3 function calls
  carry a thoughtSignature the fake remembers.
- Last user turn made of functionResponse parts: `Results: name=<json>; name=<json>`.
- responseMimeType application/json: `{"echo": "<prompt>"}`, or a value sampled from the response
  schema (every string is the prompt).
- A prompt starting with `BLOCK_ME`: blocked, promptFeedback.blockReason SAFETY, no candidates.
- stopSequences cut at the earliest match (finishReason STOP); maxOutputTokens keeps that many
  words (finishReason MAX_TOKENS). Thought tokens are reported but never count against it.
"""

import base64
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_json

from .fields import get
from .plan import Plan, json_tokens, text_tokens

_ECHO_CHARS = 200
_CALL_DIRECTIVE = re.compile(r"call:([A-Za-z_][A-Za-z0-9_.:-]*)")
_PIECE = re.compile(r"\s*\S+\s*")


@dataclass(slots=True)
class Candidate:
    index: int
    text: str | None = None
    thought: str | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    finish: str = "STOP"
    finish_message: str | None = None
    grounding: dict[str, Any] | None = None
    has_content: bool = True
    """False for answers with no `content` at all (e.g. MALFORMED_FUNCTION_CALL)."""

    @property
    def tokens(self) -> int:
        total = text_tokens(self.text) if self.text else 0
        for call in self.calls:
            total += json_tokens(call["functionCall"])
        return total


@dataclass(slots=True)
class Answer:
    model_version: str
    response_id: str
    prompt_tokens: int
    thoughts_tokens: int
    candidates: list[Candidate]
    show_thoughts: bool = False
    block_reason: str | None = None

    def usage(self, candidates_tokens: int | None = None) -> dict[str, Any]:
        emitted = (
            sum(c.tokens for c in self.candidates)
            if candidates_tokens is None
            else candidates_tokens
        )
        usage: dict[str, Any] = {"promptTokenCount": self.prompt_tokens}
        # Google omits zero counts; a client must not assume the keys exist.
        if emitted:
            usage["candidatesTokenCount"] = emitted
        usage["totalTokenCount"] = self.prompt_tokens + emitted + self.thoughts_tokens
        if self.thoughts_tokens:
            usage["thoughtsTokenCount"] = self.thoughts_tokens
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": self.prompt_tokens}]
        return usage


def new_response_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


# -- reading the request -------------------------------------------------------------------------


def _last_user(contents: list[dict[str, Any]]) -> dict[str, Any] | None:
    for content in reversed(contents):
        if (get(content, "role") or "user") == "user":
            found: dict[str, Any] = content
            return found
    return None


def _describe(parts: list[Any]) -> str:
    pieces: list[str] = []
    for part in parts:
        text = get(part, "text")
        if isinstance(text, str):
            if not get(part, "thought"):
                pieces.append(text)
            continue
        blob = get(part, "inlineData")
        if isinstance(blob, dict):
            data = get(blob, "data") or ""
            size = len(data) * 3 // 4 - data.count("=", -2)
            pieces.append(f"[inlineData {get(blob, 'mimeType')}, {size} bytes]")
            continue
        ref = get(part, "fileData")
        if isinstance(ref, dict):
            pieces.append(f"[fileData {get(ref, 'mimeType')} {get(ref, 'fileUri')}]")
    return " ".join(pieces)


def _shorten(text: str) -> str:
    return text if len(text) <= _ECHO_CHARS else text[:_ECHO_CHARS] + "..."


def _results(parts: list[Any]) -> str | None:
    found: list[str] = []
    for part in parts:
        response = get(part, "functionResponse")
        if isinstance(response, dict):
            shown = to_json(get(response, "response") or {}).decode()
            if len(shown) > 100:
                shown = shown[:100] + "..."
            found.append(f"{get(response, 'name')}={shown}")
    return "Results: " + "; ".join(found) if found else None


# -- sampling values from schemas ----------------------------------------------------------------


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    if kind is None:
        if "properties" in schema:
            return "OBJECT"
        if "items" in schema:
            return "ARRAY"
        return "STRING"
    return str(kind).upper()


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for key in ref[2:].split("/"):
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            return node
    return schema


def sample(
    schema: Any, text: str, *, args: bool, root: dict[str, Any] | None = None, depth: int = 0
) -> Any:
    """A value matching a simple schema; `args` limits objects to required properties."""
    if not isinstance(schema, dict) or depth > 8:
        return text
    root = schema if root is None else root
    schema = _resolve(schema, root)
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "any_of", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            usable = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return sample((usable or options)[0], text, args=args, root=root, depth=depth + 1)
    kind = _schema_type(schema)
    if kind == "OBJECT":
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        required = schema.get("required")
        required = [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
        names = required or ([] if args else list(props))
        return {
            name: sample(props.get(name), text, args=args, root=root, depth=depth + 1)
            for name in names
            if name in props
        }
    if kind == "ARRAY":
        return [sample(schema.get("items"), text, args=args, root=root, depth=depth + 1)]
    if kind == "INTEGER":
        return 1
    if kind == "NUMBER":
        return 1.5
    if kind == "BOOLEAN":
        return True
    if kind == "NULL":
        return None
    return "sample" if args else text


# -- composing ----------------------------------------------------------------------------------


Wanted = tuple[str, dict[str, Any] | None]  # a function name, and its args when given verbatim


def _explicit_args(text: str, start: int) -> dict[str, Any] | None:
    """The JSON object right after a `call:NAME` directive, if there is one."""
    if not text.startswith("{", start):
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _wanted_calls(plan: Plan, user_text: str) -> list[Wanted]:
    # Mode ANY keeps calling even right after function results: the real model is forced to.
    if not plan.functions or plan.mode == "NONE":
        return []
    allowed = [n for n in plan.allowed if n in plan.functions] or list(plan.functions)
    wanted: list[Wanted] = []
    for match in _CALL_DIRECTIVE.finditer(user_text):
        name = match.group(1)
        if name not in plan.functions:
            name = name.rstrip(".:-")
        if name in plan.functions and (plan.mode != "ANY" or name in allowed):
            wanted.append((name, _explicit_args(user_text, match.end())))
    if not wanted and plan.mode == "ANY":
        wanted = [(allowed[0], None)]
    return wanted


def _call_part(plan: Plan, wanted: Wanted, issue_signature: Callable[[], str]) -> dict[str, Any]:
    name, given = wanted
    decl = plan.functions[name]
    schema = get(decl, "parameters")
    if schema is None:
        schema = get(decl, "parametersJsonSchema")
    if given is not None:
        args: Any = given
    else:
        args = sample(schema, "", args=True) if isinstance(schema, dict) else {}
    part: dict[str, Any] = {
        "functionCall": {"name": name, "args": args if isinstance(args, dict) else {}}
    }
    if plan.model.is_gemini_3:
        part["thoughtSignature"] = issue_signature()
    return part


def _json_text(plan: Plan, prompt: str, index: int) -> str:
    if plan.response_schema is not None:
        value = sample(plan.response_schema, prompt, args=False)
    else:
        value = {"echo": prompt}
        if index:
            value["candidate"] = index
    return to_json(value).decode()


def _apply_limits(plan: Plan, candidate: Candidate) -> None:
    text = candidate.text
    if text is None:
        return
    if plan.stop_sequences:
        cut = min((i for s in plan.stop_sequences if (i := text.find(s)) >= 0), default=-1)
        if cut >= 0:
            text = text[:cut]
    limit = plan.max_output_tokens
    if limit is not None and text_tokens(text) > limit:
        text = "".join(_PIECE.findall(text)[:limit]).rstrip()
        candidate.finish = "MAX_TOKENS"
    candidate.text = text


def _grounding(text: str, query: str) -> dict[str, Any]:
    chunks = [
        {
            "web": {
                "uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/" + slug,
                "title": title,
            }
        }
        for slug, title in (("AUZIYQFakeOne", "example.com"), ("AUZIYQFakeTwo", "wikipedia.org"))
    ]
    return {
        "searchEntryPoint": {"renderedContent": f'<div class="fake-search">{query}</div>'},
        "groundingChunks": chunks,
        "groundingSupports": [
            {
                "segment": {"endIndex": len(text.encode()), "text": text},
                "groundingChunkIndices": [0, 1],
            }
        ],
        "webSearchQueries": [query],
    }


def compose(plan: Plan, issue_signature: Callable[[], str]) -> Answer:
    """The answer the fake gives to a valid request."""
    answer = Answer(
        model_version=plan.model.id,
        response_id=new_response_id(),
        prompt_tokens=plan.prompt_tokens,
        thoughts_tokens=plan.thoughts_tokens,
        candidates=[],
        show_thoughts=plan.include_thoughts,
    )
    user = _last_user(plan.contents)
    parts = (get(user, "parts") or []) if user else []
    user_text = _describe(parts)
    results = _results(parts)
    if results is None and user_text.startswith("BLOCK_ME"):
        answer.block_reason = "SAFETY"
        answer.thoughts_tokens = 0
        return answer
    prompt = _shorten(user_text)
    calls = _wanted_calls(plan, user_text)
    json_mode = plan.response_mime_type == "application/json"
    for index in range(plan.candidate_count):
        candidate = Candidate(index)
        if plan.thoughts_tokens:
            target = ", ".join(name for name, _ in calls) if calls else "the request"
            candidate.thought = (
                f"**Considering {target}**\n\nThe user wrote: {_shorten(user_text) or '(nothing)'}"
            )
        if calls:
            candidate.calls = [_call_part(plan, wanted, issue_signature) for wanted in calls]
        else:
            if json_mode:
                candidate.text = _json_text(plan, results or prompt, index)
            else:
                candidate.text = results or f"Echo: {prompt}"
                if index:
                    candidate.text += f" (candidate {index})"
            _apply_limits(plan, candidate)
            if plan.google_search and candidate.text:
                candidate.grounding = _grounding(candidate.text, prompt)
        answer.candidates.append(candidate)
    return answer


# -- answer-shape faults -------------------------------------------------------------------------


def reshape(answer: Answer, fault: str, params: dict[str, Any]) -> None:
    """Turn a good answer into the broken one a shape fault asks for."""
    if fault == "blocked_prompt":
        answer.block_reason = str(params.get("reason", "SAFETY"))
        answer.candidates = []
        answer.thoughts_tokens = 0
        return
    first = answer.candidates[0] if answer.candidates else Candidate(0)
    if fault in ("empty_answer", "empty_stream"):
        answer.candidates = [Candidate(0)]
        return
    if fault == "thought_only_stream":
        answer.thoughts_tokens = answer.thoughts_tokens or 64
        answer.show_thoughts = True
        thought = first.thought or "**Thinking**\n\nStill thinking about the request."
        answer.candidates = [Candidate(0, thought=thought)]
        return
    if fault == "malformed_function_call":
        answer.candidates = [
            Candidate(
                0,
                finish="MALFORMED_FUNCTION_CALL",
                finish_message="Malformed function call: print(default_api.lookup(query=",
                has_content=False,
            )
        ]
        return
    if fault in ("max_tokens", "finish_reason"):
        words = _PIECE.findall(first.text or "Echo: truncated answer")
        first.text = "".join(words[: max(1, len(words) // 2)]).rstrip()
        first.calls = []
        first.finish = (
            "MAX_TOKENS" if fault == "max_tokens" else str(params.get("reason", "SAFETY"))
        )
        answer.candidates = [first]


# -- rendering ----------------------------------------------------------------------------------


def _candidate_wire(
    candidate: Candidate, parts: list[dict[str, Any]], final: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if candidate.has_content:
        out["content"] = {"parts": parts, "role": "model"} if parts else {"role": "model"}
    if final:
        out["finishReason"] = candidate.finish
        if candidate.finish_message:
            out["finishMessage"] = candidate.finish_message
        if candidate.grounding:
            out["groundingMetadata"] = candidate.grounding
    out["index"] = candidate.index
    return out


def render(answer: Answer) -> dict[str, Any]:
    """The non-streaming GenerateContentResponse."""
    if answer.block_reason:
        return {
            "promptFeedback": {"blockReason": answer.block_reason},
            "usageMetadata": answer.usage(0),
            "modelVersion": answer.model_version,
            "responseId": answer.response_id,
        }
    candidates = []
    for c in answer.candidates:
        parts: list[dict[str, Any]] = []
        if answer.show_thoughts and c.thought:
            parts.append({"text": c.thought, "thought": True})
        if c.text is not None:
            parts.append({"text": c.text})
        parts.extend(c.calls)
        candidates.append(_candidate_wire(c, parts, True))
    out: dict[str, Any] = {"candidates": candidates} if candidates else {}
    out["usageMetadata"] = answer.usage()
    out["modelVersion"] = answer.model_version
    out["responseId"] = answer.response_id
    return out


def _pieces(text: str, words: int) -> list[str]:
    found = _PIECE.findall(text)
    if not found:
        return [text] if text else []
    return ["".join(found[i : i + words]) for i in range(0, len(found), words)]


def stream(answer: Answer, words_per_event: int) -> list[dict[str, Any]]:
    """The streamed events: thoughts first, then text a few words at a time, usage cumulative."""
    base = {"modelVersion": answer.model_version, "responseId": answer.response_id}
    if answer.block_reason:
        return [
            {
                "promptFeedback": {"blockReason": answer.block_reason},
                "usageMetadata": answer.usage(0),
                **base,
            }
        ]
    if not answer.candidates:
        return []
    words = max(1, words_per_event)
    events: list[dict[str, Any]] = []
    plans: list[list[list[dict[str, Any]]]] = []
    for c in answer.candidates:
        steps: list[list[dict[str, Any]]] = [[{"text": p}] for p in _pieces(c.text or "", words)]
        if c.calls:
            steps.append(list(c.calls))
        plans.append(steps)
    thought_steps = [
        _pieces(c.thought, words * 2) if answer.show_thoughts and c.thought else []
        for c in answer.candidates
    ]
    for k in range(max(len(s) for s in thought_steps)):
        entries = [
            _candidate_wire(c, [{"text": steps[k], "thought": True}], False)
            for c, steps in zip(answer.candidates, thought_steps, strict=True)
            if k < len(steps)
        ]
        events.append({"candidates": entries, "usageMetadata": answer.usage(0), **base})
    if events and not any(plans):
        # Thoughts and nothing else: the last thought event closes the answer.
        last = events[-1]["candidates"]
        for entry, c in zip(last, answer.candidates, strict=False):
            entry["finishReason"] = c.finish
        events[-1]["usageMetadata"] = answer.usage()
        return events
    total = max(1, max(len(s) for s in plans))
    emitted = 0
    for k in range(total):
        final = k == total - 1
        entries = []
        for c, steps in zip(answer.candidates, plans, strict=True):
            if k < len(steps):
                parts = steps[k]
                emitted += sum(
                    text_tokens(p["text"]) if "text" in p else json_tokens(p["functionCall"])
                    for p in parts
                )
            elif final:
                parts = []
            else:
                continue
            entries.append(_candidate_wire(c, parts, final))
        usage = answer.usage() if final else answer.usage(emitted)
        events.append({"candidates": entries, "usageMetadata": usage, **base})
    return events
