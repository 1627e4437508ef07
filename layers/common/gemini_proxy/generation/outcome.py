"""What became of one request: filled in as it goes, read once at the end.

The edge creates it, the generation service records the upstream side (credential, attempts,
timing, tokens), and the edge turns it into the response headers, the log line and the metrics.
"""

import time
from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.upstream.wire import UsageMetadata

MAX_LOGGED_MODEL = 200


@dataclass
class Tokens:
    input: int = 0
    output: int = 0
    reasoning: int = 0
    cached: int = 0

    @classmethod
    def from_usage(cls, usage: UsageMetadata) -> "Tokens":
        return cls(
            input=usage.prompt_token_count,
            output=usage.candidates_token_count + usage.thoughts_token_count,
            reasoning=usage.thoughts_token_count,
            cached=usage.cached_content_token_count,
        )


@dataclass
class Outcome:
    request_id: str
    method: str
    path: str
    dialect: str
    route: str | None = None  # the matched route's template, when one matched
    started: float = field(default_factory=time.perf_counter)
    client: str | None = None  # the verified client: a key's fingerprint, or an address
    model: str | None = None  # as the client named it
    served_model: str | None = None  # the Gemini model behind it
    stream: bool = False
    credential: str | None = None  # fingerprint of the credential that answered
    attempts: int = 0
    upstream_ms: float | None = None  # to Gemini's answer, or to its first stream event
    status: int = 0
    error: str | None = None  # a short class: an error code or a failure kind
    tokens: Tokens | None = None

    def served(self, credential: str, attempts: int, upstream_ms: float) -> None:
        self.credential = credential
        self.attempts = attempts
        self.upstream_ms = upstream_ms

    def total_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def log_fields(self, total_ms: float) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "dialect": self.dialect,
            "status": self.status,
            "total_ms": round(total_ms, 2),
        }
        # Only what is known: a line per request, so no empty fields.
        if self.client is not None:
            fields["client"] = self.client
        if self.model is not None:
            # As the client sent it (a misconfigured client shows here), never a whole body.
            fields["model"] = self.model[:MAX_LOGGED_MODEL]
        if self.served_model is not None and self.served_model != self.model:
            fields["served_model"] = self.served_model
        if self.stream:
            fields["stream"] = True
        if self.credential is not None:
            fields["credential"] = self.credential
            fields["attempts"] = self.attempts
        if self.upstream_ms is not None:
            fields["upstream_ms"] = round(self.upstream_ms, 2)
        if self.error is not None:
            fields["error"] = self.error
        if self.tokens is not None:
            fields["input_tokens"] = self.tokens.input
            fields["output_tokens"] = self.tokens.output
        return fields
