"""Gemini's wire format (camelCase on the wire, snake_case in Python).

Only the fields the proxy reads or writes are declared. Answers ignore the rest, so a field
Google adds tomorrow cannot break parsing.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class Blob(WireModel):
    mime_type: str
    data: str


class FileData(WireModel):
    mime_type: str | None = None
    file_uri: str


class FunctionCall(WireModel):
    name: str
    args: dict[str, Any] | None = None
    id: str | None = None


class FunctionResponse(WireModel):
    name: str
    response: dict[str, Any]
    id: str | None = None


class Part(WireModel):
    text: str | None = None
    thought: bool | None = None
    thought_signature: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None


class Content(WireModel):
    role: str | None = None
    parts: list[Part] = []


class ThinkingConfig(WireModel):
    thinking_budget: int | None = None
    thinking_level: str | None = None
    include_thoughts: bool | None = None


class GenerationConfig(WireModel):
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    candidate_count: int | None = None
    max_output_tokens: int | None = None
    stop_sequences: list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    response_mime_type: str | None = None
    response_json_schema: dict[str, Any] | None = None
    response_schema: dict[str, Any] | None = None
    thinking_config: ThinkingConfig | None = None


class GenerateContentRequest(WireModel):
    contents: list[Content]
    system_instruction: Content | None = None
    tools: list[dict[str, Any]] | None = None
    tool_config: dict[str, Any] | None = None
    safety_settings: list[dict[str, Any]] | None = None
    generation_config: GenerationConfig | None = None


class WebSource(WireModel):
    uri: str | None = None
    title: str | None = None


class GroundingChunk(WireModel):
    web: WebSource | None = None


class Segment(WireModel):
    start_index: int = 0
    end_index: int = 0
    text: str | None = None


class GroundingSupport(WireModel):
    segment: Segment | None = None
    grounding_chunk_indices: list[int] = []


class GroundingMetadata(WireModel):
    grounding_chunks: list[GroundingChunk] = []
    grounding_supports: list[GroundingSupport] = []
    web_search_queries: list[str] = []


class Candidate(WireModel):
    content: Content | None = None
    finish_reason: str | None = None
    index: int = 0
    grounding_metadata: GroundingMetadata | None = None


class PromptFeedback(WireModel):
    block_reason: str | None = None
    block_reason_message: str | None = None


class UsageMetadata(WireModel):
    prompt_token_count: int = 0
    candidates_token_count: int = 0
    thoughts_token_count: int = 0
    cached_content_token_count: int = 0
    total_token_count: int = 0


class GenerateContentResponse(WireModel):
    candidates: list[Candidate] = []
    prompt_feedback: PromptFeedback | None = None
    usage_metadata: UsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None


class EmbedContentRequest(WireModel):
    model: str
    content: Content
    output_dimensionality: int | None = None


class BatchEmbedContentsRequest(WireModel):
    requests: list[EmbedContentRequest]


class ContentEmbedding(WireModel):
    values: list[float]


class BatchEmbedContentsResponse(WireModel):
    embeddings: list[ContentEmbedding] = []


class ModelInfo(WireModel):
    name: str
    display_name: str | None = None
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    supported_generation_methods: list[str] = []


class ListModelsResponse(WireModel):
    models: list[ModelInfo] = []
    next_page_token: str | None = None
