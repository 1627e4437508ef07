"""The control API under /_control: how tests script the fake and read what it saw.

No auth, JSON in and out, never logged itself. Shapes:

POST /_control/reset -> {"ok": true}: faults, log, counters, tokens, accounts, signatures and
    settings go back to how the app started.
GET /_control/settings -> the settings (valid_keys as fingerprints).
POST /_control/settings {field: value, ...} -> patched settings; 400 on unknown or bad fields.
POST /_control/faults -> the rule, with its "id":
    {"credential": fingerprint | null,
     "model": "gemini-2.5-flash" | null,
     "fault": {"type": "rate_limit_minute", "retry_delay": "15s", "array_wrapped": false} | "type",
     "times": 2 | null,
     "probability": 0.1 (default 1: every matching request),
     "api": "ai_studio" | "code_assist" | "oauth" | null,
     "kinds": ["stream", ...] | null}
    `kinds` defaults to generate, stream, count_tokens, embed, batch_embed; name the others
    (token, load_code_assist, onboard_user, get_operation, retrieve_user_quota, models,
    get_model) to fault them.
GET /_control/faults -> {"faults": [rule, ...]} with times_left and applied.
DELETE /_control/faults -> {"ok": true}; DELETE /_control/faults/{id} removes one rule.
POST /_control/accounts -> the account; an upsert where only the fields given change:
    {"refresh_token": raw | "refresh_token_fingerprint": fingerprint,
     "tier": "free-tier" | "standard-tier" | "legacy-tier" | null,
     "project": "my-project" | null,
     "ineligible": null | "VALIDATION_REQUIRED" | {IneligibleTier} | [{IneligibleTier}, ...],
     "revoked": true | false,
     "unsupported_client": true | false,
     "access_token": raw, "expires_in": seconds,
     "quota": null | [{"modelId", "tokenType", "remainingAmount", "remainingFraction",
                       "resetTime"}, ...]}
    `unsupported_client: true` answers as Google has since 2026-06-18 for free Code Assist for
    individuals, Google AI Pro and Ultra accounts: loadCodeAssist lists the free tier as
    ineligible with reasonCode UNSUPPORTED_CLIENT (and no current tier), onboarding and
    generation are refused with Gemini CLI's "This client is no longer supported" message.
    An IneligibleTier is Code Assist's wire object (reasonCode, reasonMessage, tierId,
    validationUrl, ...); a bare reasonCode string or missing fields get realistic defaults.
    `quota` sets what retrieveUserQuota answers (its buckets, as given); null goes back to
    buckets derived from the tier's daily requests less the generation requests answered.
GET /_control/accounts -> {"accounts": [account, ...]} (access tokens as fingerprints).
GET /_control/requests[?since=seq&api=...&kind=...] -> {"requests": [entry, ...]}, arrival order.
DELETE /_control/requests -> {"ok": true}: clears the log only.
GET /_control/stats -> counters: requests by kind and status, token refreshes per account
    fingerprint, faults applied by type, client disconnects.
"""

from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json, to_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gemini_proxy.credentials.fingerprint import fingerprint

from . import errors
from .code_assist import TIERS
from .settings import patch_settings, public_settings
from .state import Account, FakeState

_REASONS = {
    "VALIDATION_REQUIRED": "Verify your account to continue.",
    "INELIGIBLE_ACCOUNT": "Your account is not eligible for Gemini Code Assist for individuals.",
    "UNSUPPORTED_LOCATION": "Gemini Code Assist for individuals is not available in your location.",
    "RESTRICTED_AGE": "You must be 18 or older to use Gemini Code Assist for individuals.",
    "DASHER_USER": "Your Google Workspace account needs a Google Cloud project. Set "
    "GOOGLE_CLOUD_PROJECT.",
    "NON_USER_ACCOUNT": "Service accounts cannot use Gemini Code Assist for individuals.",
    "UNSUPPORTED_CLIENT": errors.UNSUPPORTED_CLIENT_MESSAGE,
}
_ACCOUNT_FIELDS = frozenset(
    {
        "refresh_token",
        "refresh_token_fingerprint",
        "tier",
        "project",
        "ineligible",
        "revoked",
        "unsupported_client",
        "access_token",
        "expires_in",
        "quota",
    }
)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(to_json(payload), status, media_type="application/json")


def _bad(message: str) -> Response:
    return _json({"error": message}, 400)


async def _body(request: Request) -> Any:
    raw = await request.body()
    return from_json(raw) if raw.strip() else {}


def _ineligible_tier(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        item = {"reasonCode": item}
    if not isinstance(item, dict):
        raise ValueError("ineligible entries must be reasonCode strings or objects")
    code = str(item.get("reasonCode", "INELIGIBLE_ACCOUNT"))
    tier = dict(item)
    tier.setdefault("reasonCode", code)
    tier.setdefault("reasonMessage", _REASONS.get(code, "Not eligible."))
    tier.setdefault("tierId", "free-tier")
    tier.setdefault("tierName", TIERS["free-tier"]["name"])
    if code == "VALIDATION_REQUIRED":
        tier.setdefault("validationUrl", errors.DEFAULT_VALIDATION_URL)
        tier.setdefault("validationUrlLinkText", "Verify your account")
        tier.setdefault("validationErrorMessage", "Account validation required.")
        tier.setdefault("validationLearnMoreUrl", "https://support.google.com/accounts?p=al_alert")
        tier.setdefault("validationLearnMoreLinkText", "Learn more")
    return tier


def _quota_buckets(raw: Any) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ValueError("quota must be null or a list of bucket objects")
    return [dict(item) for item in raw]


class Control:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("/_control/reset", self.reset, methods=["POST"]),
            Route("/_control/settings", self.settings, methods=["GET", "POST"]),
            Route("/_control/faults", self.faults, methods=["GET", "POST", "DELETE"]),
            Route("/_control/faults/{rule_id}", self.delete_fault, methods=["DELETE"]),
            Route("/_control/accounts", self.accounts, methods=["GET", "POST"]),
            Route("/_control/requests", self.requests, methods=["GET", "DELETE"]),
            Route("/_control/stats", self.stats, methods=["GET"]),
        ]

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        return _json({"ok": True})

    async def settings(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                patch = await _body(request)
                if not isinstance(patch, dict):
                    return _bad("body must be a JSON object")
                self.state.apply_settings(patch_settings(self.state.settings, patch))
            except (ValueError, ValidationError) as exc:
                return _bad(str(exc))
        return _json(public_settings(self.state.settings))

    async def faults(self, request: Request) -> Response:
        book = self.state.faults
        if request.method == "DELETE":
            book.clear()
            return _json({"ok": True})
        if request.method == "POST":
            try:
                rule = book.add(await _body(request))
            except ValueError as exc:
                return _bad(str(exc))
            return _json(rule.to_wire())
        return _json({"faults": book.to_wire()})

    async def delete_fault(self, request: Request) -> Response:
        removed = self.state.faults.remove(request.path_params["rule_id"])
        return _json({"ok": removed}, 200 if removed else 404)

    def _account_view(self, account: Account) -> dict[str, Any]:
        view = account.to_wire()
        view["access_tokens"] = self.state.tokens_for(account.fingerprint)
        return view

    async def accounts(self, request: Request) -> Response:
        state = self.state
        if request.method == "GET":
            return _json({"accounts": [self._account_view(a) for a in state.accounts.values()]})
        try:
            spec = await _body(request)
            if not isinstance(spec, dict):
                return _bad("body must be a JSON object")
            account = self._upsert(spec)
        except ValueError as exc:
            return _bad(str(exc))
        return _json(self._account_view(account))

    def _upsert(self, spec: dict[str, Any]) -> Account:
        unknown = sorted(set(spec) - _ACCOUNT_FIELDS)
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(unknown)}")
        if spec.get("refresh_token"):
            account_fp = fingerprint(str(spec["refresh_token"]))
        elif spec.get("refresh_token_fingerprint"):
            account_fp = str(spec["refresh_token_fingerprint"])
        else:
            raise ValueError("refresh_token or refresh_token_fingerprint is required")
        state = self.state
        account = state.account(account_fp)
        if "tier" in spec:
            tier = spec["tier"]
            if tier is not None and tier not in TIERS:
                raise ValueError(f"tier must be one of {', '.join(TIERS)} or null")
            account.tier = tier
            if tier is None and "project" not in spec:
                account.project = None
        if "project" in spec:
            account.project = None if spec["project"] is None else str(spec["project"])
        if "ineligible" in spec:
            raw = spec["ineligible"]
            items = [] if raw is None else raw if isinstance(raw, list) else [raw]
            account.ineligible = [_ineligible_tier(item) for item in items]
        if spec.get("tier", "unset") is None or "ineligible" in spec:
            account.operation = None
        if "quota" in spec:
            account.quota = _quota_buckets(spec["quota"])
        if "unsupported_client" in spec:
            account.unsupported_client = bool(spec["unsupported_client"])
        if "revoked" in spec:
            if spec["revoked"]:
                state.revoke(account)
            else:
                account.revoked = False
        if spec.get("access_token"):
            expires_in = spec.get("expires_in")
            ttl = None if expires_in is None else float(expires_in)
            state.register_token(str(spec["access_token"]), account_fp, ttl)
        return account

    async def requests(self, request: Request) -> Response:
        state = self.state
        if request.method == "DELETE":
            state.log.clear()
            return _json({"ok": True})
        params = request.query_params
        try:
            since = int(params.get("since") or 0)
        except ValueError:
            return _bad("since must be an integer")
        api = params.get("api")
        kind = params.get("kind")
        entries = [
            e.to_wire()
            for e in state.log
            if e.seq > since and (api is None or e.api == api) and (kind is None or e.kind == kind)
        ]
        return _json({"requests": entries})

    async def stats(self, request: Request) -> Response:
        return _json(self.state.stats())
