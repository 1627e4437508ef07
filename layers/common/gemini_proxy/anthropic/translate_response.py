"""Gemini answers -> Anthropic messages: the pieces whole answers and streams share. Pure.

A 200 from Gemini is not always an answer: a blocked prompt, an empty or thought-only answer
or a malformed function call are failures, raised here so the orchestrator can fail over (or,
for a blocked prompt, tell the client).
"""

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pydantic import TypeAdapter
from pydantic_core import from_json

from gemini_proxy.anthropic.blocks import BlockWriter, Delta, Start
from gemini_proxy.anthropic.models import (
    BlockOut,
    MessageOut,
    ServerToolUsage,
    ServerToolUseOut,
    StopReason,
    Usage,
    WebSearchResult,
    WebSearchResultOut,
)
from gemini_proxy.upstream.answers import SAFETY_FINISH, check_finish, check_prompt_not_blocked
from gemini_proxy.upstream.classify import UpstreamError, bad_answer
from gemini_proxy.upstream.wire import (
    Candidate,
    GenerateContentResponse,
    GroundingMetadata,
    UsageMetadata,
)

_BLOCK = TypeAdapter(BlockOut)


@dataclass(frozen=True)
class AnswerOptions:
    model: str  # as the client named it
    tool_names: Mapping[str, str] = field(default_factory=dict)  # Gemini name -> client's
    single_call: bool = False
    # Binds a thought signature to the credential and model that issued it.
    bind: Callable[[str], str] = lambda signature: signature


def message_id() -> str:
    return "msg_" + secrets.token_hex(12)


def stop_reason(finish: str | None, calls: int) -> StopReason:
    """Gemini says STOP whether the model ended or a stop sequence did: both read end_turn."""
    if finish == "MAX_TOKENS":
        return "max_tokens"
    if finish in SAFETY_FINISH:
        return "refusal"
    return "tool_use" if calls else "end_turn"


def usage(metadata: UsageMetadata | None, web_searches: int = 0) -> Usage:
    meta = metadata or UsageMetadata()
    cached = meta.cached_content_token_count
    return Usage(
        # Anthropic counts cache reads apart from input; Gemini's prompt count includes them.
        input_tokens=max(0, meta.prompt_token_count - cached),
        # Thinking is billed as output, as Anthropic counts it.
        output_tokens=meta.candidates_token_count + meta.thoughts_token_count,
        cache_read_input_tokens=cached,
        server_tool_use=ServerToolUsage(web_search_requests=web_searches) if web_searches else None,
    )


def first_candidate(answer: GenerateContentResponse) -> Candidate | None:
    """The one answer an Anthropic message has (the proxy never asks for more)."""
    candidate = next((c for c in answer.candidates if c.index == 0), None)
    if candidate is not None:
        check_finish(candidate)
    return candidate


def check_answered(writer: BlockWriter, finish: str | None) -> None:
    """An answer with neither text nor a call that claims to have ended well is no answer."""
    if not writer.text and not writer.calls and finish in (None, "STOP", "OTHER"):
        what = "only thoughts" if writer.thoughts else "an empty answer"
        raise UpstreamError(bad_answer(f"Gemini returned {what}"))


def search_blocks(grounding: GroundingMetadata | None) -> list[BlockOut]:
    """Google Search grounding as Anthropic's web search: the search, then what it found."""
    if grounding is None:
        return []
    results = [
        WebSearchResult(url=chunk.web.uri, title=chunk.web.title or chunk.web.uri)
        for chunk in grounding.grounding_chunks
        if chunk.web is not None and chunk.web.uri
    ]
    if not results and not grounding.web_search_queries:
        return []
    call_id = "srvtoolu_" + secrets.token_hex(12)
    query = "; ".join(grounding.web_search_queries)
    return [
        ServerToolUseOut(id=call_id, name="web_search", input={"query": query}),
        WebSearchResultOut(tool_use_id=call_id, content=results),
    ]


def searches(grounding: GroundingMetadata | None) -> int:
    if grounding is None:
        return 0
    return len(grounding.web_search_queries) or (1 if grounding.grounding_chunks else 0)


def to_message(
    answer: GenerateContentResponse, message_id: str, options: AnswerOptions
) -> MessageOut:
    check_prompt_not_blocked(answer, "messages")
    candidate = first_candidate(answer)
    if candidate is None:
        raise UpstreamError(bad_answer("Gemini returned no candidates"))
    writer = BlockWriter(options.bind, options.tool_names, options.single_call)
    parts = candidate.content.parts if candidate.content else []
    blocks: list[dict[str, object]] = []
    for action in [*writer.parts(parts), *writer.close()]:
        if isinstance(action, Start):
            blocks.append(dict(action.block))
        elif isinstance(action, Delta):
            _apply(blocks[action.index], action.delta)
    check_answered(writer, candidate.finish_reason)
    grounding = candidate.grounding_metadata
    content = [*search_blocks(grounding), *(_BLOCK.validate_python(b) for b in blocks)]
    return MessageOut(
        id=message_id,
        model=options.model,
        content=content,
        stop_reason=stop_reason(candidate.finish_reason, writer.calls),
        usage=usage(answer.usage_metadata, searches(grounding)),
    )


def _apply(block: dict[str, object], delta: dict[str, str]) -> None:
    kind = delta["type"]
    if kind == "text_delta":
        block["text"] = str(block["text"]) + delta["text"]
    elif kind == "thinking_delta":
        block["thinking"] = str(block["thinking"]) + delta["thinking"]
    elif kind == "signature_delta":
        block["signature"] = delta["signature"]
    elif kind == "input_json_delta":
        block["input"] = from_json(delta["partial_json"])
