"""A credential as the rest of the code sees it: kind, fingerprint, and a hidden secret.

An AI Studio key's secret is the key. A Gemini CLI OAuth account's secret is its refresh token:
it is what identifies the account for good (access tokens come and go), so its fingerprint names
the account in logs, the state store and the admin view.
"""

from dataclasses import dataclass, field
from typing import Literal

from gemini_proxy.credentials.fingerprint import fingerprint

CredentialKind = Literal["ai_studio", "oauth"]
PoolName = Literal["primary", "fallback"]


@dataclass(frozen=True, slots=True)
class OAuthSeed:
    """What an `oauth_creds.json` holds besides the refresh token; all optional.

    The access token saves the first refresh while it is still fresh; a configured project
    wins over the one Code Assist would discover.
    """

    access_token: str | None = field(default=None, repr=False)
    expiry_ms: int | None = None  # epoch milliseconds, as Gemini CLI writes `expiry_date`
    project_id: str | None = None


@dataclass(frozen=True, slots=True)
class Credential:
    kind: CredentialKind
    secret: str = field(repr=False)  # never printed: repr() and logs show the fingerprint
    source: str = ""  # where it was loaded from (a file name), for the admin view
    pool: PoolName = "fallback"
    # OAuth accounts only; not part of the identity (the refresh token is).
    seed: OAuthSeed | None = field(default=None, repr=False, compare=False)
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", fingerprint(self.secret))

    def __str__(self) -> str:
        return f"{self.kind}:{self.fingerprint}"
