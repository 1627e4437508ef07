"""Search citations must index the content the client sees, <think> block included. Pure."""

import json
from typing import Any

from gemini_proxy.openai.translate_response import (
    AnswerOptions,
    StreamTranslator,
    to_chat_completion,
)
from gemini_proxy.upstream.wire import GenerateContentResponse
from tests.support.openai_schema import validate

TEXT = "Lisboa é linda. Porto também."
GROUNDING = {
    "groundingChunks": [{"web": {"uri": "https://a.example/", "title": "A"}}],
    "groundingSupports": [
        {
            "segment": {
                "startIndex": len(TEXT[: TEXT.index("Porto")].encode()),
                "endIndex": len(TEXT.encode()),
            },
            "groundingChunkIndices": [0],
        }
    ],
}


def event(parts: list[dict[str, Any]], finish: bool) -> GenerateContentResponse:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate |= {"finishReason": "STOP", "groundingMetadata": GROUNDING}
    return GenerateContentResponse.model_validate({"candidates": [candidate]})


def cited(content: str, annotations: list[dict[str, Any]]) -> list[str]:
    return [
        content[a["url_citation"]["start_index"] : a["url_citation"]["end_index"]]
        for a in annotations
    ]


def test_whole_answer_citations_skip_the_think_block() -> None:
    answer = event([{"text": "hmm", "thought": True}, {"text": TEXT}], finish=True)
    for think_tags in (False, True):
        completion = to_chat_completion(answer, "m", "id", 1, AnswerOptions(think_tags=think_tags))
        message = json.loads(completion.model_dump_json())["choices"][0]["message"]
        assert message["content"].endswith(TEXT)
        assert message["content"].startswith("<think>hmm</think>\n") is think_tags
        assert cited(message["content"], message["annotations"]) == ["Porto também."]


def test_streamed_citations_skip_the_think_block() -> None:
    for think_tags in (False, True):
        stream = StreamTranslator("m", "id", 1, False, AnswerOptions(think_tags=think_tags))
        chunks = [
            *stream.feed(event([{"text": "let me ", "thought": True}], finish=False)),
            *stream.feed(event([{"text": "think", "thought": True}], finish=False)),
            *stream.feed(event([{"text": TEXT[:10]}], finish=False)),
            *stream.feed(event([{"text": TEXT[10:]}], finish=True)),
            *stream.finish(),
        ]
        content, annotations = "", []
        for chunk in chunks:
            data = json.loads(chunk.model_dump_json())
            validate("CreateChatCompletionStreamResponse", data)
            delta = data["choices"][0]["delta"]
            content += delta.get("content") or ""
            annotations += delta.get("annotations") or []
        assert content.startswith("<think>let me think</think>\n") is think_tags
        assert cited(content, annotations) == ["Porto também."]
