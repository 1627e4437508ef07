"""Code Assist (cloudcode-pa v1internal): what Gemini CLI OAuth accounts talk to.

Bearer access tokens come from the fake's own token endpoint (or are pre-seeded through the control
API) and map to an account, identified by its refresh token's fingerprint. Generation needs the
account's project; project discovery follows Gemini CLI's setup: loadCodeAssist, then onboardUser,
a long-running operation polled with `GET /v1internal/{operation name}` until done.
"""

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import errors
from .catalog import MODELS, bare_model_id, find_model
from .exchange import Exchange
from .faults import FaultContext
from .fields import get
from .plan import content_tokens
from .state import Account, FakeState, Operation
from .validation import check_meaning, raise_structural

_KINDS = {
    "generateContent": "generate",
    "streamGenerateContent": "stream",
    "countTokens": "count_tokens",
    "loadCodeAssist": "load_code_assist",
    "onboardUser": "onboard_user",
    "retrieveUserQuota": "retrieve_user_quota",
}
# Requests a day per tier, as gemini-cli's quota docs list them (2026-03).
DAILY_REQUESTS = {"free-tier": 1000, "standard-tier": 1500, "legacy-tier": 1500}
_QUOTA_FIELDS = frozenset({"project", "userAgent"})
PACIFIC = ZoneInfo("America/Los_Angeles")

TIERS: dict[str, dict[str, Any]] = {
    "free-tier": {
        "id": "free-tier",
        "name": "Gemini Code Assist for individuals",
        "description": "Gemini Code Assist for individuals, at no cost.",
        "userDefinedCloudaicompanionProject": False,
        "privacyNotice": {"showNotice": False},
    },
    "legacy-tier": {
        "id": "legacy-tier",
        "name": "Gemini Code Assist (legacy)",
        "description": "Gemini Code Assist with a Google Cloud project you choose.",
        "userDefinedCloudaicompanionProject": True,
        "privacyNotice": {},
    },
    "standard-tier": {
        "id": "standard-tier",
        "name": "Gemini Code Assist",
        "description": "Unlimited coding assistant with the most powerful Gemini models",
        "userDefinedCloudaicompanionProject": True,
        "privacyNotice": {},
    },
}

_ONBOARD_RESPONSE = "type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse"


def unsupported_tier() -> dict[str, Any]:
    """The ineligible tier loadCodeAssist lists for an account Google no longer serves."""
    return {
        "reasonCode": "UNSUPPORTED_CLIENT",
        "reasonMessage": errors.UNSUPPORTED_CLIENT_MESSAGE,
        "tierId": "free-tier",
        "tierName": TIERS["free-tier"]["name"],
    }


def tier_wire(tier_id: str, default: bool = False) -> dict[str, Any]:
    tier = dict(TIERS.get(tier_id) or {"id": tier_id, "name": tier_id})
    if default:
        tier["isDefault"] = True
    return tier


class CodeAssist:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("/v1internal:{method}", self.dispatch, methods=["POST"]),
            Route("/v1internal/{name:path}", self.get_operation, methods=["GET"]),
        ]

    def _account(self, request: Request, ex: Exchange) -> Account:
        header = request.headers.get("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.unauthenticated(missing=True)
        account = self.state.token_account(token.strip())
        if account is None:
            raise errors.unauthenticated()
        ex.entry.credential = account.fingerprint
        return account

    async def dispatch(self, request: Request) -> Response:
        method = request.path_params["method"]
        kind = _KINDS.get(method, method)
        ex = Exchange(self.state, request, kind, "code_assist")
        body = await ex.read_json(request)
        try:
            account = self._account(request, ex)
            ex.check_body()
            if not isinstance(body, dict):
                raise_structural(body, "CodeAssistRequest")
            if kind in ("generate", "stream"):
                return self._generate(request, ex, account, body)
            if kind == "count_tokens":
                return self._count(ex, account, body)
            if kind == "load_code_assist":
                return self._load(ex, account, body)
            if kind == "onboard_user":
                return self._onboard(ex, account, body)
            if kind == "retrieve_user_quota":
                return self._quota(ex, account, body)
            raise errors.entity_not_found()
        except errors.GoogleError as failure:
            return ex.error(failure)

    def _generate(
        self, request: Request, ex: Exchange, account: Account, body: dict[str, Any]
    ) -> Response:
        model_name = get(body, "model")
        name = bare_model_id(model_name) if isinstance(model_name, str) else None
        ex.entry.model = name
        project = get(body, "project")
        fault = ex.take_fault(account.fingerprint, name)
        if fault is not None and fault.is_error:
            raise fault.error(FaultContext("code_assist", name or "", project))
        if fault is not None and fault.type == "reset":
            return ex.reset()
        if account.unsupported_client:
            raise errors.unsupported_client()
        raise_structural(body, "CodeAssistRequest")
        if not name:
            raise errors.invalid_argument("Request contains an invalid argument.")
        if not project or project != account.project:
            raise errors.iam_denied(project if isinstance(project, str) else None)
        model = find_model(name)
        if model is None or not model.code_assist:
            raise errors.entity_not_found()
        inner = get(body, "request") or {}
        plan = check_meaning(inner, model, "code_assist", ex.signature_check())
        account.used[model.id] += 1
        trace = secrets.token_hex(8)

        def wrap(response: dict[str, Any]) -> dict[str, Any]:
            return {"response": response, "traceId": trace}

        return ex.answer(
            plan,
            fault,
            streaming=ex.entry.kind == "stream",
            sse=request.query_params.get("alt") == "sse",
            wrap=wrap,
        )

    def _count(self, ex: Exchange, account: Account, body: dict[str, Any]) -> Response:
        inner = get(body, "request")
        model_name = get(inner, "model") if isinstance(inner, dict) else None
        name = bare_model_id(model_name) if isinstance(model_name, str) else None
        ex.entry.model = name
        fault = ex.take_fault(account.fingerprint, name)
        if fault is not None and fault.is_error:
            raise fault.error(FaultContext("code_assist", name or ""))
        if fault is not None and fault.type == "reset":
            return ex.reset()
        if account.unsupported_client:
            raise errors.unsupported_client()
        raise_structural(body, "CodeAssistCountTokensRequest")
        model = find_model(name or "")
        if model is None or not model.code_assist:
            raise errors.entity_not_found()
        contents = get(inner or {}, "contents") or []
        check_meaning({"contents": contents}, model, "code_assist", lambda _: True)
        cut = fault is not None and fault.type == "drop_mid_stream"
        return ex.json({"totalTokens": content_tokens(contents)}, cut_half=cut)

    def _control_fault(self, ex: Exchange, account: Account) -> Response | None:
        fault = ex.take_fault(account.fingerprint, None)
        if fault is not None and fault.is_error:
            raise fault.error(FaultContext("code_assist", "", account.project))
        if fault is not None and fault.type == "reset":
            return ex.reset()
        return None

    def _load(self, ex: Exchange, account: Account, body: dict[str, Any]) -> Response:
        early = self._control_fault(ex, account)
        if early is not None:
            return early
        requested = get(body, "cloudaicompanionProject")
        if account.tier and not account.project and isinstance(requested, str) and requested:
            # A tier whose project the user chooses adopts the one the client names.
            account.project = requested
        if account.unsupported_client:
            # Whatever tier it had: no current tier, the free tier refused, as Google answers.
            payload: dict[str, Any] = {
                "allowedTiers": [tier_wire("standard-tier", default=True)],
                "ineligibleTiers": [unsupported_tier()],
            }
        elif account.tier and account.project:
            payload = {
                "currentTier": tier_wire(account.tier),
                "allowedTiers": [
                    tier_wire("free-tier", default=account.tier == "free-tier"),
                    tier_wire("standard-tier", default=account.tier != "free-tier"),
                ],
                "cloudaicompanionProject": account.project,
            }
        elif account.tier:
            # A tier without a project (e.g. Workspace): the client must bring its own project.
            payload = {
                "currentTier": tier_wire(account.tier),
                "allowedTiers": [tier_wire(account.tier, default=True)],
            }
        elif account.ineligible:
            payload = {
                "allowedTiers": [tier_wire("standard-tier", default=True)],
                "ineligibleTiers": account.ineligible,
            }
        else:
            payload = {
                "allowedTiers": [
                    tier_wire("free-tier", default=True),
                    tier_wire("standard-tier"),
                ]
            }
        if account.ineligible and "ineligibleTiers" not in payload:
            # A served account may still be told which tiers it cannot have.
            payload["ineligibleTiers"] = account.ineligible
        return ex.json(payload)

    def _quota(self, ex: Exchange, account: Account, body: dict[str, Any]) -> Response:
        """retrieveUserQuota: what is left of the account's quota, per model."""
        early = self._control_fault(ex, account)
        if early is not None:
            return early
        unknown = sorted(set(body) - _QUOTA_FIELDS)
        if unknown:
            raise errors.invalid_argument(
                f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.'
            )
        project = get(body, "project")
        if not project or project != account.project:
            raise errors.iam_denied(project if isinstance(project, str) else None)
        if account.quota is not None:
            return ex.json({"buckets": account.quota})
        return ex.json({"buckets": derived_buckets(account)})

    def _onboard(self, ex: Exchange, account: Account, body: dict[str, Any]) -> Response:
        early = self._control_fault(ex, account)
        if early is not None:
            return early
        tier = get(body, "tierId")
        if not isinstance(tier, str) or not tier:
            raise errors.invalid_argument("Request contains an invalid argument.")
        requested = get(body, "cloudaicompanionProject")
        if account.unsupported_client:
            raise errors.failed_precondition(errors.UNSUPPORTED_CLIENT_MESSAGE)
        refused = [t for t in account.ineligible if t.get("tierId", "free-tier") == tier]
        if refused:
            raise errors.failed_precondition(
                str(refused[0].get("reasonMessage") or "User is not eligible for this tier.")
            )
        if tier == "free-tier" and requested:
            # Gemini CLI omits the project for free tier because the real service refuses it.
            raise errors.failed_precondition("Precondition Failed")
        if tier != "free-tier" and not requested and not account.project:
            raise errors.invalid_argument(
                f"Onboarding to {tier} requires a cloudaicompanionProject."
            )
        operation = account.operation
        if account.tier and account.project and (operation is None or operation.done):
            name = operation.name if operation is not None else self.state.new_operation_name()
            return ex.json(self._done_operation(name, account.project))
        if operation is None or operation.tier != tier:
            project = requested if isinstance(requested, str) and requested else None
            operation = Operation(
                name=self.state.new_operation_name(),
                tier=tier,
                project=project or account.project or self.state.new_project_id(),
                polls_left=max(0, self.state.settings.onboard_polls),
            )
            account.operation = operation
        return ex.json(self._poll(account, operation))

    def _poll(self, account: Account, operation: Operation) -> dict[str, Any]:
        if not operation.done and operation.polls_left > 0:
            operation.polls_left -= 1
            return {"name": operation.name, "done": False}
        operation.done = True
        account.tier = operation.tier
        account.project = operation.project
        return self._done_operation(operation.name, operation.project)

    @staticmethod
    def _done_operation(name: str, project: str) -> dict[str, Any]:
        return {
            "name": name,
            "done": True,
            "response": {
                "@type": _ONBOARD_RESPONSE,
                "cloudaicompanionProject": {"id": project, "name": project},
            },
        }

    async def get_operation(self, request: Request) -> Response:
        ex = Exchange(self.state, request, "get_operation", "code_assist")
        name = request.path_params["name"]
        try:
            account = self._account(request, ex)
            early = self._control_fault(ex, account)
            if early is not None:
                return early
            operation = account.operation
            if operation is None or operation.name != name:
                raise errors.entity_not_found()
            return ex.json(self._poll(account, operation))
        except errors.GoogleError as failure:
            return ex.error(failure)


def derived_buckets(account: Account) -> list[dict[str, Any]]:
    """A bucket per Code Assist model: the tier's daily requests less those answered, reset at
    the next midnight US Pacific."""
    limit = DAILY_REQUESTS.get(account.tier or "", DAILY_REQUESTS["free-tier"])
    now = datetime.fromtimestamp(time.time(), PACIFIC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    reset = midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    buckets = []
    for model in MODELS.values():
        if not model.code_assist:
            continue
        remaining = max(0, limit - account.used[model.id])
        buckets.append(
            {
                "remainingAmount": str(remaining),
                "remainingFraction": remaining / limit,
                "resetTime": reset,
                "tokenType": "REQUESTS",
                "modelId": model.id,
            }
        )
    return buckets
