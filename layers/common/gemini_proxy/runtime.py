"""What a process runs with, read from its environment: config, credentials, client keys.

Locally: `config.yaml` (or GEMINI_PROXY_CONFIG / CONFIG_YAML), the credentials folder and
GEMINI_PROXY_API_KEYS. On AWS: the same config, plus the Secrets Manager secret named by
GEMINI_PROXY_SECRET_NAME for credentials and client keys.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini_proxy.config import Config, load_config
from gemini_proxy.credentials.models import Credential
from gemini_proxy.credentials.oauth_files import credential_from_json
from gemini_proxy.credentials.sources import load_credentials

DEFAULT_CREDS_DIR = "oauth creds"


@dataclass
class Runtime:
    config: Config
    credentials: list[Credential]
    client_keys: list[str]
    secret_name: str | None = None


def client_keys_from_env(environ: Mapping[str, str]) -> list[str]:
    raw = environ.get("GEMINI_PROXY_API_KEYS", "")
    return [key.strip() for key in raw.split(",") if key.strip()]


def load_runtime(environ: Mapping[str, str] | None = None, secrets_client: Any = None) -> Runtime:
    environ = os.environ if environ is None else environ
    config = load_config(environ.get("GEMINI_PROXY_CONFIG"))
    secret_name = environ.get("GEMINI_PROXY_SECRET_NAME")
    if secret_name:
        from gemini_proxy.aws.secrets import parse_secret, read_secret

        contents = parse_secret(read_secret(secret_name, client=secrets_client))
        credentials = contents.credentials + oauth_credentials(contents.oauth_accounts)
        return Runtime(config, credentials, contents.client_keys, secret_name)
    creds_dir = Path(environ.get("GEMINI_PROXY_CREDS_DIR", DEFAULT_CREDS_DIR))
    credentials = load_credentials(config, creds_dir, environ)
    return Runtime(config, credentials, client_keys_from_env(environ))


def oauth_credentials(accounts: list[dict[str, Any]]) -> list[Credential]:
    """Gemini CLI accounts given as parsed oauth_creds.json objects (from the secret)."""
    return [c for n, a in enumerate(accounts) if (c := credential_from_json(a, f"secret#{n}"))]
