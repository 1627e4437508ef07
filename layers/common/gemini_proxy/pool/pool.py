"""The credential pool: which credentials may serve a model now, in what order, and what a
failure does to them.

State is shared through the state store but read through an in-process copy refreshed every
`cache_seconds`, so a steady request costs no store call; only a transition (a bench, an
invalidation, a restore) writes, with a compare-and-set so concurrent instances lose nothing.
"""

import asyncio
import contextlib
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from gemini_proxy.credentials.models import Credential, CredentialKind
from gemini_proxy.logs import logger
from gemini_proxy.metrics import metrics
from gemini_proxy.pool import health
from gemini_proxy.pool.health import ANY_MODEL, NAMESPACE, Entry, Rules, Status
from gemini_proxy.state.base import StateStore, change_marker
from gemini_proxy.upstream.classify import Failure, FailureKind

# Attempts at a compare-and-set before giving up on recording a transition.
WRITE_ATTEMPTS = 8
# After a Google-side failure, a credential goes to the back of the order for this long.
TROUBLE_SECONDS = 3.0
# An unexplained failure points at its credential only if another credential answered the same
# model this recently (and since the credential's previous unexplained failure).
EVIDENCE_SECONDS = 60.0
# Google-side failures in a row on one model, with no answer between them, that mean Google
# is failing for everyone (an incident) rather than for one request. "Overloaded" answers do
# not count: a request never retries those on the same credential anyway.
OUTAGE_STREAK = 12
# Per-model caches hold at most this many models: a client may invent model names, and each
# must not cost memory for the life of the process. Past the bound they are rebuilt on demand.
MAX_CACHED_MODELS = 256


@dataclass(frozen=True)
class Ordering:
    mode: str = "fallback"  # fallback | combined | disabled
    prefer_ai_studio_for_pro: bool = False


@dataclass
class Counters:
    requests: Counter[str] = field(default_factory=Counter)  # per fingerprint, this instance
    failures: Counter[str] = field(default_factory=Counter)
    last_failure: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    candidates: list[Credential]  # usable now, in the order to try them
    probes: list[Credential]  # INVALID ones due for a recheck; tried last
    retry_after: float | None  # seconds until the first benched one recovers, if none usable


class CredentialPool:
    def __init__(
        self,
        credentials: Sequence[Credential],
        store: StateStore,
        rules: Rules,
        ordering: Ordering,
        cache_seconds: float,
        rules_for: Callable[[Credential], Rules] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = list(credentials)
        self._store = store
        self._rules = rules
        self._rules_for = rules_for
        self._ordering = ordering
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._entries: dict[str, tuple[Entry, int]] = {}  # key -> (entry, version)
        # Transitions this process has decided but not yet written: they count at once.
        self._pending: dict[str, Entry] = {}
        self._generation = 0  # bumped on every change of _entries or _pending
        self._views: dict[str, tuple[int, float, list[list[Credential]], list[Credential]]] = {}
        self._loaded_at: float | None = None
        self._loaded_marker: object | None = None
        self._load_lock = asyncio.Lock()
        # Each instance starts its rotation at a random place: fair across many instances
        # without a shared cursor row that every request would have to write.
        self._cursors: dict[str, int] = {}
        self._random_start = random.randrange(1 << 30)  # noqa: S311 (not security)
        self.counters = Counters()
        # Told of every failed attempt (the usage book counts them); must not block or raise.
        self.on_failure: Callable[[Credential, str, Failure], None] | None = None
        # A credential this process has not yet seen answer carries one request at a time:
        # a dead key loaded at start then costs one failed request, not one per client.
        self._proven: set[str] = set()
        self._unproven_busy: set[str] = set()
        self._settled = asyncio.Event()
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._troubled: dict[tuple[str, str], float] = {}
        # Evidence, local to this process: when each credential last answered each model, when
        # each last failed unexplained, and Google-side failures in a row per model.
        self._answered: dict[str, dict[str, float]] = {}
        self._unexplained_at: dict[str, float] = {}
        self._google_streak: dict[str, int] = {}

    # --- reading -------------------------------------------------------------------------

    def _cache_valid(self) -> bool:
        if self._loaded_at is None or time.monotonic() - self._loaded_at >= self._cache_seconds:
            return False
        marker = change_marker(self._store)
        return marker is None or marker == self._loaded_marker

    async def _fresh(self) -> None:
        if self._cache_valid():
            return
        async with self._load_lock:
            if self._cache_valid():
                return
            marker = change_marker(self._store)
            try:
                records = await self._store.query(NAMESPACE)
            except Exception:
                # The store is down or locked: go on with what this process knows, and
                # try again after a cache period rather than on every request.
                logger.exception("could not read the pool state; using the cached copy")
                self._loaded_at = time.monotonic()
                return
            self._entries = {r.key: (Entry.from_data(r.data), r.version) for r in records}
            self._generation += 1
            self._loaded_at = time.monotonic()
            self._loaded_marker = marker

    async def refresh(self) -> None:
        """Pick up other processes' transitions if the store says there are any (SQLite: a
        file read; otherwise once per cache period): before each attempt, not only before
        each request, since a request's earlier attempts may take a while."""
        await self._fresh()

    def entry(self, credential: Credential, model: str) -> Entry:
        record_key = health.key(credential.fingerprint, model)
        pending = self._pending.get(record_key)
        if pending is not None:
            return pending
        found = self._entries.get(record_key)
        return found[0] if found else Entry()

    def _usable(self, credential: Credential, model: str, now: float) -> bool:
        return self.entry(credential, ANY_MODEL).usable(now) and self.entry(
            credential, model
        ).usable(now)

    def members(self) -> list[Credential]:
        """The credentials selection may use (fallback_mode disabled leaves fallback keys out)."""
        if self._ordering.mode == "disabled":
            return [c for c in self.credentials if c.kind != "ai_studio" or c.pool == "primary"]
        return self.credentials

    def _tiers(self, model: str) -> list[list[Credential]]:
        members = self.members()
        if self._ordering.mode == "combined":
            return [list(members)]
        primary = [c for c in members if c.pool == "primary"]
        fallback = [c for c in members if c.pool != "primary"]
        if self._ordering.prefer_ai_studio_for_pro and "-pro" in model:
            studio = [c for c in members if c.kind == "ai_studio"]
            others = [c for c in members if c.kind != "ai_studio"]
            return [studio, others]
        return [primary, fallback]

    def _rotate(self, model: str, tier: list[Credential], tier_index: int) -> list[Credential]:
        if not tier:
            return []
        cursor_key = f"{model}#{tier_index}"
        if cursor_key not in self._cursors and len(self._cursors) >= 2 * MAX_CACHED_MODELS:
            self._cursors.clear()  # rotation restarts at a random place: still fair
        cursor = self._cursors.get(cursor_key, self._random_start)
        self._cursors[cursor_key] = cursor + 1
        start = cursor % len(tier)
        return tier[start:] + tier[:start]

    async def select(self, model: str, kinds: frozenset[CredentialKind] | None = None) -> Selection:
        """Who may serve `model` now; `kinds` limits it to credentials of those kinds (an
        endpoint only AI Studio has)."""
        await self._fresh()
        now = self._clock()

        def wanted(credential: Credential) -> bool:
            return kinds is None or credential.kind in kinds

        tiers, due = self._view(model, now)
        candidates: list[Credential] = []
        for index, tier in enumerate(tiers):
            usable = tier if kinds is None else [c for c in tier if wanted(c)]
            rotated = self._rotate(model, usable, index)
            if self._troubled:
                # Stable: the rotation stays fair among the untroubled.
                rotated.sort(key=lambda c: self._troubled_now(c, model, now))
            candidates += rotated
        probes = due if kinds is None else [c for c in due if wanted(c)]
        retry_after = None if candidates else self._earliest_recovery(model, now, wanted)
        return Selection(candidates, probes, retry_after)

    def _view(self, model: str, now: float) -> tuple[list[list[Credential]], list[Credential]]:
        """Usable credentials per tier and the probes due, computed once per state change.

        The steady path then only rotates a ready list: the answer can change only when the
        state does (a load or a write) or when a bench or a recheck time passes.
        """
        cached = self._views.get(model)
        if cached is not None and cached[0] == self._generation and now < cached[1]:
            return cached[2], cached[3]
        tiers = [[c for c in tier if self._usable(c, model, now)] for tier in self._tiers(model)]
        due = [c for c in self.credentials if self._due_for_recheck(c, now)]
        horizon = float("inf")
        for credential in self.credentials:
            for entry in (self.entry(credential, ANY_MODEL), self.entry(credential, model)):
                for moment in (entry.cooldown_until, entry.recheck_after):
                    if now < moment < horizon:
                        horizon = moment
        if len(self._views) >= MAX_CACHED_MODELS:
            self._views.clear()
        self._views[model] = (self._generation, horizon, tiers, due)
        return tiers, due

    def _troubled_now(self, credential: Credential, model: str, now: float) -> bool:
        until = self._troubled.get((credential.fingerprint, model))
        return until is not None and until > now

    def _due_for_recheck(self, credential: Credential, now: float) -> bool:
        whole = self.entry(credential, ANY_MODEL)
        return whole.status is Status.INVALID and whole.recheck_after <= now

    def available_counts(self, models: list[str]) -> dict[str, int]:
        """Credentials usable now per model, from the cached state (no store call)."""
        now = self._clock()
        return {m: sum(len(tier) for tier in self._view(m, now)[0]) for m in models}

    def retry_after(self, model: str) -> float | None:
        """Seconds until the first benched credential for `model` recovers (None: none will)."""
        return self._earliest_recovery(model, self._clock())

    def _earliest_recovery(
        self,
        model: str,
        now: float,
        wanted: Callable[[Credential], bool] = lambda credential: True,
    ) -> float | None:
        times = []
        for credential in self.credentials:
            if not wanted(credential) or not self.entry(credential, ANY_MODEL).usable(now):
                continue
            until = self.entry(credential, model).cooldown_until
            if until > now:
                times.append(until - now)
        return min(times) if times else None

    # --- the one-request gate for unproven credentials --------------------------------------

    def acquire(self, credential: Credential, model: str) -> bool:
        """May a request go to `credential` now? Pair every True with `release`.

        Checked again right before each attempt: another request may have benched the
        credential since this one chose its order.
        """
        if not self._usable(credential, model, self._clock()) and not self._due_for_recheck(
            credential, self._clock()
        ):
            return False
        fingerprint = credential.fingerprint
        if fingerprint in self._proven:
            return True
        if fingerprint in self._unproven_busy:
            return False
        self._unproven_busy.add(fingerprint)
        return True

    def busy_unproven(self, credential: Credential) -> bool:
        return credential.fingerprint in self._unproven_busy

    def release(self, credential: Credential) -> None:
        if credential.fingerprint in self._unproven_busy:
            self._unproven_busy.discard(credential.fingerprint)
            self._settled.set()
            self._settled = asyncio.Event()

    async def settled(self, seconds: float) -> None:
        """Wait until some unproven credential's request has ended (or `seconds` pass)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), seconds)

    # --- writing -------------------------------------------------------------------------

    async def claim_probe(self, credential: Credential) -> bool:
        """Take the right to probe an INVALID credential; one instance per recheck interval."""
        now = self._clock()
        rules = self._rules_of(credential)

        def push_back(current: Entry) -> Entry | None:
            if current.status is not Status.INVALID or current.recheck_after > now:
                return None
            return replace(current, recheck_after=now + rules.recheck_interval)

        return await self._transition(credential, ANY_MODEL, push_back) is not None

    async def record_failure(self, credential: Credential, model: str, failure: Failure) -> None:
        self.counters.failures[credential.fingerprint] += 1
        self.counters.last_failure[credential.fingerprint] = failure.kind.value
        if self.on_failure is not None:
            self.on_failure(credential, model, failure)
        if failure.kind is FailureKind.UNAVAILABLE:
            self._google_trouble(credential, model, failure)
        where = health.scope(failure)
        if where is None:
            return
        if failure.kind in health.UNEXPLAINED and not self._points_at(credential, model):
            # Nobody else answered either: Google (or the network) failing for everyone must
            # not count against each key in turn until the whole pool is benched.
            return
        rules = self._rules_of(credential)
        target = ANY_MODEL if where == ANY_MODEL else model
        now = self._clock()
        changed = await self._transition(
            credential, target, lambda current: health.after_failure(current, failure, rules, now)
        )
        if changed is not None and changed.status is Status.INVALID:
            self._proven.discard(credential.fingerprint)
        if changed is not None and changed.status is not Status.AVAILABLE:
            metrics.bench(failure.kind.value)
        if changed is not None:
            logger.warning(
                "credential state changed",
                extra={
                    "credential": credential.fingerprint,
                    "model": target,
                    "status": changed.status.value,
                    "reason": changed.reason,
                    "cooldown_seconds": round(max(0.0, changed.cooldown_until - now), 1),
                },
            )

    def _google_trouble(self, credential: Credential, model: str, failure: Failure) -> None:
        # No bench for Google's own trouble, but this process tries others first for a
        # moment (local only: nothing is written).
        now = self._clock()
        if len(self._troubled) >= MAX_CACHED_MODELS:
            self._troubled = {k: t for k, t in self._troubled.items() if t > now}
        self._troubled[(credential.fingerprint, model)] = now + TROUBLE_SECONDS
        if failure.busy:
            return  # never retried within a request (attempts.py): nothing to damp
        if model not in self._google_streak and len(self._google_streak) >= MAX_CACHED_MODELS:
            self._google_streak.clear()
        self._google_streak[model] = self._google_streak.get(model, 0) + 1

    def google_failing(self, model: str) -> bool:
        """Has Google failed on its side (5xx other than 503, no answer) OUTAGE_STREAK times
        in a row for `model`, with no answer between? Then retrying a request on every
        credential, pass after pass, would only multiply the load of an incident."""
        return self._google_streak.get(model, 0) >= OUTAGE_STREAK

    def _points_at(self, credential: Credential, model: str) -> bool:
        """Does an unexplained failure of `credential` point at it: did another credential
        answer `model` recently, and since this one's previous unexplained failure?"""
        now = self._clock()
        since = max(now - EVIDENCE_SECONDS, self._unexplained_at.get(credential.fingerprint, 0.0))
        self._unexplained_at[credential.fingerprint] = now
        answered = self._answered.get(model, {})
        return any(at > since for fp, at in answered.items() if fp != credential.fingerprint)

    async def record_success(self, credential: Credential, model: str) -> None:
        self.counters.requests[credential.fingerprint] += 1
        self._proven.add(credential.fingerprint)
        self._google_streak.pop(model, None)
        if model not in self._answered and len(self._answered) >= MAX_CACHED_MODELS:
            self._answered.clear()
        self._answered.setdefault(model, {})[credential.fingerprint] = self._clock()
        whole = self.entry(credential, ANY_MODEL)
        if whole.failures == 0 and whole.status is Status.AVAILABLE:
            return  # the steady path: nothing to write
        now = self._clock()
        await self._transition(credential, ANY_MODEL, lambda current: health.restored(now))
        logger.info("credential restored", extra={"credential": credential.fingerprint})

    def _rules_of(self, credential: Credential) -> Rules:
        return self._rules_for(credential) if self._rules_for else self._rules

    async def _transition(
        self, credential: Credential, model: str, change: Callable[[Entry], Entry | None]
    ) -> Entry | None:
        """Apply `change` with compare-and-set, re-reading on conflict. The new entry or None."""
        record_key = health.key(credential.fingerprint, model)
        # Known to this process at once: the write below may take a while (SQLite in a worker
        # thread, DynamoDB over the network, behind other transitions of the record), and no
        # request of this process may go to a credential it already knows is benched.
        early = change(self.entry(credential, model))
        if early is not None:
            self._pending[record_key] = early
            self._generation += 1
        try:
            # One transition per record at a time in this process: concurrent failures of one
            # credential then queue here instead of racing each other through the store.
            async with self._locks[record_key]:
                return await self._write_or_keep(record_key, change)
        finally:
            if early is not None and self._pending.get(record_key) is early:
                del self._pending[record_key]  # a later transition's stays until it is written
                self._generation += 1

    async def _write_or_keep(
        self, record_key: str, change: Callable[[Entry], Entry | None]
    ) -> Entry | None:
        try:
            return await self._write(record_key, change)
        except Exception:
            # Not shared, but not lost for this process: apply it to the local copy.
            logger.exception("could not record a credential transition; kept locally")
            current, version = self._entries.get(record_key, (Entry(), 0))
            new = change(current)
            if new is not None:
                self._entries[record_key] = (new, version)
                self._generation += 1
            return new

    async def _write(
        self, record_key: str, change: Callable[[Entry], Entry | None]
    ) -> Entry | None:
        current, version = self._entries.get(record_key, (Entry(), 0))
        for _ in range(WRITE_ATTEMPTS):
            new = change(current)
            if new is None:
                return None
            expires_at = None
            if new.status is Status.RATE_LIMITED:
                expires_at = new.cooldown_until + health.MEMORY_SECONDS
            stored = await self._store.put(
                NAMESPACE, record_key, new.to_data(), version, expires_at
            )
            if stored is not None:
                self._entries[record_key] = (new, stored.version)
                self._generation += 1
                return new
            # Someone else wrote first: start again from what they wrote.
            latest = await self._store.get(NAMESPACE, record_key)
            current, version = (
                (Entry.from_data(latest.data), latest.version) if latest else (Entry(), 0)
            )
            self._entries[record_key] = (current, version)
            self._generation += 1
        logger.warning("gave up recording a credential transition", extra={"key": record_key})
        return None

    # --- the admin view ------------------------------------------------------------------

    async def report(
        self, shown: Callable[[str], bool] = lambda model: True
    ) -> list[dict[str, object]]:
        """Every credential's state; per-model entries only for models `shown` accepts."""
        await self._fresh()
        now = self._clock()
        rows: list[dict[str, object]] = []
        for credential in self.credentials:
            fingerprint = credential.fingerprint
            models = {}
            for record_key, (entry, _) in self._entries.items():
                owner, _, model = record_key.partition("#")
                if owner != fingerprint or model == ANY_MODEL or not shown(model):
                    continue
                models[model] = _describe(entry, now)
            whole = self.entry(credential, ANY_MODEL)
            rows.append(
                {
                    "fingerprint": fingerprint,
                    "kind": credential.kind,
                    "pool": credential.pool,
                    "source": credential.source,
                    "state": _describe(whole, now),
                    "models": models,
                    "last_error": self.counters.last_failure.get(fingerprint),
                    "requests": self.counters.requests[fingerprint],
                    "failures": self.counters.failures[fingerprint],
                }
            )
        return rows


def _describe(entry: Entry, now: float) -> dict[str, object]:
    status = entry.status
    if status is Status.RATE_LIMITED and entry.cooldown_until <= now:
        status = Status.AVAILABLE
    described: dict[str, object] = {"status": status.value}
    if status is Status.RATE_LIMITED:
        described["cooldown_remaining_seconds"] = round(entry.cooldown_until - now, 1)
    if status is Status.INVALID:
        described["recheck_in_seconds"] = round(max(0.0, entry.recheck_after - now), 1)
    if entry.reason and status is not Status.AVAILABLE:
        described["reason"] = entry.reason
        described["message"] = entry.message
    if entry.failures:
        described["consecutive_failures"] = entry.failures
    return described
