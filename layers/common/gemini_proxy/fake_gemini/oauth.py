"""Google's OAuth token endpoint, refresh grant only (what Gemini CLI credentials use).

Any refresh token that was not revoked is valid and becomes an account on first use; each refresh
mints a fresh random access token. Errors use OAuth's own body shape
(`{"error": "invalid_grant", "error_description": ...}`), not Google's API error shape.
"""

from typing import Any
from urllib.parse import parse_qsl

from pydantic_core import from_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gemini_proxy.credentials.fingerprint import fingerprint

from .exchange import Exchange
from .faults import FaultContext
from .state import FakeState

SCOPES = (
    "https://www.googleapis.com/auth/cloud-platform "
    "https://www.googleapis.com/auth/userinfo.email "
    "https://www.googleapis.com/auth/userinfo.profile openid"
)
_NO_STORE = {
    "cache-control": "no-cache, no-store, max-age=0, must-revalidate",
    "pragma": "no-cache",
}


class OAuth:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [Route("/token", self.token, methods=["POST"])]

    async def token(self, request: Request) -> Response:
        ex = Exchange(self.state, request, "token", "oauth")
        form = await _read_form(request)
        logged: dict[str, Any] = {k: v for k, v in form.items() if k != "client_secret"}
        refresh_token = form.get("refresh_token") or ""
        if refresh_token:
            logged["refresh_token"] = fingerprint(refresh_token)
            ex.entry.credential = logged["refresh_token"]
        ex.entry.body = logged
        settings = self.state.settings

        def oauth_error(status: int, error: str, description: str) -> Response:
            payload = {"error": error, "error_description": description}
            return ex.json(payload, status, headers=_NO_STORE)

        grant = form.get("grant_type")
        if grant != "refresh_token":
            return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant or ''}")
        if form.get("client_id") != settings.client_id:
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if (
            settings.client_secret is not None
            and form.get("client_secret") != settings.client_secret
        ):
            return oauth_error(401, "invalid_client", "Unauthorized")
        if not refresh_token:
            return oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        account_fp = logged["refresh_token"]
        fault = ex.take_fault(account_fp, None)
        if fault is not None and fault.is_error:
            return ex.error(fault.error(FaultContext("oauth", "")))
        if fault is not None and fault.type == "reset":
            return ex.reset()
        account = self.state.account(account_fp)
        if account.revoked:
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        access_token = self.state.mint_token(account_fp)
        self.state.refreshes[account_fp] += 1
        payload = {
            "access_token": access_token,
            "expires_in": settings.access_token_ttl_seconds,
            "scope": SCOPES,
            "token_type": "Bearer",
        }
        return ex.json(payload, headers=_NO_STORE)


async def _read_form(request: Request) -> dict[str, str]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = from_json(raw)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
