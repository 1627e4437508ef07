"""The one Secrets Manager secret that holds a deployment's credentials and client keys.

Shape (JSON):
    {
      "ai_studio_keys": ["AIza...", ...],          # AI Studio API keys (fallback pool)
      "primary_keys": ["AIza...", ...],            # optional: AI Studio keys for the primary pool
      "oauth_accounts": [{...oauth_creds.json...}],  # Gemini CLI accounts (primary pool)
      "client_api_keys": ["...", ...]              # keys clients must send as Bearer tokens
    }
Read at run time through Powertools Parameters with a cache (`max_age`), never through a
CloudFormation dynamic reference, which would leave the plaintext in the function's
configuration. Nothing read here is written to disk.
"""

from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.credentials.models import Credential
from gemini_proxy.logs import logger

DEFAULT_MAX_AGE_SECONDS = 300


@dataclass
class SecretContents:
    credentials: list[Credential] = field(default_factory=list)
    client_keys: list[str] = field(default_factory=list)
    oauth_accounts: list[dict[str, Any]] = field(default_factory=list)


def _strings(data: dict[str, Any], name: str) -> list[str]:
    values = data.get(name) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        logger.warning(f"secret field '{name}' should be a list of strings; ignored")
        return []
    return [value.strip() for value in values if value.strip()]


def parse_secret(data: Any) -> SecretContents:
    """The secret's JSON as credentials and client keys. Pure; never logs a value."""
    if not isinstance(data, dict):
        logger.warning("the credentials secret is not a JSON object; nothing loaded")
        return SecretContents()
    contents = SecretContents(client_keys=_strings(data, "client_api_keys"))
    found: dict[str, Credential] = {}
    for key in _strings(data, "primary_keys"):
        found.setdefault(key, Credential("ai_studio", key, "secret", pool="primary"))
    for key in _strings(data, "ai_studio_keys"):
        found.setdefault(key, Credential("ai_studio", key, "secret"))
    contents.credentials = list(found.values())
    accounts = data.get("oauth_accounts") or []
    if isinstance(accounts, list):
        contents.oauth_accounts = [a for a in accounts if isinstance(a, dict)]
    return contents


def read_secret(name: str, max_age: int = DEFAULT_MAX_AGE_SECONDS, client: Any = None) -> Any:
    """The secret's JSON, from Powertools' cache when younger than `max_age` seconds."""
    provider = _provider(client)
    return provider.get(name, max_age=max_age, transform="json")


_providers: dict[int, Any] = {}


def _provider(client: Any) -> Any:
    # One provider per client, so its cache lives as long as the process.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    key = id(client)
    if key not in _providers:
        _providers[key] = SecretsProvider(boto3_client=client) if client else SecretsProvider()
    return _providers[key]
