"""Gemini stream events -> the Responses stream: typed SSE events with a `sequence_number`.

`response.created` and `response.in_progress` go out with the first real content, so an
upstream stream that fails before any can still fail over. Then each output item in turn:
`output_item.added`, its parts and deltas, `output_item.done`; the stream ends with
`response.completed` (or `response.incomplete` at the token limit), or, when it breaks after the
first byte, `response.failed`. Nothing is held back: every event is translated as it arrives.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json

from gemini_proxy.errors import ProxyError
from gemini_proxy.responses import carrier
from gemini_proxy.responses.models import (
    CustomToolCallOut,
    FunctionCallOut,
    MessageOut,
    OutputItem,
    OutputTextPart,
    ReasoningOut,
    ResponseError,
    ResponseObject,
    SummaryText,
)
from gemini_proxy.responses.translate_response import (
    AnswerOptions,
    Shell,
    annotations,
    call_item,
    ending,
    error_code,
    new_id,
    reasoning_item,
    usage_of,
)
from gemini_proxy.upstream.answers import check_finish, check_prompt_not_blocked
from gemini_proxy.upstream.classify import UpstreamError, bad_answer
from gemini_proxy.upstream.wire import GenerateContentResponse, GroundingMetadata, UsageMetadata

Event = dict[str, Any]


@dataclass
class _Open:
    """The output item being streamed: a reasoning summary or a message."""

    kind: str  # "reasoning" | "message"
    index: int
    id: str
    text: str = ""


class ResponseStream:
    """Turns Gemini stream events into Responses events as they come."""

    def __init__(self, shell: Shell, options: AnswerOptions) -> None:
        self.shell = shell
        self.options = options
        self.final: ResponseObject | None = None  # the response as completed, once finished
        self._seq = 0
        self._started = False
        self._output: list[OutputItem] = []
        self._open: _Open | None = None
        self._pending = carrier.Carried()  # signatures no reasoning item carries yet
        self._calls = 0
        self._finish: str | None = None
        self._usage: UsageMetadata | None = None
        self._grounding: GroundingMetadata | None = None

    # --- events in ----------------------------------------------------------------------

    def feed(self, answer: GenerateContentResponse) -> list[Event]:
        check_prompt_not_blocked(answer, "input")
        if answer.usage_metadata is not None:
            self._usage = answer.usage_metadata
        if not answer.candidates:
            return []
        candidate = answer.candidates[0]
        check_finish(candidate)
        if candidate.grounding_metadata is not None:
            self._grounding = candidate.grounding_metadata
        if candidate.finish_reason:
            self._finish = candidate.finish_reason
        events: list[Event] = []
        parts = candidate.content.parts if candidate.content else []
        calls = self._new_calls(parts)
        for part in parts:
            if part.function_call is not None:
                item = calls.pop(0) if calls else None
                if item is not None:
                    if self.options.encrypted and self._pending:
                        # The signatures go out ahead of their calls, as OpenAI orders them:
                        # in the reasoning item being streamed, or in one of their own.
                        events.extend(self._close(False))
                        if self._pending:
                            events.extend(self._lone_reasoning())
                    events.extend(self._call(item))
            elif part.text and part.thought:
                events.extend(self._text("reasoning", part.text))
            elif part.text:
                events.extend(self._text("message", part.text))
        if events and not self._started:
            self._started = True
            events[:0] = self._opening()
        return self._numbered(events)

    def _new_calls(self, parts: Sequence[Any]) -> list[FunctionCallOut | CustomToolCallOut]:
        """This event's calls, made first so a reasoning item it closes carries their
        signatures; and any signature on text."""
        calls: list[FunctionCallOut | CustomToolCallOut] = []
        for part in parts:
            signature = part.thought_signature
            if part.function_call is None:
                if signature is not None:
                    self._pending.text = self.options.bound(signature)
                continue
            if self.options.single_call and self._calls + len(calls) >= 1:
                continue
            item = call_item(part.function_call, signature, self.options)
            calls.append(item)
            if signature is not None:
                key = carrier.call_key(item.call_id)
                self._pending.calls[key] = self.options.bound(signature)
        return calls

    def finish(self) -> list[Event]:
        status, incomplete = ending(self._finish)
        answered = self._calls or any(isinstance(item, MessageOut) for item in self._output)
        answering = self._open is not None and self._open.kind == "message"
        if not answered and not answering and status == "completed":
            raise UpstreamError(bad_answer("Gemini's stream ended without any answer"))
        if self._finish is None:
            raise UpstreamError(bad_answer("Gemini's stream ended before the answer was finished"))
        events = [] if self._started else self._opening()
        self._started = True
        events.extend(self._close(incomplete is not None))
        if self.options.encrypted and self._pending:
            events.extend(self._lone_reasoning())
        now = int(time.time())
        self.final = self.shell.build(
            status,
            list(self._output),
            usage_of(self._usage),
            incomplete=incomplete,
            completed_at=now if status == "completed" else None,
        )
        kind = "response.completed" if status == "completed" else "response.incomplete"
        events.append(self._event(kind, response=self.final))
        return self._numbered(events)

    def fail(self, error: ProxyError) -> list[Event]:
        failed = ResponseError(code=error_code(error), message=error.message)
        response = self.shell.build("failed", list(self._output), error=failed)
        return self._numbered([self._event("response.failed", response=response)])

    # --- items ------------------------------------------------------------------------------

    def _opening(self) -> list[Event]:
        response = self.shell.build("in_progress")
        return [
            self._event("response.created", response=response),
            self._event("response.in_progress", response=response),
        ]

    def _text(self, kind: str, text: str) -> list[Event]:
        events: list[Event] = []
        current = self._open
        if current is None or current.kind != kind:
            events.extend(self._close(False))
            current = self._open = _Open(kind, len(self._output), new_id(_PREFIX[kind]))
            events.extend(self._start(current))
        current.text += text
        if kind == "message":
            events.append(
                self._event(
                    "response.output_text.delta",
                    item_id=current.id,
                    output_index=current.index,
                    content_index=0,
                    delta=text,
                    logprobs=[],
                )
            )
        else:
            events.append(
                self._event(
                    "response.reasoning_summary_text.delta",
                    item_id=current.id,
                    output_index=current.index,
                    summary_index=0,
                    delta=text,
                )
            )
        return events

    def _start(self, current: _Open) -> list[Event]:
        where = {"output_index": current.index}
        if current.kind == "message":
            item: OutputItem = MessageOut(id=current.id, status="in_progress", content=[])
            part = OutputTextPart(text="")
            return [
                self._event("response.output_item.added", item=item, **where),
                self._event(
                    "response.content_part.added",
                    item_id=current.id,
                    content_index=0,
                    part=part,
                    **where,
                ),
            ]
        item = ReasoningOut(id=current.id, summary=[], status="in_progress")
        return [
            self._event("response.output_item.added", item=item, **where),
            self._event(
                "response.reasoning_summary_part.added",
                item_id=current.id,
                summary_index=0,
                part={"type": "summary_text", "text": ""},
                **where,
            ),
        ]

    def _close(self, incomplete: bool) -> list[Event]:
        current, self._open = self._open, None
        if current is None:
            return []
        where = {"item_id": current.id, "output_index": current.index}
        if current.kind == "message":
            return self._close_message(current, incomplete, where)
        summary = SummaryText(text=current.text)
        item = reasoning_item(current.text, self._take_pending(), self.options)
        item = item.model_copy(update={"id": current.id})
        self._output.append(item)
        return [
            self._event(
                "response.reasoning_summary_text.done", summary_index=0, text=current.text, **where
            ),
            self._event(
                "response.reasoning_summary_part.done",
                summary_index=0,
                part=summary.model_dump(),
                **where,
            ),
            self._event("response.output_item.done", item=item, output_index=current.index),
        ]

    def _close_message(
        self, current: _Open, incomplete: bool, where: dict[str, Any]
    ) -> list[Event]:
        found = annotations(current.text, self._grounding)
        events = [
            self._event(
                "response.output_text.annotation.added",
                content_index=0,
                annotation_index=n,
                annotation=annotation,
                **where,
            )
            for n, annotation in enumerate(found)
        ]
        part = OutputTextPart(text=current.text, annotations=found)
        status = "incomplete" if incomplete else "completed"
        item = MessageOut(id=current.id, status=status, content=[part])
        self._output.append(item)
        events += [
            self._event(
                "response.output_text.done",
                content_index=0,
                text=current.text,
                logprobs=[],
                **where,
            ),
            self._event("response.content_part.done", content_index=0, part=part, **where),
            self._event("response.output_item.done", item=item, output_index=current.index),
        ]
        return events

    def _call(self, item: FunctionCallOut | CustomToolCallOut) -> list[Event]:
        events = self._close(False)
        self._calls += 1
        index = len(self._output)
        where = {"item_id": item.id, "output_index": index}
        if isinstance(item, FunctionCallOut):
            started: OutputItem = item.model_copy(update={"arguments": "", "status": "in_progress"})
            steps = [
                self._event(
                    "response.function_call_arguments.delta", delta=item.arguments, **where
                ),
                self._event(
                    "response.function_call_arguments.done",
                    name=item.name,
                    arguments=item.arguments,
                    **where,
                ),
            ]
        else:
            started = item.model_copy(update={"input": ""})
            steps = [
                self._event("response.custom_tool_call_input.delta", delta=item.input, **where),
                self._event("response.custom_tool_call_input.done", input=item.input, **where),
            ]
        self._output.append(item)
        return [
            *events,
            self._event("response.output_item.added", item=started, output_index=index),
            *steps,
            self._event("response.output_item.done", item=item, output_index=index),
        ]

    def _lone_reasoning(self) -> list[Event]:
        """Signatures that came after any reasoning item closed, in one of their own."""
        item = reasoning_item("", self._take_pending(), self.options)
        index = len(self._output)
        self._output.append(item)
        started = item.model_copy(update={"status": "in_progress", "encrypted_content": None})
        return [
            self._event("response.output_item.added", item=started, output_index=index),
            self._event("response.output_item.done", item=item, output_index=index),
        ]

    def _take_pending(self) -> carrier.Carried:
        pending, self._pending = self._pending, carrier.Carried()
        return pending

    def _event(self, kind: str, **fields: Any) -> Event:
        return {"type": kind, "sequence_number": 0, **fields}  # numbered as it goes out

    def _numbered(self, events: list[Event]) -> list[Event]:
        for event in events:
            event["sequence_number"] = self._seq
            self._seq += 1
        return events


_PREFIX = {"message": "msg", "reasoning": "rs"}


def frame(event: Event) -> bytes:
    kind: str = event["type"]
    return b"event: " + kind.encode() + b"\ndata: " + to_json(event) + b"\n\n"


class ResponseFrames:
    """The stream as Server-Sent Events; remembers the closing frame so the caller can store
    the response before that frame leaves."""

    def __init__(self, translator: ResponseStream) -> None:
        self.translator = translator
        self.closing: bytes | None = None

    def feed(self, event: GenerateContentResponse) -> Sequence[bytes]:
        return [frame(e) for e in self.translator.feed(event)]

    def finish(self) -> Sequence[bytes]:
        frames = [frame(e) for e in self.translator.finish()]
        self.closing = frames[-1]
        return frames

    def fail(self, error: ProxyError) -> Sequence[bytes]:
        return [frame(e) for e in self.translator.fail(error)]
