"""Gemini answers -> OpenAI answers, whole or chunk by chunk. Pure: the caller owns I/O.

A 200 from Gemini is not always an answer: a blocked prompt, an empty or thought-only candidate
or a malformed function call are failures, raised here so the orchestrator can fail over or
report them.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pydantic_core import to_json

from gemini_proxy.openai.models import (
    Annotation,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    CompletionTokensDetails,
    Delta,
    FinishReason,
    FunctionCallDelta,
    FunctionCallOut,
    PromptTokensDetails,
    ResponseMessage,
    ToolCallDelta,
    ToolCallOut,
    UrlCitation,
    Usage,
)
from gemini_proxy.openai.tools import new_call_id
from gemini_proxy.upstream.answers import check_finish, check_prompt_not_blocked
from gemini_proxy.upstream.classify import UpstreamError, bad_answer
from gemini_proxy.upstream.wire import (
    Candidate,
    FunctionCall,
    GenerateContentResponse,
    GroundingMetadata,
    UsageMetadata,
)

_FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "LANGUAGE": "content_filter",
}


@dataclass(frozen=True)
class AnswerOptions:
    tool_names: Mapping[str, str] = field(default_factory=dict)  # Gemini name -> client's
    think_tags: bool = False  # thoughts as <think>...</think> in content, not reasoning_content
    single_tool_call: bool = False  # the client sent parallel_tool_calls: false
    # Binds a thought signature to the credential and model that issued it (see
    # generation.signatures); None leaves signatures as Gemini sent them.
    bind: Callable[[str], str] | None = None


def finish_reason(gemini_reason: str | None) -> FinishReason:
    # OTHER and unknown future values still ended an answer normally as far as a client can act.
    return _FINISH_REASONS.get(gemini_reason or "STOP", "stop")


def usage(metadata: UsageMetadata | None) -> Usage:
    meta = metadata or UsageMetadata()
    # Thoughts are billed as output, as OpenAI counts reasoning tokens in completion_tokens.
    completion = meta.candidates_token_count + meta.thoughts_token_count
    total = meta.total_token_count or meta.prompt_token_count + completion
    return Usage(
        prompt_tokens=meta.prompt_token_count,
        completion_tokens=completion,
        total_tokens=total,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=meta.cached_content_token_count),
        completion_tokens_details=CompletionTokensDetails(
            reasoning_tokens=meta.thoughts_token_count
        ),
    )


@dataclass
class _Pieces:
    text: str = ""
    thoughts: str = ""
    calls: list[tuple[FunctionCall, str | None]] = field(default_factory=list)


def _pieces(candidate: Candidate) -> _Pieces:
    pieces = _Pieces()
    for part in candidate.content.parts if candidate.content else []:
        if part.function_call is not None:
            pieces.calls.append((part.function_call, part.thought_signature))
        elif part.text and part.thought:
            pieces.thoughts += part.text
        elif part.text:
            pieces.text += part.text
    return pieces


def _tool_call(call: FunctionCall, signature: str | None, options: AnswerOptions) -> ToolCallOut:
    name = options.tool_names.get(call.name, call.name)
    arguments = to_json(call.args or {}).decode()
    if signature is not None and options.bind is not None:
        signature = options.bind(signature)
    return ToolCallOut(
        id=new_call_id(signature), function=FunctionCallOut(name=name, arguments=arguments)
    )


def citations(
    text: str, grounding: GroundingMetadata | None, offset: int = 0
) -> list[Annotation] | None:
    """Google Search grounding as OpenAI url_citation annotations over the answer text.

    Gemini's offsets count the answer text alone; `offset` is where that text starts in the
    content the client sees (after a <think> block in think_tags mode).
    """
    if grounding is None:
        return None
    encoded = text.encode()
    found = []
    for support in grounding.grounding_supports:
        segment = support.segment
        if segment is None:
            continue
        # Gemini counts bytes of UTF-8; OpenAI clients index characters.
        start = offset + len(encoded[: segment.start_index].decode(errors="ignore"))
        end = offset + len(encoded[: segment.end_index].decode(errors="ignore"))
        for index in support.grounding_chunk_indices:
            if 0 <= index < len(grounding.grounding_chunks):
                web = grounding.grounding_chunks[index].web
                if web and web.uri:
                    citation = UrlCitation(
                        start_index=start, end_index=end, url=web.uri, title=web.title or web.uri
                    )
                    found.append(Annotation(url_citation=citation))
    return found or None


def to_chat_completion(
    answer: GenerateContentResponse,
    model: str,
    completion_id: str,
    created: int,
    options: AnswerOptions | None = None,
) -> ChatCompletion:
    options = options or AnswerOptions()
    check_prompt_not_blocked(answer, "messages")
    choices = []
    for candidate in answer.candidates:
        check_finish(candidate)
        pieces = _pieces(candidate)
        calls = pieces.calls[:1] if options.single_tool_call else pieces.calls
        reason = finish_reason(candidate.finish_reason)
        if calls and reason == "stop":
            reason = "tool_calls"
        if not pieces.text and not calls and reason == "stop":
            what = "only thoughts" if pieces.thoughts else "an empty answer"
            raise UpstreamError(bad_answer(f"Gemini returned {what}"))
        text = pieces.text
        reasoning = pieces.thoughts or None
        think = ""
        if options.think_tags and reasoning:
            think, reasoning = f"<think>{reasoning}</think>\n", None
        message = ResponseMessage(
            content=think + text if think or text or not calls else None,
            tool_calls=[_tool_call(call, sig, options) for call, sig in calls] or None,
            annotations=citations(text, candidate.grounding_metadata, len(think)),
            reasoning_content=reasoning,
        )
        choices.append(Choice(index=candidate.index, message=message, finish_reason=reason))
    if not choices:
        raise UpstreamError(bad_answer("Gemini returned no candidates"))
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=model,
        choices=choices,
        usage=usage(answer.usage_metadata),
    )


@dataclass
class _CandidateStream:
    started: bool = False  # the role went out
    answered: bool = False  # text or a tool call went out (thoughts alone are no answer)
    in_think: bool = False  # inside a <think> block (think_tags mode)
    calls: int = 0
    finish: FinishReason | None = None
    text: str = ""  # kept only to place citations
    grounding: GroundingMetadata | None = None
    emitted: int = 0  # characters of content sent so far
    text_offset: int = 0  # where the answer text starts in that content (after <think>)


class StreamTranslator:
    """Turns Gemini stream events into OpenAI chunks as they come; nothing is held back."""

    def __init__(
        self,
        model: str,
        completion_id: str,
        created: int,
        include_usage: bool,
        options: AnswerOptions | None = None,
    ) -> None:
        self.model = model
        self.completion_id = completion_id
        self.created = created
        self.include_usage = include_usage
        self.options = options or AnswerOptions()
        self._candidates: dict[int, _CandidateStream] = {}
        self._usage: UsageMetadata | None = None

    def _chunk(
        self, choices: list[ChunkChoice], usage_: Usage | None = None
    ) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self.completion_id,
            created=self.created,
            model=self.model,
            choices=choices,
            usage=usage_,
        )

    def feed(self, event: GenerateContentResponse) -> list[ChatCompletionChunk]:
        check_prompt_not_blocked(event, "messages")
        if event.usage_metadata is not None:
            self._usage = event.usage_metadata
        choices = []
        for candidate in event.candidates:
            check_finish(candidate)
            state = self._candidates.setdefault(candidate.index, _CandidateStream())
            if candidate.grounding_metadata is not None:
                state.grounding = candidate.grounding_metadata
            delta = self._delta(state, _pieces(candidate))
            if candidate.finish_reason:
                state.finish = finish_reason(candidate.finish_reason)
            if delta is not None:
                if not state.started:
                    delta.role = "assistant"
                    state.started = True
                choices.append(ChunkChoice(index=candidate.index, delta=delta))
        return [self._chunk(choices)] if choices else []

    def _delta(self, state: _CandidateStream, pieces: _Pieces) -> Delta | None:
        content = ""
        reasoning = None
        if pieces.thoughts:
            if self.options.think_tags:
                content += pieces.thoughts if state.in_think else "<think>" + pieces.thoughts
                state.in_think = True
            else:
                reasoning = pieces.thoughts
        if pieces.text:
            if state.in_think:
                content += "</think>\n"
                state.in_think = False
            if not state.text:
                state.text_offset = state.emitted + len(content)
            content += pieces.text
            state.text += pieces.text
            state.answered = True
        state.emitted += len(content)
        calls = self._call_deltas(state, pieces)
        if not content and reasoning is None and not calls:
            return None
        return Delta(content=content or None, reasoning_content=reasoning, tool_calls=calls)

    def _call_deltas(self, state: _CandidateStream, pieces: _Pieces) -> list[ToolCallDelta] | None:
        deltas = []
        for call, signature in pieces.calls:
            if self.options.single_tool_call and state.calls:
                break
            out = _tool_call(call, signature, self.options)
            function = FunctionCallDelta(name=out.function.name, arguments=out.function.arguments)
            deltas.append(
                ToolCallDelta(index=state.calls, id=out.id, type="function", function=function)
            )
            state.calls += 1
            state.answered = True
        return deltas or None

    def finish(self) -> list[ChatCompletionChunk]:
        """The closing chunks, once Gemini's stream has ended."""
        states = self._candidates
        if not any(s.answered or (s.finish not in (None, "stop")) for s in states.values()):
            raise UpstreamError(bad_answer("Gemini's stream ended without any answer"))
        if any(s.started and s.finish is None for s in states.values()):
            raise UpstreamError(bad_answer("Gemini's stream ended before the answer was finished"))
        chunks = []
        for index, state in sorted(states.items()):
            if state.finish is None:
                continue
            reason: FinishReason = (
                "tool_calls" if state.calls and state.finish == "stop" else state.finish
            )
            delta = Delta(
                content="</think>\n" if state.in_think else None,
                annotations=citations(state.text, state.grounding, state.text_offset),
            )
            if not state.started:
                # e.g. all of max_tokens went to thinking: a real, if empty, ending.
                delta.role, delta.content = "assistant", ""
            chunks.append(
                self._chunk([ChunkChoice(index=index, delta=delta, finish_reason=reason)])
            )
        if self.include_usage:
            chunks.append(self._chunk([], usage(self._usage)))
        return chunks
