"""The models the fake knows, with the limits and thinking rules the real API enforces."""

from dataclasses import dataclass

_GENERATE = ("generateContent", "countTokens", "createCachedContent", "batchGenerateContent")
_EMBED = ("embedContent", "batchEmbedContents", "countTextTokens", "countTokens")

# Thinking levels Gemini 3 accepts, lower-cased as Google documents them.
ALL_LEVELS = frozenset({"minimal", "low", "medium", "high"})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    display_name: str
    description: str
    input_token_limit: int
    output_token_limit: int
    methods: tuple[str, ...]
    thinking: bool = False
    thinks_by_default: bool = False
    budget_min: int = 0
    """Smallest positive thinkingBudget; 2.5 Pro cannot switch thinking off (budget 0)."""
    budget_max: int = 0
    can_disable_thinking: bool = True
    levels: frozenset[str] = frozenset()
    """thinkingLevel values the model takes; empty means thinkingLevel is rejected."""
    embedding_dim: int = 0
    code_assist: bool = False
    """Whether Code Assist serves it (Gemini CLI's known ids)."""

    @property
    def name(self) -> str:
        return f"models/{self.id}"

    @property
    def is_gemini_3(self) -> bool:
        return self.id.startswith("gemini-3")

    def supports(self, method: str) -> bool:
        if method == "streamGenerateContent":
            method = "generateContent"
        return method in self.methods

    def to_wire(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "version": "001" if self.embedding_dim else "2.5" if "2.5" in self.id else "3.0",
            "displayName": self.display_name,
            "description": self.description,
            "inputTokenLimit": self.input_token_limit,
            "outputTokenLimit": self.output_token_limit,
            "supportedGenerationMethods": list(self.methods),
        }
        if not self.embedding_dim:
            out.update(temperature=1, topP=0.95, topK=64, maxTemperature=2)
        if self.thinking:
            out["thinking"] = True
        return out


MODELS: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        ModelInfo(
            id="gemini-2.5-pro",
            display_name="Gemini 2.5 Pro",
            description="Stable release (June 17th, 2025) of Gemini 2.5 Pro",
            input_token_limit=1048576,
            output_token_limit=65536,
            methods=_GENERATE,
            thinking=True,
            thinks_by_default=True,
            budget_min=128,
            budget_max=32768,
            can_disable_thinking=False,
            code_assist=True,
        ),
        ModelInfo(
            id="gemini-2.5-flash",
            display_name="Gemini 2.5 Flash",
            description="Stable version of Gemini 2.5 Flash, our mid-size multimodal model.",
            input_token_limit=1048576,
            output_token_limit=65536,
            methods=_GENERATE,
            thinking=True,
            thinks_by_default=True,
            budget_min=1,
            budget_max=24576,
            code_assist=True,
        ),
        ModelInfo(
            id="gemini-2.5-flash-lite",
            display_name="Gemini 2.5 Flash-Lite",
            description="Stable version of Gemini 2.5 Flash-Lite, released in July of 2025",
            input_token_limit=1048576,
            output_token_limit=65536,
            methods=_GENERATE,
            thinking=True,
            # Google documents Flash-Lite as not thinking unless a budget asks it to.
            thinks_by_default=False,
            budget_min=512,
            budget_max=24576,
            code_assist=True,
        ),
        ModelInfo(
            id="gemini-3-pro-preview",
            display_name="Gemini 3 Pro Preview",
            description="Gemini 3 Pro Preview",
            input_token_limit=1048576,
            output_token_limit=65536,
            methods=_GENERATE,
            thinking=True,
            thinks_by_default=True,
            budget_min=128,
            budget_max=32768,
            can_disable_thinking=False,
            levels=frozenset({"low", "high"}),
            code_assist=True,
        ),
        ModelInfo(
            id="gemini-3-flash-preview",
            display_name="Gemini 3 Flash Preview",
            description="Gemini 3 Flash Preview",
            input_token_limit=1048576,
            output_token_limit=65536,
            methods=_GENERATE,
            thinking=True,
            thinks_by_default=True,
            budget_min=1,
            budget_max=24576,
            levels=ALL_LEVELS,
            code_assist=True,
        ),
        # Gemini CLI's current ids (its config/models.ts, August 2026).
        ModelInfo(
            id="gemini-3.1-pro-preview",
            display_name="Gemini 3.1 Pro Preview",
            description="Gemini 3.1 Pro Preview",
            input_token_limit=1048576,
            output_token_limit=65536,
            methods=_GENERATE,
            thinking=True,
            thinks_by_default=True,
            budget_min=128,
            budget_max=32768,
            can_disable_thinking=False,
            levels=frozenset({"low", "high"}),
            code_assist=True,
        ),
        ModelInfo(
            id="gemini-3.5-flash",
            display_name="Gemini 3.5 Flash",
            description="Gemini 3.5 Flash",
            input_token_limit=1048576,
            output_token_limit=65536,
            methods=_GENERATE,
            thinking=True,
            thinks_by_default=True,
            budget_min=1,
            budget_max=24576,
            levels=ALL_LEVELS,
            code_assist=True,
        ),
        ModelInfo(
            id="gemini-3.1-flash-lite",
            display_name="Gemini 3.1 Flash-Lite",
            description="Gemini 3.1 Flash-Lite",
            input_token_limit=1048576,
            output_token_limit=65536,
            methods=_GENERATE,
            thinking=True,
            thinks_by_default=False,
            budget_min=512,
            budget_max=24576,
            levels=ALL_LEVELS,
            code_assist=True,
        ),
        ModelInfo(
            id="gemini-2.0-flash",
            display_name="Gemini 2.0 Flash",
            description="Gemini 2.0 Flash",
            input_token_limit=1048576,
            output_token_limit=8192,
            methods=_GENERATE,
        ),
        ModelInfo(
            id="gemini-embedding-001",
            display_name="Gemini Embedding 001",
            description="Obtain a distributed representation of a text.",
            input_token_limit=2048,
            output_token_limit=1,
            methods=_EMBED,
            embedding_dim=3072,
        ),
        ModelInfo(
            id="text-embedding-004",
            display_name="Text Embedding 004",
            description="Obtain a distributed representation of a text.",
            input_token_limit=2048,
            output_token_limit=1,
            methods=_EMBED,
            embedding_dim=768,
        ),
    )
}

MODEL_ORDER: tuple[str, ...] = tuple(MODELS)


def bare_model_id(name: str) -> str:
    """`models/gemini-2.5-flash` and `gemini-2.5-flash` name the same model."""
    return name[7:] if name.startswith("models/") else name


def find_model(name: str) -> ModelInfo | None:
    return MODELS.get(bare_model_id(name))
