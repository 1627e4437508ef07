"""The one configuration model, loaded once from YAML.

Sources, first found wins: an explicit path (`--config`), the env var `CONFIG_YAML` holding the
YAML itself (how Lambda gets it), `./config.yaml`, else the defaults below.
"""

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_MODELS = [
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-3-pro-preview",
    "gemini-3-flash-preview",
    # Gemini CLI's current ids (its config/models.ts, August 2026).
    "gemini-3.1-pro-preview",
    "gemini-3.5-flash",
    "gemini-3.1-flash-lite",
]

DEFAULT_ALIASES = {
    "gpt-4o": "gemini-2.5-pro",
    "gpt-4o-mini": "gemini-2.5-flash",
    "gpt-4.1": "gemini-2.5-pro",
    "gpt-4.1-mini": "gemini-2.5-flash",
    "text-embedding-3-small": "gemini-embedding-001",
    "text-embedding-3-large": "gemini-embedding-001",
    "text-embedding-ada-002": "gemini-embedding-001",
}


# Claude Code asks for its own model names (a main model and a small, fast background one):
# opus and sonnet get a Pro model, haiku a Flash model, any other Claude family the Pro model.
DEFAULT_CLAUDE_MODELS = {
    "claude-*opus*": "gemini-2.5-pro",
    "claude-*sonnet*": "gemini-2.5-pro",
    "claude-*haiku*": "gemini-2.5-flash",
    "claude-*": "gemini-2.5-pro",
}


class _Section(BaseModel):
    # A typo in a config key should fail loudly at start, not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class UpstreamConfig(_Section):
    ai_studio_base_url: str = "https://generativelanguage.googleapis.com"
    code_assist_base_url: str = "https://cloudcode-pa.googleapis.com"
    oauth_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    # Between two bytes of an answer: thinking models can be silent for a long while.
    read_timeout_seconds: float = Field(default=300.0, gt=0)
    # The most one upstream call may take, a whole streamed answer included (Lambda: 900 s).
    request_deadline_seconds: float = Field(default=900.0, gt=0)
    # The largest one streamed event may be (an image Gemini draws comes in one): the answer
    # is held in memory until its event ends.
    max_event_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    # Attempts one request may make per credential it found usable (the bound grows with the
    # pool; see pool/attempts.py), and the time after which no new attempt starts.
    max_attempts: int = Field(default=3, ge=1)
    failover_deadline_seconds: float = Field(default=60.0, gt=0)


# Gemini CLI's installed-app OAuth client, published in its source (packages/core/src/code_assist/
# oauth2.ts). An installed app cannot keep a secret, so Google does not treat this one as one; the
# refresh tokens in oauth_creds.json were issued to this client and refresh only through it.
GEMINI_CLI_CLIENT_ID = "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com"
GEMINI_CLI_CLIENT_SECRET = "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"  # noqa: S105 (public, see above)


class OAuthConfig(_Section):
    """Gemini CLI OAuth accounts (Code Assist): token refresh and project discovery."""

    client_id: str = GEMINI_CLI_CLIENT_ID
    client_secret: str = GEMINI_CLI_CLIENT_SECRET
    # An access token this close to its expiry counts as expired (Gemini CLI uses 5 minutes).
    refresh_margin_seconds: float = Field(default=300.0, ge=0)
    # How long one instance may hold the right to refresh (or onboard) an account before
    # another may take over; the others wait for its result instead of refreshing too.
    refresh_lease_seconds: float = Field(default=30.0, gt=0)
    # Onboarding is a long-running operation: how often to poll it (Gemini CLI: 5 s), and
    # for how long before giving up on this request.
    onboard_poll_seconds: float = Field(default=5.0, gt=0)
    onboard_timeout_seconds: float = Field(default=120.0, gt=0)


class StateConfig(_Section):
    backend: Literal["sqlite", "memory", "dynamodb"] = "sqlite"
    # How stale the in-process copy of the pool's state may get; a steady request reads only it.
    cache_seconds: float = Field(default=2.0, ge=0)
    sqlite_path: str = ".gemini-proxy-state.sqlite3"
    dynamodb_table: str = "gemini-proxy-state"


class ServerConfig(_Section):
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # Browser origins allowed to call the API (CORS). Empty: CORS off.
    cors_origins: list[str] = Field(default_factory=list)


class MetricsConfig(_Section):
    # GET /metrics in Prometheus text format (client key required when keys are set).
    enabled: bool = False


class LimitsConfig(_Section):
    """Optional abuse limits per client key (or client address without keys); 0 turns off."""

    requests_per_minute: int = Field(default=0, ge=0)
    max_concurrent_streams: int = Field(default=0, ge=0)


class MediaConfig(_Section):
    """How `http(s)` image, audio and file URLs in messages are fetched."""

    fetch_urls: bool = True
    max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)  # per URL
    timeout_seconds: float = Field(default=10.0, gt=0)
    # One request's URLs together: how many, how many bytes in all, how many at a time.
    max_urls: int = Field(default=16, ge=1)
    max_total_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_concurrent_fetches: int = Field(default=4, ge=1)
    # Empty: any public host. Otherwise only these hosts and their subdomains.
    allowed_hosts: list[str] = Field(default_factory=list)
    # Private networks you trust to be fetched from (CIDRs); loopback and private are refused
    # unless listed here.
    allowed_private_networks: list[str] = Field(default_factory=list)


class ReasoningConfig(_Section):
    # when_asked: thought summaries come back when the client sent reasoning_effort.
    include_thoughts: Literal["when_asked", "always", "never"] = "when_asked"
    # Emit thoughts as <think>...</think> in `content` for clients that read nothing else.
    think_tags: bool = False


class ResponsesConfig(_Section):
    """The Responses API (`/v1/responses`)."""

    # How long a stored response (`store: true`, the default) can be continued with
    # previous_response_id or read back; OpenAI keeps them 30 days.
    store_ttl_seconds: float = Field(default=30 * 24 * 3600.0, gt=0)


class AiStudioConfig(_Section):
    enabled: bool = True
    # Extra file of AI Studio keys, one a line (the credentials folder's files are read too).
    keys_file: str | None = None
    # Bench for a 429 that carries no retry hint.
    cooldown_seconds: float = Field(default=60.0, gt=0)
    # fallback: OAuth accounts (and primary_keys) first, AI Studio keys only when none of
    # those is available for the model; combined: one shared pool; disabled: keys unused.
    fallback_mode: Literal["fallback", "combined", "disabled"] = "fallback"
    # Code Assist's free quota for Pro models is small: try AI Studio keys first for them.
    prefer_ai_studio_for_pro: bool = False


class RateLimitSettings(_Section):
    # Bench for an OAuth account's 429 that carries no retry hint.
    cooldown_period_ms: int = Field(default=60_000, gt=0)
    # A credential limited again right after its bench ends rests twice as long, up to this.
    max_cooldown_ms: int = Field(default=3_600_000, gt=0)


class FailoverThresholds(_Section):
    # Unexplained failures in a row that make a credential INVALID.
    consecutive_failures: int = Field(default=3, ge=1)
    # How long an INVALID credential waits before a recheck probes it.
    recheck_interval_ms: int = Field(default=300_000, gt=0)


class AnthropicConfig(_Section):
    """The Anthropic Messages API (`/v1/messages`): which Gemini model answers a Claude name."""

    # Claude model name (exact, or a pattern where `*` matches anything) -> Gemini model. An
    # exact name wins over patterns; patterns are tried in order. Names no entry matches pass
    # through (a Gemini id or a `model_aliases` name works as it is).
    model_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CLAUDE_MODELS))


# Google's documented free daily request limits for an unpaid AI Studio key (gemini-cli's
# quota docs, 2026-03): 250 a day on Flash models. Configured figures, not Google's live ones.
DEFAULT_AI_STUDIO_DAILY_LIMITS = {"gemini-*flash*": 250}


class UsageConfig(_Section):
    """Requests, errors and tokens per credential and model, counted in memory per process and
    written to the state store in batches (never a store call per request)."""

    # At most one write per credential this often, only when something changed, and at shutdown.
    flush_seconds: float = Field(default=5.0, gt=0)
    # How long a day's usage records stay in the store.
    retention_days: float = Field(default=3.0, gt=0)
    # Known daily request limits of an AI Studio key, by model (exact name or a pattern where
    # `*` matches anything; the first match wins). Shown against today's use; {} shows none.
    ai_studio_daily_limits: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_AI_STUDIO_DAILY_LIMITS)
    )
    # How long an account's Code Assist quota (retrieveUserQuota) is reused before asking again.
    quota_cache_seconds: float = Field(default=60.0, ge=0)


class DashboardConfig(_Section):
    """The operator dashboard at /dashboard and its JSON API."""

    enabled: bool = True
    # Keys that may sign in to the dashboard instead of the client keys (secrets: keep the
    # config private). Empty: any client key signs in.
    admin_keys: list[str] = Field(default_factory=list)
    # How long a sign-in lasts.
    session_hours: float = Field(default=12.0, gt=0)
    # How often the page asks for fresh figures.
    refresh_seconds: float = Field(default=5.0, ge=1)


class Config(_Section):
    upstream: UpstreamConfig = UpstreamConfig()
    # AI Studio keys that join the primary pool (beside OAuth accounts) or the fallback pool.
    primary_keys: list[str] = Field(default_factory=list)
    fallback_keys: list[str] = Field(default_factory=list)
    ai_studio: AiStudioConfig = AiStudioConfig()
    oauth: OAuthConfig = OAuthConfig()
    rate_limit_settings: RateLimitSettings = RateLimitSettings()
    failover_thresholds: FailoverThresholds = FailoverThresholds()
    # When every credential is benched: wait up to this long for the first to recover
    # instead of answering 429 at once (0: answer at once).
    max_wait_seconds: float = Field(default=0.0, ge=0)
    state: StateConfig = StateConfig()
    server: ServerConfig = ServerConfig()
    media: MediaConfig = MediaConfig()
    limits: LimitsConfig = LimitsConfig()
    metrics: MetricsConfig = MetricsConfig()
    reasoning: ReasoningConfig = ReasoningConfig()
    responses: ResponsesConfig = ResponsesConfig()
    anthropic: AnthropicConfig = AnthropicConfig()
    usage: UsageConfig = UsageConfig()
    dashboard: DashboardConfig = DashboardConfig()
    # Listed by GET /v1/models beside what Gemini's own list says; other ids still pass through.
    models: list[str] = Field(default_factory=lambda: list(DEFAULT_MODELS))
    # Also list the models Gemini reports for the loaded AI Studio keys (cached).
    models_from_upstream: bool = True
    model_list_ttl_seconds: float = Field(default=600.0, ge=0)
    # Names some clients hard-code, answered by a Gemini model. `{}` turns them all off.
    model_aliases: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ALIASES))


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix."""


def parse_config(text: str, source: str) -> Config:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from None


def load_config(path: str | Path | None = None) -> Config:
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"config file not found: {file}")
        return parse_config(file.read_text(encoding="utf-8"), str(file))
    inline = os.environ.get("CONFIG_YAML")
    if inline:
        return parse_config(inline, "CONFIG_YAML")
    default = Path("config.yaml")
    if default.is_file():
        return parse_config(default.read_text(encoding="utf-8"), str(default))
    return Config()
