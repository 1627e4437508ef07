"""Where credentials come from, and which pool each joins.

- the credentials folder (default `oauth creds/`): Gemini CLI OAuth accounts, one
  `oauth_creds.json`-shaped `*.json` file each -> the primary pool; AI Studio keys in
  `ai_studio_keys.txt`, `keys.txt`, `keys.json` -> the fallback pool;
- `ai_studio.keys_file` in the config: more keys, one a line -> the fallback pool;
- `primary_keys` / `fallback_keys` in the config -> the pool they name;
- environment variables `GEMINI_API_KEY_<n>` (`GEMINI_API_KEY_1`, ...) holding an AI Studio
  key -> the fallback pool, or a whole oauth_creds.json document -> the primary pool.
A credential found twice is loaded once; the primary pool wins.
"""

import re
from collections.abc import Mapping
from pathlib import Path

from gemini_proxy.config import Config
from gemini_proxy.credentials.files import keys_from_text, load_ai_studio_keys
from gemini_proxy.credentials.models import Credential
from gemini_proxy.credentials.oauth_files import (
    NotOAuthCreds,
    load_oauth_accounts,
    parse_oauth_creds,
)
from gemini_proxy.logs import logger

ENV_KEY = re.compile(r"^GEMINI_API_KEY_\d+$")


def load_credentials(
    config: Config, creds_dir: Path, environ: Mapping[str, str]
) -> list[Credential]:
    found: dict[str, Credential] = {}

    def add(credential: Credential) -> None:
        known = found.get(credential.fingerprint)
        if known is None or (credential.pool == "primary" and known.pool != "primary"):
            found[credential.fingerprint] = credential

    for account in load_oauth_accounts(creds_dir):
        add(account)
    for key in config.primary_keys:
        add(Credential("ai_studio", key, source="config:primary_keys", pool="primary"))
    for key in config.fallback_keys:
        add(Credential("ai_studio", key, source="config:fallback_keys"))
    for credential in load_ai_studio_keys(creds_dir):
        add(credential)
    if config.ai_studio.keys_file:
        path = Path(config.ai_studio.keys_file)
        if path.is_file():
            for key in keys_from_text(path.read_text(encoding="utf-8-sig")):
                add(Credential("ai_studio", key, source=path.name))
        else:
            logger.warning("ai_studio.keys_file not found", extra={"path": str(path)})
    for name in sorted(environ, key=_env_order):
        if ENV_KEY.match(name) and environ[name].strip():
            value = environ[name].strip()
            if value.startswith("{"):
                try:
                    add(parse_oauth_creds(value, f"env:{name}"))
                except NotOAuthCreds as exc:
                    logger.warning(f"{name} {exc}; it was not loaded as an OAuth account")
                continue
            add(Credential("ai_studio", value, source=f"env:{name}"))
    credentials = list(found.values())
    if not config.ai_studio.enabled:
        credentials = [c for c in credentials if c.kind != "ai_studio"]
    return credentials


def _env_order(name: str) -> tuple[int, str]:
    digits = name.rsplit("_", 1)[-1]
    return (int(digits) if digits.isdigit() else 0, name)
