"""What the wizard shows: what it found, the live checks (with a progress bar), the review.

Credentials appear only by kind and fingerprint; Google's messages pass through `scrub` so a
key Google quotes back is never shown either.
"""

from collections import Counter
from collections.abc import Callable
from typing import TextIO

from gemini_proxy.cli.i18n import Messages
from gemini_proxy.cli.setup_checks import CheckResult, Discovery, Verdict, scrub
from gemini_proxy.credentials.models import Credential
from gemini_proxy.upstream.classify import UNSUPPORTED_CLIENT

BAR_WIDTH = 30
KIND_NAMES = {"ai_studio": "AI Studio", "oauth": "OAuth"}


def progress_bar(out: TextIO) -> Callable[[int, int], None]:
    """A redrawn bar on a terminal; elsewhere (a log, a pipe) one line at the end."""
    terminal = out.isatty()

    def show(done: int, total: int) -> None:
        if not terminal and done < total:
            return
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        ending = "\n" if done >= total else ""
        print(f"\r  [{bar}] {done}/{total}", end=ending, file=out, flush=True)

    return show


def counts(credentials: list[Credential]) -> tuple[int, int]:
    kinds = Counter(c.kind for c in credentials)
    return kinds["ai_studio"], kinds["oauth"]


def discovery_lines(m: Messages, found: Discovery, folder: str) -> list[str]:
    ai_studio, oauth = counts(found.credentials)
    lines = [m("found.folder", folder=folder), m("found.counts", ai=ai_studio, oauth=oauth)]
    lines += [
        m("found.problem", name=p.name, reason=m(f"problem.{p.reason}")) for p in found.problems
    ]
    if not found.credentials and found.gemini_cli is None:
        lines.append(m("found.none", folder=folder))
    if oauth or found.gemini_cli is not None:
        lines.append(m("found.oauth_notice"))
    if found.gemini_cli is not None:
        lines.append(
            m(
                "found.gemini_cli",
                path=found.gemini_cli_path,
                fingerprint=found.gemini_cli.fingerprint,
            )
        )
    return lines


def result_line(m: Messages, result: CheckResult, everyone: list[Credential]) -> str:
    failure = result.failure
    message = scrub(failure.message, everyone) if failure else ""
    reason = (failure.reason if failure else None) or "-"
    if result.verdict is Verdict.OK:
        verdict = m("verdict.ok_tier", tier=result.tier) if result.tier else m("verdict.ok")
    elif result.verdict is Verdict.RATE_LIMITED and failure and failure.cooldown_seconds:
        seconds = round(failure.cooldown_seconds)
        verdict = m("verdict.rate_limited_for", seconds=seconds, reason=reason, message=message)
    elif result.verdict is Verdict.RATE_LIMITED:
        verdict = m("verdict.rate_limited", reason=reason, message=message)
    elif result.verdict is Verdict.INVALID and reason == UNSUPPORTED_CLIENT:
        source = result.credential.source or result.credential.fingerprint
        verdict = m("verdict.unsupported_client", source=source)
    elif result.verdict is Verdict.INVALID:
        verdict = m("verdict.invalid", reason=reason, message=message)
    else:
        verdict = m("verdict.unknown", reason=reason, message=message)
    credential = result.credential
    return m(
        "result.line",
        kind=KIND_NAMES[credential.kind].ljust(9),
        fingerprint=credential.fingerprint,
        verdict=verdict,
    )


def summary(m: Messages, results: list[CheckResult] | None) -> str:
    if results is None:
        return m("summary.unchecked")
    verdicts = Counter(r.verdict for r in results)
    return m(
        "summary.checked",
        ok=verdicts[Verdict.OK],
        limited=verdicts[Verdict.RATE_LIMITED],
        invalid=verdicts[Verdict.INVALID],
        unknown=verdicts[Verdict.UNKNOWN],
    )
