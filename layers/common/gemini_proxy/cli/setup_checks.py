"""What the wizard finds and how it checks each credential against Google, live.

Found: everything the proxy itself would load (`load_credentials`: the credentials folder, the
config's key lists, `GEMINI_API_KEY_<n>`), plus Gemini CLI's own login in
`~/.gemini/oauth_creds.json` when the folder does not have that account yet. OAuth files that
cannot be used are listed by name with the reason, never with their text.

Checked: an AI Studio key with `AiStudioClient.probe` (reads one model's metadata, costs no
quota); an OAuth account with a token refresh (its stored access token is ignored so the refresh
token itself is proven) and `loadCodeAssist` through the project resolver, as the proxy does on
first use (an account with no Code Assist tier yet is onboarded to the free tier there, exactly
as Gemini CLI and the proxy would). Both run on a private in-memory store, so a check never
changes the pool's shared state. Verdicts come from the classifier's `Failure`.
"""

import asyncio
import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from gemini_proxy.config import Config
from gemini_proxy.credentials.files import JSON_KEY_FILE
from gemini_proxy.credentials.models import Credential, OAuthSeed
from gemini_proxy.credentials.oauth_files import (
    NotOAuthCreds,
    oauth_credential,
    parse_oauth_creds,
)
from gemini_proxy.credentials.sources import load_credentials
from gemini_proxy.pool.recheck import PROBE_MODEL
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.upstream.ai_studio import AiStudioClient
from gemini_proxy.upstream.classify import Failure, FailureKind, UpstreamError, redact
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.oauth import OAuthClient, TokenManager
from gemini_proxy.upstream.projects import ProjectResolver
from gemini_proxy.upstream.shared import SharedValues

# A check that takes longer than this says "could not tell" instead of holding the wizard.
CHECK_TIMEOUT_SECONDS = 30.0
CONCURRENT_CHECKS = 6


@dataclass(frozen=True)
class FileProblem:
    name: str
    reason: str  # unreadable | not_json | not_object | no_refresh_token


@dataclass
class Discovery:
    credentials: list[Credential] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    # Gemini CLI's login, when the credentials folder lacks that account.
    gemini_cli: Credential | None = None
    gemini_cli_path: Path | None = None


def discover(config: Config, creds_dir: Path, home: Path, environ: Mapping[str, str]) -> Discovery:
    found = Discovery(credentials=load_credentials(config, creds_dir, environ))
    found.problems = oauth_file_problems(creds_dir)
    path = home / ".gemini" / "oauth_creds.json"
    try:
        account = parse_oauth_creds(path.read_text(encoding="utf-8-sig"), str(path))
    except (OSError, UnicodeDecodeError, NotOAuthCreds):
        return found
    if all(c.fingerprint != account.fingerprint for c in found.credentials):
        found.gemini_cli, found.gemini_cli_path = account, path
    return found


def oauth_file_problems(folder: Path) -> list[FileProblem]:
    # The same reading `load_oauth_accounts` does, kept here to tell a person which file is
    # skipped and why (the loader only logs it). Reasons are codes the wizard translates.
    if not folder.is_dir():
        return []
    problems = []
    for path in sorted(folder.glob("*.json")):
        if path.name == JSON_KEY_FILE or not path.is_file():
            continue
        reason = _oauth_file_problem(path)
        if reason is not None:
            problems.append(FileProblem(path.name, reason))
    return problems


def _oauth_file_problem(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        return "unreadable"
    except ValueError:
        return "not_json"
    if not isinstance(data, dict):
        return "not_object"
    try:
        oauth_credential(data, path.name)
    except NotOAuthCreds:
        return "no_refresh_token"
    return None


class Verdict(StrEnum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    INVALID = "invalid"
    UNKNOWN = "unknown"  # Google could not be asked, or answered something that proves nothing


_LIMITED = {FailureKind.RATE_LIMITED, FailureKind.DAILY_QUOTA, FailureKind.QUOTA_EXHAUSTED}
_DEAD = {FailureKind.INVALID_CREDENTIAL, FailureKind.NOT_PROVISIONED, FailureKind.UNAUTHENTICATED}


@dataclass(frozen=True)
class CheckResult:
    credential: Credential
    verdict: Verdict
    failure: Failure | None = None
    tier: str | None = None  # OAuth accounts: the Code Assist tier found


def verdict_of(failure: Failure | None) -> Verdict:
    if failure is None:
        return Verdict.OK
    if failure.kind in _LIMITED:
        return Verdict.RATE_LIMITED
    if failure.kind in _DEAD:
        return Verdict.INVALID
    return Verdict.UNKNOWN


def scrub(text: str, credentials: list[Credential]) -> str:
    """Google's text with every known secret replaced by its fingerprint, as a last guard."""
    text = redact(text)
    for credential in credentials:
        if credential.secret:
            text = text.replace(credential.secret, f"<{credential.fingerprint}>")
    return text


class Checker:
    def __init__(self, config: Config) -> None:
        upstream = config.upstream
        self._http = HttpClient(upstream.connect_timeout_seconds, CHECK_TIMEOUT_SECONDS)
        self._ai_studio = AiStudioClient(self._http, upstream.ai_studio_base_url)
        oauth = config.oauth
        shared = SharedValues(MemoryStore(), oauth.refresh_lease_seconds)
        client = OAuthClient(upstream.oauth_token_url, oauth.client_id, oauth.client_secret)
        self._tokens = TokenManager(self._http, shared, client, oauth.refresh_margin_seconds)
        self._projects = ProjectResolver(
            self._http,
            upstream.code_assist_base_url,
            shared,
            oauth.onboard_poll_seconds,
            min(oauth.onboard_timeout_seconds, CHECK_TIMEOUT_SECONDS),
        )

    async def check(self, credential: Credential) -> CheckResult:
        tier = None
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                if credential.kind == "ai_studio":
                    await self._ai_studio.probe(credential, PROBE_MODEL)
                else:
                    tier = await self._check_account(credential)
        except UpstreamError as exc:
            return CheckResult(credential, verdict_of(exc.failure), exc.failure)
        except TimeoutError:
            failure = Failure(FailureKind.UNAVAILABLE, 0, "no answer in time", "TIMEOUT")
            return CheckResult(credential, Verdict.UNKNOWN, failure)
        return CheckResult(credential, Verdict.OK, tier=tier)

    async def _check_account(self, credential: Credential) -> str | None:
        # Without its saved access token, the account must refresh: that is what proves the
        # refresh token (the thing the proxy keeps using) still works.
        project = credential.seed.project_id if credential.seed else None
        bare = dataclasses.replace(credential, seed=OAuthSeed(project_id=project))
        token = await self._tokens.access_token(bare)
        _, tier = await self._projects.discover(bare, token)
        return tier

    async def close(self) -> None:
        await self._http.close()


async def check_all(
    config: Config,
    credentials: list[Credential],
    on_progress: Callable[[int, int], None],
) -> list[CheckResult]:
    """Every credential checked, a few at a time; results in the order given."""
    checker = Checker(config)
    limit = asyncio.Semaphore(CONCURRENT_CHECKS)
    done = 0
    on_progress(0, len(credentials))

    async def one(credential: Credential) -> CheckResult:
        nonlocal done
        async with limit:
            result = await checker.check(credential)
        done += 1
        on_progress(done, len(credentials))
        return result

    try:
        return list(await asyncio.gather(*(one(c) for c in credentials)))
    finally:
        await checker.close()
