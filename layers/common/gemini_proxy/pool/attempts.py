"""The attempt policy: which credential a request tries next, and when it stops trying.

A request walks the pool's order for the model (usable credentials, rotated, those Google just
failed on last), one attempt per credential: a *pass*. What a failure means decides what happens
to its credential for the rest of the request:

- the credential's own (a 429, a dead key, a bad or unexplained answer): out. The pool has
  benched or counted it; the next credential goes.
- Google busy (503 overloaded, no capacity for the model): out too. Another credential may have
  room; the same one a moment later seldom does.
- Google failing at random (500, 502, 504, no answer): in for the next pass. A connection lost
  before any byte of an answer goes once more within the same pass, after the others (at once
  when it is the only one): that is usually a stale connection, not Google.
- the request's own (400, 404): the caller stops; no credential would answer otherwise.

Passes repeat after a short, growing backoff while some credential is still in. A request makes
at most `max_attempts` x (credentials it found usable) attempts, a bound that grows with the
pool (a credential whose bench ends during the request adds to it), shared by all: one that is
out early leaves its share to those still in. The one retry after a lost connection comes on
top. No attempt starts after the failover deadline.
When Google is failing for everyone (`CredentialPool.google_failing`), a request stops after
`max_attempts` attempts in all, as it did before: an incident must not be multiplied by the
size of the pool.

A request may name a credential it would rather have (`prefer`): the one that issued the thought
signatures its history carries, which only that credential can verify. If the pool offers it,
it goes first; it is never added when the pool would not offer it.
"""

import asyncio
import random
import time

from gemini_proxy.credentials.models import Credential, CredentialKind
from gemini_proxy.errors import NoCredentials, ProxyError
from gemini_proxy.pool.pool import CredentialPool
from gemini_proxy.pool.verdicts import all_benched, all_invalid
from gemini_proxy.upstream.classify import Failure, FailureKind

# Before the second pass; doubled before each later one up to the cap, with jitter so that the
# requests that met one failing moment do not all come back at the same instant.
BACKOFF_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 2.0


class AttemptPlan:
    """One request's attempts. `next()` gives a credential the pool let it acquire (the caller
    releases it), `failed()` says how that attempt ended; None from `next()` means stop."""

    def __init__(
        self,
        pool: CredentialPool,
        model: str,
        kinds: frozenset[CredentialKind] | None,
        max_attempts: int,
        deadline_seconds: float,
        max_wait_seconds: float = 0.0,
        prefer: str | None = None,
    ) -> None:
        self.pool = pool
        self.model = model
        self.kinds = kinds
        self._prefer = prefer
        self.failures: list[Failure] = []
        self.attempts = 0
        self._max_attempts = max_attempts
        self._max_wait = max_wait_seconds
        self._deadline = time.monotonic() + deadline_seconds
        self._seen: set[str] = set()  # every credential the pool offered this request
        self._passes = 0
        self._queue: list[Credential] = []  # the rest of the current pass, in order
        self._tried: set[str] = set()  # in the current pass
        self._out: set[str] = set()  # failed on their own account: not again in this request
        self._google_failed = False  # in the current pass: another pass may help
        self._reconnected: set[str] = set()  # had their one retry after a lost connection
        self._waiting = False  # skipped a credential busy with its first request elsewhere
        self._just_selected = False  # the pool's view was refreshed for this very choice

    async def next(self) -> Credential | None:
        while True:
            if self._stopped():
                return None
            while self._queue:
                credential = self._queue.pop(0)
                if not self._just_selected:
                    # Earlier attempts took a while: another process may have benched it.
                    await self.pool.refresh()
                self._just_selected = False
                if not self.pool.acquire(credential, self.model):
                    # Benched meanwhile, or unproven and busy with another request.
                    self._waiting = self._waiting or self.pool.busy_unproven(credential)
                    continue
                self._tried.add(credential.fingerprint)
                self.attempts += 1
                return credential
            if not await self._refill():
                return None

    def failed(self, credential: Credential, failure: Failure, before_any_byte: bool) -> None:
        self.failures.append(failure)
        fingerprint = credential.fingerprint
        if failure.kind is not FailureKind.UNAVAILABLE or failure.busy:
            self._out.add(fingerprint)
            return
        if failure.connection_lost and before_any_byte and fingerprint not in self._reconnected:
            self._reconnected.add(fingerprint)  # its retry is not counted against the budget
            self._queue.append(credential)
            return
        self._google_failed = True

    def _stopped(self) -> bool:
        if not self.failures:
            return False  # the first attempt always goes
        budget = self._max_attempts * max(1, len(self._seen)) + len(self._reconnected)
        if time.monotonic() > self._deadline or self.attempts >= budget:
            return True
        return self.attempts >= self._max_attempts and self.pool.google_failing(self.model)

    async def _refill(self) -> bool:
        """Queue what comes next: the rest of this pass once an unproven credential is free,
        or the next pass after a backoff. False: nothing more to try."""
        if self._passes == 0:
            self._start_pass(await self._select(first=True))
            return True
        remaining = self._deadline - time.monotonic()
        waiting, self._waiting = self._waiting, False
        if waiting and not self._google_failed and remaining > 0:
            # Nothing else to try: wait for the credential another request is proving. With
            # something to retry, the next pass comes first (and offers that one again).
            await self.pool.settled(remaining)
            return self._continue_pass(await self._select(first=False))
        if not self._google_failed:
            return False
        backoff = min(BACKOFF_SECONDS * 2 ** (self._passes - 1), MAX_BACKOFF_SECONDS)
        backoff *= random.uniform(0.5, 1.5)  # noqa: S311 (jitter, not security)
        if backoff >= remaining:
            return False
        await asyncio.sleep(backoff)
        self._start_pass(await self._select(first=False))
        return bool(self._queue)

    def _start_pass(self, order: list[Credential]) -> None:
        self._passes += 1
        self._tried = set()
        self._google_failed = False
        self._queue = [c for c in order if c.fingerprint not in self._out]
        if self._prefer is not None:
            self._queue.sort(key=lambda c: c.fingerprint != self._prefer)  # stable
        self._seen.update(c.fingerprint for c in order)
        self._just_selected = True

    def _continue_pass(self, order: list[Credential]) -> bool:
        skip = self._out | self._tried
        self._queue = [c for c in order if c.fingerprint not in skip]
        self._seen.update(c.fingerprint for c in order)
        self._just_selected = True
        return bool(self._queue) or self._google_failed

    async def _select(self, first: bool) -> list[Credential]:
        """The pool's order now. Only the first selection reports that nothing can serve
        (no credentials, all benched, all invalid); later ones end the request quietly."""
        try:
            return await self._candidates(wait=self._max_wait if first else 0.0)
        except ProxyError:
            if first:
                raise
            return []

    async def _candidates(self, wait: float) -> list[Credential]:
        pool = self.pool
        if not pool.credentials:
            raise NoCredentials(
                "No Gemini credentials are loaded. Put AI Studio API keys "
                "('ai_studio_keys.txt', one a line) or Gemini CLI OAuth accounts "
                "(oauth_creds.json files) in the 'oauth creds' folder and restart the proxy.",
                code="no_credentials",
            )
        kinds = self.kinds
        if kinds is not None and not any(c.kind in kinds for c in pool.members()):
            raise NoCredentials(
                f"This request needs a credential of kind {', '.join(sorted(kinds))}, and none "
                "is loaded: Gemini CLI OAuth accounts (Code Assist) cannot serve it. Add AI "
                "Studio API keys to 'oauth creds/ai_studio_keys.txt' and restart the proxy.",
                code="no_credentials",
            )
        waited = 0.0
        while True:
            selection = await pool.select(self.model, kinds)
            order = list(selection.candidates)
            for probe in selection.probes[:1]:
                # A credential benched as INVALID gets one request per recheck interval.
                if await pool.claim_probe(probe):
                    order.append(probe)
            if order:
                return order
            recovery = selection.retry_after
            if recovery is None:
                raise all_invalid()
            if waited + recovery > wait:
                raise all_benched(recovery)
            await asyncio.sleep(recovery)
            waited += recovery
