"""Which Google Cloud project a Gemini CLI account's Code Assist requests name, found as Gemini
CLI finds it (packages/core/src/code_assist/setup.ts; wire reference §4).

`loadCodeAssist` with the client metadata; an account with a `currentTier` has its project in
the answer. One without is onboarded: `onboardUser` with the default allowed tier (free tier:
no project, Google manages one), a long-running operation polled with `GET /v1internal/{name}`
until done. A project set in the account's file is sent along and wins. Refusals
(`ineligibleTiers`, validation required) become NOT_PROVISIONED with Google's reason and, when
there is one, the URL a person must open; the pool shows that message in the admin view.
An account Google no longer serves through Code Assist at all (`UNSUPPORTED_CLIENT`, since
2026-06-18) gets a message naming its file and what still works (`unsupported_client`).

The project is cached per account in memory and in the store (namespace `oauth_project`), and
discovered by one instance at a time (`shared`).
"""

import asyncio
import time
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_core import to_json

from gemini_proxy.credentials.models import Credential
from gemini_proxy.logs import logger
from gemini_proxy.upstream.classify import UNSUPPORTED_CLIENT, Failure, FailureKind, UpstreamError
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.shared import Produced, SharedValues, failure_data, raise_stored_failure
from gemini_proxy.upstream.wire import WireModel

M = TypeVar("M", bound=WireModel)

NAMESPACE = "oauth_project"
# Projects rarely change, and a 403 from generation makes us forget one at once (`forget`);
# the expiry only keeps the store from holding accounts that are long gone.
PROJECT_MEMORY_SECONDS = 7 * 24 * 3600.0
# Refusals are remembered briefly, so instances do not all ask again; the pool's recheck comes
# later and rediscovers.
FAILURE_MEMORY_SECONDS = 60.0
FREE_TIER = "free-tier"
LEGACY_TIER = "legacy-tier"
# What Gemini CLI sends as `metadata` (its ClientMetadata without a duetProject).
CLIENT_METADATA = {
    "ideType": "IDE_UNSPECIFIED",
    "platform": "PLATFORM_UNSPECIFIED",
    "pluginType": "GEMINI",
}


class Tier(WireModel):
    id: str | None = None
    name: str | None = None
    is_default: bool = False


class IneligibleTier(WireModel):
    reason_code: str | None = None
    reason_message: str | None = None
    tier_id: str | None = None
    validation_url: str | None = None


class LoadCodeAssistResponse(WireModel):
    current_tier: Tier | None = None
    allowed_tiers: list[Tier] = []
    ineligible_tiers: list[IneligibleTier] = []
    cloudaicompanion_project: str | None = None


class ProjectRef(WireModel):
    id: str | None = None


class OnboardResponse(WireModel):
    cloudaicompanion_project: ProjectRef | None = None


class Operation(WireModel):
    name: str | None = None
    done: bool = False
    response: OnboardResponse | None = None


class ProjectResolver:
    def __init__(
        self,
        http: HttpClient,
        base_url: str,
        shared: SharedValues,
        poll_seconds: float,
        timeout_seconds: float,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/") + "/v1internal"
        self._shared = shared
        self._poll = poll_seconds
        self._timeout = timeout_seconds
        self._projects: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def project(self, credential: Credential, token: str) -> str:
        fingerprint = credential.fingerprint
        known = self._projects.get(fingerprint)
        if known is not None:
            return known
        async with self._locks.setdefault(fingerprint, asyncio.Lock()):
            known = self._projects.get(fingerprint)
            if known is None:
                known = await self._shared.get_or_produce(
                    NAMESPACE, fingerprint, _usable, lambda: self._produce(credential, token)
                )
                self._projects[fingerprint] = known
            return known

    async def forget(self, credential: Credential) -> None:
        """Drop the cached project (Google refused it): the next request discovers again."""
        self._projects.pop(credential.fingerprint, None)
        await self._shared.forget(NAMESPACE, credential.fingerprint)

    async def _produce(self, credential: Credential, token: str) -> Produced:
        try:
            project, tier = await self.discover(credential, token)
        except UpstreamError as exc:
            if exc.failure.kind is not FailureKind.NOT_PROVISIONED:
                raise
            logger.warning(
                "code assist refused the account",
                extra={"credential": credential.fingerprint, "reason": exc.failure.reason},
            )
            return Produced(failure_data(exc.failure), time.time() + FAILURE_MEMORY_SECONDS)
        logger.info(
            "code assist project found",
            extra={"credential": credential.fingerprint, "tier": tier},
        )
        return Produced({"project": project, "tier": tier}, time.time() + PROJECT_MEMORY_SECONDS)

    async def discover(self, credential: Credential, token: str) -> tuple[str, str | None]:
        """(project, tier id) for the account, onboarding it when it has no tier yet."""
        configured = credential.seed.project_id if credential.seed else None
        metadata = _metadata(configured)
        load_body: dict[str, Any] = {"metadata": metadata}
        if configured:
            load_body["cloudaicompanionProject"] = configured
        loaded = await self._call(token, "loadCodeAssist", load_body, LoadCodeAssistResponse)
        if loaded.current_tier is None:
            _raise_if_validation_required(loaded)
        project = configured or loaded.cloudaicompanion_project
        if not project:
            # Refused before any onboarding call when no project could come of it. An account
            # with a project (a Standard or Enterprise licence) may list the free tier as
            # ineligible too, and is served; with a configured one, onboarding decides.
            _raise_if_unsupported_client(loaded, credential)
        if loaded.current_tier is not None:
            if not project:
                raise _not_provisioned(loaded, "the account has a tier but no project", credential)
            return project, loaded.current_tier.id
        tier = next((t for t in loaded.allowed_tiers if t.is_default), Tier(id=LEGACY_TIER))
        tier_id = tier.id or LEGACY_TIER
        onboard: dict[str, Any] = {"tierId": tier_id, "metadata": CLIENT_METADATA}
        if tier_id != FREE_TIER:
            # The free tier's project is Google's; naming one there fails with
            # "Precondition Failed", so only other tiers carry the configured project.
            onboard = {"tierId": tier_id, "metadata": metadata}
            if configured:
                onboard["cloudaicompanionProject"] = configured
        try:
            operation = await self._onboard(token, onboard)
        except UpstreamError as exc:
            if exc.failure.kind not in (FailureKind.CLIENT_ERROR, FailureKind.MODEL_NOT_FOUND):
                raise
            # Google refused the onboarding request itself: the account's problem to fix,
            # never the client's (which a CLIENT_ERROR would tell it).
            refused = f"onboarding refused: {exc.failure.message}"
            raise _not_provisioned(loaded, refused, credential) from None
        found = operation.response.cloudaicompanion_project if operation.response else None
        project = configured or (found.id if found else None)
        if not project:
            raise _not_provisioned(loaded, "onboarding gave no project", credential)
        return project, tier_id

    async def _onboard(self, token: str, body: dict[str, Any]) -> Operation:
        operation = await self._call(token, "onboardUser", body, Operation)
        deadline = time.monotonic() + self._timeout
        while not operation.done:
            if not operation.name:
                raise UpstreamError(
                    Failure(FailureKind.UNKNOWN, 200, "onboardUser answered no operation name")
                )
            if time.monotonic() + self._poll > deadline:
                raise UpstreamError(
                    Failure(
                        FailureKind.UNAVAILABLE,
                        200,
                        f"Code Assist onboarding did not finish within {self._timeout:g} s",
                        "ONBOARDING_PENDING",
                    )
                )
            await asyncio.sleep(self._poll)
            answer = await self._http.get(f"{self._base}/{operation.name}", _headers(token))
            operation = _parse(answer, Operation)
        return operation

    async def _call(self, token: str, method: str, body: dict[str, Any], model: type[M]) -> M:
        answer = await self._http.post(f"{self._base}:{method}", _headers(token), to_json(body))
        return _parse(answer, model)


def _usable(data: dict[str, Any]) -> str | None:
    raise_stored_failure(data)
    project = data.get("project")
    return project if isinstance(project, str) and project else None


def _metadata(configured: str | None) -> dict[str, Any]:
    return {**CLIENT_METADATA, "duetProject": configured} if configured else dict(CLIENT_METADATA)


def _headers(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "content-type": "application/json"}


def _parse(body: bytes, model: type[M]) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError:
        raise UpstreamError(
            Failure(FailureKind.UNKNOWN, 200, f"Code Assist sent a {model.__name__} we cannot read")
        ) from None


def _raise_if_validation_required(loaded: LoadCodeAssistResponse) -> None:
    for tier in loaded.ineligible_tiers:
        if tier.reason_code == "VALIDATION_REQUIRED" and tier.validation_url:
            raise UpstreamError(
                Failure(
                    FailureKind.NOT_PROVISIONED,
                    403,
                    f"Account validation required: {tier.reason_message or 'verify the account'}"
                    f" Open {tier.validation_url} in a browser signed in to this Google account, "
                    "then wait for the recheck (or restart the proxy).",
                    "VALIDATION_REQUIRED",
                )
            )


def _raise_if_unsupported_client(loaded: LoadCodeAssistResponse, credential: Credential) -> None:
    for tier in loaded.ineligible_tiers:
        if tier.reason_code == UNSUPPORTED_CLIENT:
            said = tier.reason_message or "this client is no longer supported"
            raise UpstreamError(unsupported_client(credential.source, said))


def unsupported_client(source: str, said: str) -> Failure:
    """Why an account Google refuses as UNSUPPORTED_CLIENT cannot serve, for a person: which
    file, what changed, and what still works. `said` is Google's own message."""
    where = f"'{source}'" if source else "This account"
    return Failure(
        FailureKind.NOT_PROVISIONED,
        403,
        f"{where}: Google no longer serves this account through Gemini Code Assist. Since "
        "2026-06-18 Code Assist (Gemini CLI's backend) refuses free Gemini Code Assist for "
        "individuals, Google AI Pro and Google AI Ultra accounts. What still works: an AI "
        "Studio API key (https://aistudio.google.com/apikey; one a line in "
        "'ai_studio_keys.txt' in the credentials folder), or a Google account with a Gemini "
        "Code Assist Standard or Enterprise licence. Remove this account from the proxy, or "
        f'replace it with such an account. Google said: "{said}"',
        UNSUPPORTED_CLIENT,
    )


def _not_provisioned(
    loaded: LoadCodeAssistResponse, what: str, credential: Credential
) -> UpstreamError:
    _raise_if_unsupported_client(loaded, credential)
    if loaded.ineligible_tiers:
        reasons = "; ".join(
            f"{t.reason_message or 'not eligible'} ({t.reason_code or 'INELIGIBLE'})"
            for t in loaded.ineligible_tiers
        )
        reason = loaded.ineligible_tiers[0].reason_code or "INELIGIBLE"
        message = f"Gemini Code Assist refused this account: {reasons}"
    else:
        reason = "PROJECT_ID_REQUIRED"
        message = (
            f"Gemini Code Assist has no project for this account ({what}): add "
            '"project_id": "<your Google Cloud project id>" to the account\'s file'
        )
    return UpstreamError(Failure(FailureKind.NOT_PROVISIONED, 403, message, reason))
