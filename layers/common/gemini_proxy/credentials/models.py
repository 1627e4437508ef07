"""A credential as the rest of the code sees it: kind, fingerprint, and a hidden secret."""

from dataclasses import dataclass, field
from typing import Literal

from gemini_proxy.credentials.fingerprint import fingerprint

CredentialKind = Literal["ai_studio", "oauth"]
PoolName = Literal["primary", "fallback"]


@dataclass(frozen=True, slots=True)
class Credential:
    kind: CredentialKind
    secret: str = field(repr=False)  # never printed: repr() and logs show the fingerprint
    source: str = ""  # where it was loaded from (a file name), for the admin view
    pool: PoolName = "fallback"
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", fingerprint(self.secret))

    def __str__(self) -> str:
        return f"{self.kind}:{self.fingerprint}"
