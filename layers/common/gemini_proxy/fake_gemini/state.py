"""Everything the fake remembers between requests: log, counters, tokens, accounts, signatures.

One `FakeState` per app. It is only touched from the event loop and never across an `await`, so
it needs no locks. Secrets are held only where they must be looked up (access tokens, keys); what
leaves through the control API is always a fingerprint.
"""

import base64
import itertools
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.credentials.fingerprint import fingerprint

from .faults import FaultBook
from .settings import FakeSettings

_MAX_SIGNATURES = 200_000


@dataclass(slots=True)
class LogEntry:
    seq: int
    path: str
    kind: str
    api: str
    started_at: float
    credential: str | None = None
    model: str | None = None
    status: int | None = None
    fault: str | None = None
    ended_at: float | None = None
    client_disconnected: bool = False
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "path": self.path,
            "kind": self.kind,
            "api": self.api,
            "credential": self.credential,
            "model": self.model,
            "status": self.status,
            "fault": self.fault,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "client_disconnected": self.client_disconnected,
            "body": self.body,
            "query": self.query,
        }


@dataclass(slots=True)
class Operation:
    """An onboarding long-running operation: answers done=false `polls_left` more times."""

    name: str
    tier: str
    project: str
    polls_left: int
    done: bool = False


@dataclass(slots=True)
class Account:
    """A Google account behind Gemini CLI OAuth, keyed by its refresh token's fingerprint."""

    fingerprint: str
    tier: str | None = None
    """Current tier id (`free-tier`, `standard-tier`, `legacy-tier`); None: not onboarded."""
    project: str | None = None
    ineligible: list[dict[str, Any]] = field(default_factory=list)
    revoked: bool = False
    operation: Operation | None = None
    unsupported_client: bool = False
    """Google no longer serves this account type through Code Assist (since 2026-06-18: free
    Code Assist for individuals, Google AI Pro and Ultra): loadCodeAssist lists the free tier as
    UNSUPPORTED_CLIENT, onboarding and generation are refused, whatever tier it had."""
    quota: list[dict[str, Any]] | None = None
    """retrieveUserQuota's buckets as a test set them; None: derived from the tier and `used`."""
    used: Counter[str] = field(default_factory=Counter)
    """Generation requests answered per model, which the derived quota buckets count down."""

    def to_wire(self) -> dict[str, Any]:
        return {
            "refresh_token_fingerprint": self.fingerprint,
            "tier": self.tier,
            "project": self.project,
            "ineligible": self.ineligible,
            "revoked": self.revoked,
            "unsupported_client": self.unsupported_client,
            "quota": self.quota,
            "used": dict(self.used),
            "onboarding": None
            if self.operation is None
            else {
                "name": self.operation.name,
                "polls_left": self.operation.polls_left,
                "done": self.operation.done,
            },
        }


@dataclass(slots=True)
class AccessToken:
    account: str
    """Fingerprint of the refresh token it was minted from."""
    expires_at: float


class FakeState:
    def __init__(self, settings: FakeSettings) -> None:
        self.initial_settings = settings
        self.settings = settings
        self.faults = FaultBook()
        self.reset()

    def reset(self) -> None:
        self.settings = self.initial_settings
        self.faults.clear()
        self.log: deque[LogEntry] = deque(maxlen=max(1, self.settings.log_limit))
        self._seq = itertools.count(1)
        self.counts: Counter[str] = Counter()
        self.refreshes: Counter[str] = Counter()
        self.disconnects = 0
        self.tokens: dict[str, AccessToken] = {}
        self.accounts: dict[str, Account] = {}
        self._projects = itertools.count(1)
        self._operations = itertools.count(1)
        self.signatures: dict[str, str | None] = {}  # signature -> the credential it was for

    def apply_settings(self, settings: FakeSettings) -> None:
        if settings.log_limit != self.settings.log_limit:
            self.log = deque(self.log, maxlen=max(1, settings.log_limit))
        self.settings = settings

    # -- request log ---------------------------------------------------------------------------

    def begin(self, path: str, kind: str, api: str) -> LogEntry:
        entry = LogEntry(next(self._seq), path, kind, api, time.time())
        self.log.append(entry)
        return entry

    def finish(self, entry: LogEntry, status: int | None, disconnected: bool = False) -> None:
        entry.status = status
        entry.ended_at = time.time()
        entry.client_disconnected = disconnected
        self.counts[f"{entry.kind}:{status if status is not None else 'reset'}"] += 1
        if disconnected:
            self.disconnects += 1

    # -- access tokens and accounts ------------------------------------------------------------

    def new_project_id(self) -> str:
        return f"fake-project-{next(self._projects)}"

    def new_operation_name(self) -> str:
        return f"operations/onboard-{next(self._operations)}"

    def account(self, account_fp: str) -> Account:
        """The account for a refresh-token fingerprint, created on first sight."""
        found = self.accounts.get(account_fp)
        if found is None:
            found = Account(account_fp)
            if self.settings.new_accounts_onboarded:
                found.tier = "free-tier"
                found.project = self.new_project_id()
            self.accounts[account_fp] = found
        return found

    def mint_token(self, account_fp: str, ttl: float | None = None) -> str:
        token = "ya29.fake-" + secrets.token_urlsafe(32)
        self.register_token(token, account_fp, ttl)
        return token

    def register_token(self, token: str, account_fp: str, ttl: float | None = None) -> None:
        lifetime = self.settings.access_token_ttl_seconds if ttl is None else ttl
        self.tokens[token] = AccessToken(account_fp, time.time() + lifetime)
        if len(self.tokens) > 10_000:
            self._drop_expired_tokens()

    def _drop_expired_tokens(self) -> None:
        now = time.time()
        for token in [t for t, rec in self.tokens.items() if rec.expires_at <= now]:
            del self.tokens[token]

    def token_account(self, token: str) -> Account | None:
        """The live account an access token belongs to; None if unknown, expired or revoked."""
        record = self.tokens.get(token)
        if record is None or record.expires_at <= time.time():
            return None
        account = self.account(record.account)
        return None if account.revoked else account

    def revoke(self, account: Account) -> None:
        # Revoking a grant kills the access tokens minted from it too.
        account.revoked = True
        for token in [t for t, rec in self.tokens.items() if rec.account == account.fingerprint]:
            del self.tokens[token]

    def tokens_for(self, account_fp: str) -> list[dict[str, Any]]:
        now = time.time()
        return [
            {"fingerprint": fingerprint(t), "expires_in": round(rec.expires_at - now, 3)}
            for t, rec in self.tokens.items()
            if rec.account == account_fp
        ]

    # -- thought signatures --------------------------------------------------------------------

    def issue_signature(self, credential: str | None) -> str:
        # Standard base64 like Google's, so a client that mangles '+' or '/' is caught.
        signature = base64.b64encode(secrets.token_bytes(48)).decode()
        self.signatures[signature] = credential
        if len(self.signatures) > _MAX_SIGNATURES:
            # Oldest first: dicts keep insertion order.
            del self.signatures[next(iter(self.signatures))]
        return signature

    def known_signature(self, signature: str, credential: str | None) -> bool:
        """Issued, and for this credential: Google refuses another account's signature
        ("Corrupted thought signature"), as peers saw after failing over between accounts."""
        return signature in self.signatures and self.signatures[signature] == credential

    # -- stats ---------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        by_kind: Counter[str] = Counter()
        by_status: Counter[str] = Counter()
        for key, n in self.counts.items():
            kind, status = key.split(":")
            by_kind[kind] += n
            by_status[status] += n
        return {
            "requests_total": sum(self.counts.values()),
            "by_kind": dict(by_kind),
            "by_status": dict(by_status),
            "token_refreshes": dict(self.refreshes),
            "client_disconnects": self.disconnects,
            "faults_applied": self.faults.applied_counts(),
            "signatures_issued": len(self.signatures),
            "accounts": len(self.accounts),
            "live_access_tokens": sum(
                1 for r in self.tokens.values() if r.expires_at > time.time()
            ),
        }
