"""One request from arrival to answer: its log entry, its delays and the response it gets.

Shared by the three front ends so every answer is logged, delayed and framed the same way.
"""

from collections.abc import Callable
from typing import Any

from pydantic_core import from_json, to_json
from starlette.requests import Request
from starlette.responses import Response

from . import errors
from .answers import compose, render, reshape, stream
from .faults import Fault
from .plan import Plan
from .responses import Answer, EventStream, Reset
from .state import FakeState, LogEntry

Wrap = Callable[[dict[str, Any]], dict[str, Any]]
_SECRET_QUERY = frozenset({"key", "access_token"})


class Exchange:
    __slots__ = ("body_error", "delay", "entry", "state")

    def __init__(self, state: FakeState, request: Request, kind: str, api: str) -> None:
        self.state = state
        self.entry: LogEntry = state.begin(request.url.path, kind, api)
        if request.url.query:
            self.entry.query = {
                k: v for k, v in request.query_params.items() if k not in _SECRET_QUERY
            }
        self.delay = state.settings.latency_ms / 1000
        self.body_error: errors.GoogleError | None = None

    def _done(self, status: int | None, disconnected: bool) -> None:
        self.state.finish(self.entry, status, disconnected)

    async def read_json(self, request: Request) -> Any:
        """The parsed body (also logged); an empty body reads as {} like Google's parser.

        Unparseable JSON is remembered rather than raised: Google checks credentials first, so
        `check_body()` raises it once authentication has passed.
        """
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = from_json(raw)
        except ValueError:
            text = raw.decode(errors="replace")
            self.entry.body = text[:10000]
            self.body_error = errors.invalid_argument(
                f"Invalid JSON payload received. Unexpected token.\n{text[:40]}\n^"
            )
            return {}
        self.entry.body = body
        return body

    def check_body(self) -> None:
        if self.body_error is not None:
            raise self.body_error

    def signature_check(self) -> Callable[[str], bool]:
        """Whether a signature in the request was issued to this request's credential."""
        credential = self.entry.credential
        return lambda signature: self.state.known_signature(signature, credential)

    def take_fault(self, credential: str | None, model: str | None) -> Fault | None:
        entry = self.entry
        fault = self.state.faults.take(entry.api, entry.kind, credential, model)
        if fault is not None:
            entry.fault = fault.type
            if fault.type == "slow":
                self.delay += float(fault.params.get("delay_ms", 1000)) / 1000
        return fault

    def json(
        self,
        payload: Any,
        status: int = 200,
        *,
        cut_half: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Response:
        return Answer(
            status,
            to_json(payload),
            errors.JSON_TYPE,
            self._done,
            delay=self.delay,
            cut_half=cut_half,
            headers=headers,
        )

    def error(self, failure: errors.GoogleError) -> Response:
        return Answer(
            failure.status, failure.render(), failure.content_type, self._done, delay=self.delay
        )

    def reset(self) -> Response:
        return Reset(self._done, delay=self.delay)

    def answer(
        self,
        plan: Plan,
        fault: Fault | None,
        *,
        streaming: bool,
        sse: bool,
        wrap: Wrap | None = None,
    ) -> Response:
        """The generateContent / streamGenerateContent answer, bent by a shape fault if any."""
        state = self.state
        result = compose(plan, lambda: state.issue_signature(self.entry.credential))
        kind = fault.type if fault is not None else None
        if fault is not None:
            reshape(result, fault.type, fault.params)
        if streaming:
            events = (
                [] if kind == "empty_stream" else stream(result, state.settings.words_per_event)
            )
            if wrap is not None:
                events = [wrap(e) for e in events]
            drop_after = None
            if fault is not None and kind == "drop_mid_stream":
                drop_after = int(fault.params.get("after_events", 1))
            return EventStream(
                [to_json(e) for e in events],
                sse,
                self._done,
                delay=self.delay,
                chunk_delay=state.settings.chunk_delay_ms / 1000,
                drop_after=drop_after,
            )
        payload = render(result)
        if wrap is not None:
            payload = wrap(payload)
        return self.json(payload, cut_half=kind == "drop_mid_stream")
