"""Recheck: probe INVALID credentials whose recheck time has come, restore the healthy ones.

Runs on a schedule in AWS (the recheck Lambda) and on demand locally (`gemini-proxy recheck`).
Each probe is claimed with a compare-and-set on the credential's entry first, so two runs at
once never probe the same credential twice, and the claim pushes its next recheck back, so a
run that dies midway leaves nothing half-done. Probes use the cheapest call a kind allows.
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from gemini_proxy.credentials.models import Credential
from gemini_proxy.logs import logger
from gemini_proxy.pool.health import ANY_MODEL, Status
from gemini_proxy.pool.pool import CredentialPool
from gemini_proxy.upstream.classify import Failure, FailureKind, UpstreamError

# A probe: returns normally when the credential works, raises UpstreamError when it does not.
Probe = Callable[[Credential], Awaitable[None]]
PROBE_MODEL = "gemini-2.5-flash"
_WORKS_BUT_LIMITED = {
    FailureKind.RATE_LIMITED,
    FailureKind.DAILY_QUOTA,
    FailureKind.QUOTA_EXHAUSTED,
}


@dataclass
class RecheckReport:
    restored: list[str] = field(default_factory=list)
    still_invalid: dict[str, str] = field(default_factory=dict)  # fingerprint -> reason
    not_due: list[str] = field(default_factory=list)
    claimed_elsewhere: list[str] = field(default_factory=list)
    out_of_time: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "restored": self.restored,
            "still_invalid": self.still_invalid,
            "not_due": self.not_due,
            "claimed_elsewhere": self.claimed_elsewhere,
            "out_of_time": self.out_of_time,
        }


async def recheck(pool: CredentialPool, probe: Probe, deadline: float) -> RecheckReport:
    """Probe what is due before `deadline` (a time.monotonic() value)."""
    report = RecheckReport()
    await pool.select(PROBE_MODEL)  # refreshes the pool's view of the shared state
    now = time.time()
    for credential in pool.credentials:
        fingerprint = credential.fingerprint
        entry = pool.entry(credential, ANY_MODEL)
        if entry.status is not Status.INVALID:
            continue
        if entry.recheck_after > now:
            report.not_due.append(fingerprint)
            continue
        if time.monotonic() >= deadline:
            report.out_of_time.append(fingerprint)
            continue
        if not await pool.claim_probe(credential):
            report.claimed_elsewhere.append(fingerprint)
            continue
        failure = await _probe(probe, credential)
        if await _record(pool, credential, failure) or failure is None:
            report.restored.append(fingerprint)
        else:
            report.still_invalid[fingerprint] = f"{failure.kind.value}: {failure.message}"
    logger.info("recheck finished", extra=report.as_dict())
    return report


async def recheck_one(pool: CredentialPool, probe: Probe, credential: Credential) -> str | None:
    """Probe one credential now, whatever its state or recheck time (an operator asked from
    the dashboard), and record what the probe found as the scheduled recheck does.

    None when it works (an INVALID one is restored), otherwise what is wrong with it. A probe
    costs no quota, so a second one racing the scheduled recheck does no harm.
    """
    await pool.refresh()
    failure = await _probe(probe, credential)
    works = await _record(pool, credential, failure)
    logger.info(
        "recheck of one credential",
        extra={"credential": credential.fingerprint, "works": works},
    )
    if works or failure is None:
        return None
    return f"{failure.kind.value}: {failure.message}"


async def _record(pool: CredentialPool, credential: Credential, failure: Failure | None) -> bool:
    """Record a probe's result; True when it shows the credential works."""
    if failure is None or failure.kind in _WORKS_BUT_LIMITED:
        # A rate limit proves the credential itself is fine again.
        await pool.record_success(credential, PROBE_MODEL)
        if failure is not None:
            await pool.record_failure(credential, PROBE_MODEL, failure)
        return True
    await pool.record_failure(credential, PROBE_MODEL, failure)
    return False


async def _probe(probe: Probe, credential: Credential) -> Failure | None:
    try:
        await probe(credential)
    except UpstreamError as exc:
        return exc.failure
    return None
