"""Everything a request handler needs, built once per process."""

from dataclasses import dataclass

from gemini_proxy.app.auth import ClientKeys
from gemini_proxy.config import Config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.media.fetch import MediaFetcher
from gemini_proxy.pool.models import ModelCatalog
from gemini_proxy.pool.orchestrator import Orchestrator
from gemini_proxy.upstream.ai_studio import AiStudioClient
from gemini_proxy.upstream.http import HttpClient

# Gemini lists models for tuning and other methods too; these are the ones we can serve.
SERVED_METHODS = {"generateContent", "embedContent", "batchEmbedContents"}


@dataclass
class Services:
    config: Config
    credentials: list[Credential]
    client_keys: ClientKeys
    http: HttpClient
    upstream: AiStudioClient
    orchestrator: Orchestrator
    catalog: ModelCatalog
    media: MediaFetcher

    @classmethod
    def build(
        cls, config: Config, credentials: list[Credential], client_keys: list[str]
    ) -> "Services":
        http = HttpClient(
            config.upstream.connect_timeout_seconds, config.upstream.read_timeout_seconds
        )
        upstream = AiStudioClient(http, config.upstream.ai_studio_base_url)
        orchestrator = Orchestrator(credentials, config.upstream.max_attempts)

        async def upstream_models() -> list[str]:
            served = await orchestrator.run("models", upstream.list_models)
            return [
                model.name.removeprefix("models/")
                for model in served.value
                if SERVED_METHODS & set(model.supported_generation_methods)
            ]

        catalog = ModelCatalog(
            config.models,
            config.model_aliases,
            upstream_models if config.models_from_upstream and credentials else None,
            config.model_list_ttl_seconds,
        )
        return cls(
            config,
            credentials,
            ClientKeys(client_keys),
            http,
            upstream,
            orchestrator,
            catalog,
            MediaFetcher(config.media),
        )

    async def close(self) -> None:
        await self.http.close()
        await self.media.close()
