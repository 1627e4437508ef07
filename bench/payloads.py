"""The requests every target is driven with.

A case is one request in one of the proxy's dialects (what PROXY receives; LiteLLM only gets the
chat ones) and the Gemini request the proxy sends upstream for it (what DIRECT and FLOOR send,
so that the upstream does the same work whichever way a request comes). The harness captures
that Gemini request from the fake's request log when a run starts (`with_upstream`); until then
a chat case falls back to the proxy's own pure translation and a native case to its own body.

Dialects, on the proxy's one edge:
    chat       POST /v1/chat/completions              Authorization: Bearer
    responses  POST /v1/responses                     Authorization: Bearer
    messages   POST /v1/messages                      x-api-key, anthropic-version
    native     POST /v1beta/models/M:generateContent  x-goog-api-key
               (streamed: :streamGenerateContent?alt=sse)
"""

import json
from dataclasses import dataclass, replace
from typing import Any

MODEL = "gemini-2.5-flash"
SYSTEM = "You are terse."
# ~40 words: the fake echoes the last user turn, so a streamed answer is ~10 events.
SHORT_PROMPT = (
    "Summarise in one paragraph why a gateway should add as little latency as possible to each "
    "request it forwards, and what a benchmark has to control for so that the added latency it "
    "reports is the gateway's own and not the noise of the machine it runs on today"
)

CHAT, RESPONSES, MESSAGES, NATIVE = "chat", "responses", "messages", "native"
DIALECTS = (CHAT, RESPONSES, MESSAGES, NATIVE)
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class Case:
    name: str
    body: dict[str, Any]  # in the case's dialect, without "stream" for chat (added below)
    stream: bool = False
    dialect: str = CHAT
    upstream_path: str = ""  # captured: the path the proxy called upstream for this case
    upstream_body: bytes = b""  # captured: the body it sent

    # --- what PROXY (and LiteLLM, for chat) receives ------------------------------------------

    def path(self) -> str:
        if self.dialect == CHAT:
            return "/v1/chat/completions"
        if self.dialect == RESPONSES:
            return "/v1/responses"
        if self.dialect == MESSAGES:
            return "/v1/messages"
        return _gemini_path(self.stream)

    def headers(self, key: str) -> dict[str, str]:
        if self.dialect == MESSAGES:
            return {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}
        if self.dialect == NATIVE:
            return {"x-goog-api-key": key}
        return {"authorization": f"Bearer {key}"}

    def proxy_body(self) -> bytes:
        if self.dialect == CHAT:
            return json.dumps({**self.body, "stream": self.stream}).encode()
        return json.dumps(self.body).encode()

    def answered(self, status: int, body: bytes) -> bool:
        """Whether `body` is a complete answer to this case in its dialect."""
        return status == 200 and _ANSWER_MARKS[self.dialect, self.stream] in body

    # --- what DIRECT and FLOOR send -------------------------------------------------------------

    def gemini_path(self) -> str:
        return self.upstream_path or _gemini_path(self.stream)

    def gemini_body(self) -> bytes:
        if self.upstream_body:
            return self.upstream_body
        if self.dialect == NATIVE:
            return json.dumps(self.body).encode()
        if self.dialect == CHAT:
            return _translated_chat(self.body, self.stream)
        raise ValueError(f"{self.name}: its upstream request is known only once captured")

    def with_upstream(self, path: str, body: bytes) -> "Case":
        return replace(self, upstream_path=path, upstream_body=body)


# What a complete answer contains, per dialect and streaming: the closing event of a stream.
_ANSWER_MARKS = {
    (CHAT, False): b'"choices"',
    (CHAT, True): b"data: [DONE]",
    (RESPONSES, False): b'"output"',
    (RESPONSES, True): b"event: response.completed",
    (MESSAGES, False): b'"content"',
    (MESSAGES, True): b"event: message_stop",
    (NATIVE, False): b'"candidates"',
    (NATIVE, True): b'data: {"candidates"',
}


def answered_gemini(stream: bool, status: int, body: bytes) -> bool:
    """Whether `body` is the upstream's answer (what DIRECT and FLOOR get)."""
    return status == 200 and _ANSWER_MARKS[NATIVE, stream] in body


def _gemini_path(stream: bool) -> str:
    if stream:
        return f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
    return f"/v1beta/models/{MODEL}:generateContent"


def _translated_chat(body: dict[str, Any], stream: bool) -> bytes:
    from gemini_proxy.openai.models import ChatCompletionRequest
    from gemini_proxy.openai.translate_request import to_gemini

    chat = ChatCompletionRequest.model_validate({**body, "stream": stream})
    translated = to_gemini(chat, MODEL, {}, False)
    return translated.request.model_dump_json(by_alias=True, exclude_none=True).encode()


# --- the cases ---------------------------------------------------------------------------------


def small(stream: bool = False) -> Case:
    return Case(
        "small" + ("-stream" if stream else ""),
        {
            "model": MODEL,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": SHORT_PROMPT},
            ],
        },
        stream,
    )


def responses(stream: bool = True) -> Case:
    """The small case as Codex sends it: store false, so no state-store call."""
    body = {
        "model": MODEL,
        "input": SHORT_PROMPT,
        "instructions": SYSTEM,
        "stream": stream,
        "store": False,
    }
    return Case("responses" + ("-stream" if stream else ""), body, stream, RESPONSES)


def messages(stream: bool = True) -> Case:
    """The small case in Anthropic's Messages API, as Claude Code sends it."""
    body = {
        "model": MODEL,
        "max_tokens": 256,
        "stream": stream,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": SHORT_PROMPT}],
    }
    return Case("messages" + ("-stream" if stream else ""), body, stream, MESSAGES)


def native(stream: bool = False) -> Case:
    """The small case in Gemini's own API, as Gemini CLI and google-genai send it."""
    body = {
        "systemInstruction": {"parts": [{"text": SYSTEM}]},
        "contents": [{"role": "user", "parts": [{"text": SHORT_PROMPT}]}],
    }
    return Case("native" + ("-stream" if stream else ""), body, stream, NATIVE)


def large_prompt(target_bytes: int = 200_000) -> Case:
    """A long conversation of ~200 KB: alternating turns of prose."""
    paragraph = (
        "The quick brown fox jumps over the lazy dog while the gateway counts every microsecond "
        "it spends translating, validating and forwarding this sentence to the upstream model. "
    )
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a careful reader."}]
    size = 0
    turn = 0
    while size < target_bytes:
        text = f"Turn {turn}. " + paragraph * 20
        messages.append({"role": "user" if turn % 2 == 0 else "assistant", "content": text})
        size += len(text)
        turn += 1
    if messages[-1]["role"] != "user":
        messages.append({"role": "user", "content": "Summarise the conversation."})
    return Case("large-200KB", {"model": MODEL, "messages": messages})


def tool_heavy(n_messages: int = 50) -> Case:
    """50 messages of agent traffic: tool calls with JSON arguments and their results."""
    tools: list[dict[str, Any]] = [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": f"{name} over the project's files",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "description": "file path"},
                        "pattern": {"type": "string"},
                        "limit": {"type": "integer", "minimum": 1},
                        "flags": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["path"],
                },
            },
        }
        for name in ("read_file", "search", "list_dir", "run_tests", "write_file")
    ]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a coding agent. Use the tools."},
        {"role": "user", "content": "Find and fix the failing test in the repository."},
    ]
    call = 0
    while len(messages) < n_messages - 1:
        name = tools[call % len(tools)]["function"]["name"]
        call_id = f"call_{call:04d}"
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": name,
                            "arguments": json.dumps(
                                {"path": f"src/module_{call}.py", "limit": 200, "flags": ["-n"]}
                            ),
                        },
                    }
                ],
            }
        )
        messages.append(
            {
                "role": "tool",
                "tool_call_id": call_id,
                "content": json.dumps(
                    {"ok": True, "lines": [f"line {i}: value = {i * call}" for i in range(20)]}
                ),
            }
        )
        call += 1
    messages.append({"role": "user", "content": "Now explain the fix in two sentences."})
    return Case("tools-50msg", {"model": MODEL, "messages": messages, "tools": tools})
