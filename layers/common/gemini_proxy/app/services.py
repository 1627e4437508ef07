"""Everything a request handler needs, built once per process."""

from dataclasses import dataclass, field

from starlette.requests import Request

from gemini_proxy.app.auth import ClientKeys, Gate, Sessions
from gemini_proxy.app.limits import Limits
from gemini_proxy.config import Config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.generation.service import Generation
from gemini_proxy.logs import logger
from gemini_proxy.media.fetch import MediaFetcher
from gemini_proxy.pool.health import Rules
from gemini_proxy.pool.models import ModelCatalog
from gemini_proxy.pool.orchestrator import Orchestrator
from gemini_proxy.pool.pool import CredentialPool, Ordering
from gemini_proxy.state.base import StateStore
from gemini_proxy.state.factory import create_store
from gemini_proxy.upstream.ai_studio import AiStudioClient
from gemini_proxy.upstream.code_assist import CodeAssistClient
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.oauth import OAuthClient, TokenManager
from gemini_proxy.upstream.projects import ProjectResolver
from gemini_proxy.upstream.router import AI_STUDIO_ONLY, UpstreamRouter
from gemini_proxy.upstream.shared import SharedValues
from gemini_proxy.upstream.wire import ModelInfo
from gemini_proxy.usage.book import UsageBook
from gemini_proxy.usage.flush import UsageFlusher
from gemini_proxy.usage.quota import QuotaReader

# Gemini lists models for tuning and other methods too; these are the ones we can serve.
SERVED_METHODS = {"generateContent", "embedContent", "batchEmbedContents"}


@dataclass
class Services:
    config: Config
    credentials: list[Credential]
    client_keys: ClientKeys
    limits: Limits
    http: HttpClient
    upstream: UpstreamRouter
    orchestrator: Orchestrator
    generation: Generation
    catalog: ModelCatalog
    media: MediaFetcher
    store: StateStore
    gate: Gate  # the edge's authentication: client keys, and the dashboard's sessions
    usage: UsageBook
    flusher: UsageFlusher
    quota: QuotaReader
    # Google's metadata of the models in its last list, for the Gemini dialect's model list.
    model_details: dict[str, ModelInfo] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        config: Config,
        credentials: list[Credential],
        client_keys: list[str],
        store: StateStore | None = None,
    ) -> "Services":
        http = HttpClient(
            config.upstream.connect_timeout_seconds,
            config.upstream.read_timeout_seconds,
            config.upstream.request_deadline_seconds,
            max_event_bytes=config.upstream.max_event_bytes,
        )
        store = store or create_store(config.state)
        upstream = UpstreamRouter(
            AiStudioClient(http, config.upstream.ai_studio_base_url),
            code_assist_client(config, http, store),
        )
        pool = CredentialPool(
            credentials,
            store,
            rules_for_kind(config, "ai_studio"),
            Ordering(config.ai_studio.fallback_mode, config.ai_studio.prefer_ai_studio_for_pro),
            config.state.cache_seconds,
            rules_for=lambda credential: rules_for_kind(config, credential.kind),
        )
        orchestrator = Orchestrator(
            pool,
            config.upstream.max_attempts,
            config.upstream.failover_deadline_seconds,
            config.max_wait_seconds,
        )

        details: dict[str, ModelInfo] = {}

        async def upstream_models() -> list[str]:
            served = await orchestrator.run("models", upstream.list_models, AI_STUDIO_ONLY)
            usable = {
                model.name.removeprefix("models/"): model
                for model in served.value
                if SERVED_METHODS & set(model.supported_generation_methods)
            }
            details.clear()
            details.update(usable)
            return list(usable)

        # Only AI Studio lists models; Code Assist has no such call.
        has_ai_studio = any(c.kind == "ai_studio" for c in pool.members())
        catalog = ModelCatalog(
            config.models,
            config.model_aliases,
            upstream_models if config.models_from_upstream and has_ai_studio else None,
            config.model_list_ttl_seconds,
        )
        limits = Limits(config.limits.requests_per_minute, config.limits.max_concurrent_streams)
        keys = ClientKeys(client_keys)
        dashboard_keys = config.dashboard.admin_keys or client_keys
        sessions = Sessions(dashboard_keys, config.dashboard.session_hours * 3600)
        usage = UsageBook()
        pool.on_failure = lambda credential, model, failure: usage.failed(
            credential.fingerprint, model, failure
        )
        return cls(
            config,
            credentials,
            keys,
            limits,
            http,
            upstream,
            orchestrator,
            Generation(orchestrator, upstream, catalog, limits.open_stream),
            catalog,
            MediaFetcher(config.media),
            store,
            Gate(keys, sessions),
            usage,
            UsageFlusher(
                usage, store, config.usage.flush_seconds, config.usage.retention_days * 86400
            ),
            QuotaReader(upstream.code_assist.retrieve_user_quota, config.usage.quota_cache_seconds),
            details,
        )

    async def start(self) -> None:
        self.flusher.start()

    async def close(self) -> None:
        try:
            await self.flusher.stop()  # the last counts, before the store closes
        except Exception:
            logger.exception("could not write the last usage counts")
        await self.http.close()
        await self.media.close()
        await self.store.close()


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def code_assist_client(config: Config, http: HttpClient, store: StateStore) -> CodeAssistClient:
    oauth = config.oauth
    # Token refreshes and project discovery share one claim-and-wait mechanism in the store.
    shared = SharedValues(store, oauth.refresh_lease_seconds)
    tokens = TokenManager(
        http,
        shared,
        OAuthClient(config.upstream.oauth_token_url, oauth.client_id, oauth.client_secret),
        oauth.refresh_margin_seconds,
    )
    projects = ProjectResolver(
        http,
        config.upstream.code_assist_base_url,
        shared,
        oauth.onboard_poll_seconds,
        oauth.onboard_timeout_seconds,
    )
    return CodeAssistClient(http, config.upstream.code_assist_base_url, tokens, projects)


def rules_for_kind(config: Config, kind: str) -> Rules:
    """Benching rules; only the default cooldown differs between AI Studio keys and accounts."""
    default = (
        config.ai_studio.cooldown_seconds
        if kind == "ai_studio"
        else config.rate_limit_settings.cooldown_period_ms / 1000
    )
    return Rules(
        default_cooldown=default,
        max_cooldown=config.rate_limit_settings.max_cooldown_ms / 1000,
        consecutive_failures=config.failover_thresholds.consecutive_failures,
        recheck_interval=config.failover_thresholds.recheck_interval_ms / 1000,
    )
