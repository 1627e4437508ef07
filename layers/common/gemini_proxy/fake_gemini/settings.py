"""Run-time knobs of the fake upstream.

A plain dataclass so the CLI and tests can build one without pydantic; the control API validates
patches through a pydantic TypeAdapter of the same class.
"""

from dataclasses import dataclass, field, fields, replace
from typing import Any

from pydantic import TypeAdapter

from gemini_proxy.credentials.fingerprint import fingerprint

# Gemini CLI's installed-app OAuth client. Google publishes it in Gemini CLI's source; an
# installed-app "secret" is not confidential, and the fake must accept exactly what the proxy sends.
GEMINI_CLI_CLIENT_ID = "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com"
GEMINI_CLI_CLIENT_SECRET = "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"  # noqa: S105


@dataclass
class FakeSettings:
    """Behaviour switches; every field can be patched at run time via POST /_control/settings."""

    latency_ms: float = 0
    """Delay before the first byte of every answer (errors included, control API excluded)."""
    chunk_delay_ms: float = 0
    """Delay between streamed events."""
    access_token_ttl_seconds: int = 3600
    """Lifetime of access tokens minted by POST /token (also their `expires_in`)."""
    onboard_polls: int = 1
    """How many times an onboarding operation answers done=false before done=true."""
    valid_keys: set[str] | None = None
    """AI Studio keys that exist; None accepts any non-empty key."""
    client_id: str = GEMINI_CLI_CLIENT_ID
    """OAuth client the token endpoint accepts (anything else is 401 invalid_client)."""
    client_secret: str | None = GEMINI_CLI_CLIENT_SECRET
    """Client secret the token endpoint accepts; None accepts any."""
    new_accounts_onboarded: bool = True
    """An account first seen through its tokens starts with free-tier and a project (True) or
    must be onboarded first (False)."""
    words_per_event: int = 4
    """How many words of answer text each streamed event carries."""
    log_limit: int = 20000
    """Request log entries kept (oldest dropped first) so long benchmarks stay bounded."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form notes a test wants to see echoed by GET /_control/settings."""


_ADAPTER: TypeAdapter[FakeSettings] = TypeAdapter(FakeSettings)
SETTING_NAMES = frozenset(f.name for f in fields(FakeSettings))


def patch_settings(current: FakeSettings, patch: dict[str, Any]) -> FakeSettings:
    """Validated copy of `current` with `patch` applied; raises ValueError naming bad fields."""
    unknown = sorted(set(patch) - SETTING_NAMES)
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(unknown)}")
    merged = {f.name: getattr(current, f.name) for f in fields(FakeSettings)}
    merged.update(patch)
    validated = _ADAPTER.validate_python(merged)
    return replace(validated)


def public_settings(settings: FakeSettings) -> dict[str, Any]:
    """JSON view for the control API: keys appear as fingerprints, the client secret not at all."""
    out = {f.name: getattr(settings, f.name) for f in fields(FakeSettings)}
    keys = settings.valid_keys
    out["valid_keys"] = None if keys is None else sorted(fingerprint(k) for k in keys)
    out["client_secret"] = None if settings.client_secret is None else "<set>"
    return out
