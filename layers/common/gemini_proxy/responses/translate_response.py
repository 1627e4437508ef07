"""Gemini answers -> Responses output items and the response object. Pure but for fresh ids.

A 200 from Gemini is not always an answer: a blocked prompt, an empty or thought-only
candidate or a malformed function call are failures, raised here so the orchestrator can fail
over or report them. `MAX_TOKENS` and the safety family end a response as `incomplete`.
"""

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_json

from gemini_proxy.errors import ProxyError
from gemini_proxy.openai.tools import new_call_id
from gemini_proxy.openai.translate_response import citations as chat_citations
from gemini_proxy.responses import carrier
from gemini_proxy.responses.models import (
    CustomToolCallOut,
    ErrorCode,
    FunctionCallOut,
    IncompleteDetails,
    InputTokensDetails,
    MessageOut,
    OutputItem,
    OutputTextPart,
    OutputTokensDetails,
    ReasoningOut,
    ResponseError,
    ResponseObject,
    ResponseStatus,
    SummaryText,
    UrlCitation,
    Usage,
)
from gemini_proxy.responses.tools import CUSTOM_INPUT, ToolRef
from gemini_proxy.upstream.answers import SAFETY_FINISH, check_finish, check_prompt_not_blocked
from gemini_proxy.upstream.classify import UpstreamError, bad_answer
from gemini_proxy.upstream.wire import (
    FunctionCall,
    GenerateContentResponse,
    GroundingMetadata,
    UsageMetadata,
)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


@dataclass(frozen=True)
class AnswerOptions:
    refs: Mapping[str, ToolRef] = field(default_factory=dict)  # Gemini name -> client's tool
    encrypted: bool = False  # the client asked for reasoning.encrypted_content
    single_call: bool = False  # parallel_tool_calls: false
    # Binds a thought signature to the credential and model that issued it.
    bind: Callable[[str], str] | None = None

    def bound(self, signature: str) -> str:
        return self.bind(signature) if self.bind is not None else signature


@dataclass(frozen=True)
class Shell:
    """What every response object of one request repeats: its id and the request's settings."""

    id: str
    created_at: int
    model: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def build(
        self,
        status: ResponseStatus,
        output: list[OutputItem] | None = None,
        usage: Usage | None = None,
        error: ResponseError | None = None,
        incomplete: IncompleteDetails | None = None,
        completed_at: int | None = None,
    ) -> ResponseObject:
        return ResponseObject(
            id=self.id,
            created_at=self.created_at,
            model=self.model,
            status=status,
            output=output or [],
            usage=usage,
            error=error,
            incomplete_details=incomplete,
            completed_at=completed_at,
            **self.fields,
        )


def usage_of(metadata: UsageMetadata | None) -> Usage:
    meta = metadata or UsageMetadata()
    # Thoughts are billed as output, as OpenAI counts reasoning tokens in output_tokens.
    output = meta.candidates_token_count + meta.thoughts_token_count
    return Usage(
        input_tokens=meta.prompt_token_count,
        input_tokens_details=InputTokensDetails(cached_tokens=meta.cached_content_token_count),
        output_tokens=output,
        output_tokens_details=OutputTokensDetails(reasoning_tokens=meta.thoughts_token_count),
        total_tokens=meta.total_token_count or meta.prompt_token_count + output,
    )


def ending(finish_reason: str | None) -> tuple[ResponseStatus, IncompleteDetails | None]:
    if finish_reason == "MAX_TOKENS":
        return "incomplete", IncompleteDetails(reason="max_output_tokens")
    if finish_reason in SAFETY_FINISH:
        return "incomplete", IncompleteDetails(reason="content_filter")
    return "completed", None


def error_code(error: ProxyError) -> ErrorCode:
    """The closest of the codes a failed response may carry."""
    if error.status == 429:
        return "rate_limit_exceeded"
    if 400 <= error.status < 500:
        return "invalid_prompt"
    return "server_error"


def call_item(
    call: FunctionCall, signature: str | None, options: AnswerOptions
) -> FunctionCallOut | CustomToolCallOut:
    """A Gemini function call as the client's function or custom tool call."""
    ref = options.refs.get(call.name, ToolRef("function", call.name))
    bound = options.bound(signature) if signature is not None else None
    call_id = new_call_id(bound)
    args = call.args or {}
    if ref.kind == "custom":
        value = args.get(CUSTOM_INPUT)
        text = value if isinstance(value, str) else to_json(args).decode()
        return CustomToolCallOut(
            id=new_id("ctc"), call_id=call_id, name=ref.name, input=text, namespace=ref.namespace
        )
    return FunctionCallOut(
        id=new_id("fc"),
        call_id=call_id,
        name=ref.name,
        arguments=to_json(args).decode(),
        namespace=ref.namespace,
    )


def annotations(text: str, grounding: GroundingMetadata | None) -> list[UrlCitation]:
    """Google Search grounding as url_citation annotations (character offsets)."""
    found = chat_citations(text, grounding) or []
    return [
        UrlCitation(
            url=a.url_citation.url,
            title=a.url_citation.title,
            start_index=a.url_citation.start_index,
            end_index=a.url_citation.end_index,
        )
        for a in found
    ]


def reasoning_item(thoughts: str, carried: carrier.Carried, options: AnswerOptions) -> ReasoningOut:
    summary = [SummaryText(text=thoughts)] if thoughts else []
    sealed = carrier.seal(carried) if options.encrypted and carried else None
    return ReasoningOut(id=new_id("rs"), summary=summary, encrypted_content=sealed)


def to_response(
    answer: GenerateContentResponse, shell: Shell, options: AnswerOptions, now: int
) -> ResponseObject:
    check_prompt_not_blocked(answer, "input")
    if not answer.candidates:
        raise UpstreamError(bad_answer("Gemini returned no candidates"))
    candidate = answer.candidates[0]
    check_finish(candidate)
    thoughts = ""
    text = ""
    carried = carrier.Carried()
    calls: list[FunctionCallOut | CustomToolCallOut] = []
    for part in candidate.content.parts if candidate.content else []:
        if part.function_call is not None:
            if options.single_call and calls:
                continue
            item = call_item(part.function_call, part.thought_signature, options)
            calls.append(item)
            if part.thought_signature is not None:
                carried.calls[carrier.call_key(item.call_id)] = options.bound(
                    part.thought_signature
                )
            continue
        if part.thought_signature is not None:
            carried.text = options.bound(part.thought_signature)
        if part.text and part.thought:
            thoughts += part.text
        elif part.text:
            text += part.text
    status, incomplete = ending(candidate.finish_reason)
    if not text and not calls and status == "completed":
        what = "only thoughts" if thoughts else "an empty answer"
        raise UpstreamError(bad_answer(f"Gemini returned {what}"))
    output: list[OutputItem] = []
    if thoughts or (options.encrypted and carried):
        output.append(reasoning_item(thoughts, carried, options))
    if text:
        part_out = OutputTextPart(
            text=text, annotations=annotations(text, candidate.grounding_metadata)
        )
        item_status = "incomplete" if status == "incomplete" else "completed"
        output.append(MessageOut(id=new_id("msg"), status=item_status, content=[part_out]))
    output.extend(calls)
    return shell.build(
        status,
        output,
        usage_of(answer.usage_metadata),
        incomplete=incomplete,
        completed_at=now if status == "completed" else None,
    )
