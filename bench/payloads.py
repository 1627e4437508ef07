"""The request bodies every target is driven with.

Each case is one OpenAI chat request (what PROXY and LiteLLM receive) and the Gemini request the
proxy itself would send upstream for it (what DIRECT and FLOOR send), produced by the proxy's own
pure translation so the upstream sees the same work whichever way a request comes.
"""

import json
from dataclasses import dataclass
from typing import Any

MODEL = "gemini-2.5-flash"
# ~40 words: the fake echoes the last user turn, so a streamed answer is ~10 events.
SHORT_PROMPT = (
    "Summarise in one paragraph why a gateway should add as little latency as possible to each "
    "request it forwards, and what a benchmark has to control for so that the added latency it "
    "reports is the gateway's own and not the noise of the machine it runs on today"
)


@dataclass(frozen=True)
class Case:
    name: str
    openai: dict[str, Any]
    stream: bool = False

    def openai_body(self) -> bytes:
        return json.dumps({**self.openai, "stream": self.stream}).encode()

    def gemini_body(self) -> bytes:
        from gemini_proxy.openai.models import ChatCompletionRequest
        from gemini_proxy.openai.translate_request import to_gemini

        chat = ChatCompletionRequest.model_validate({**self.openai, "stream": self.stream})
        translated = to_gemini(chat, MODEL, {}, False)
        return translated.request.model_dump_json(by_alias=True, exclude_none=True).encode()

    def gemini_path(self) -> str:
        if self.stream:
            return f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
        return f"/v1beta/models/{MODEL}:generateContent"


def small(stream: bool = False) -> Case:
    return Case(
        "small" + ("-stream" if stream else ""),
        {
            "model": MODEL,
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": SHORT_PROMPT},
            ],
        },
        stream,
    )


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
