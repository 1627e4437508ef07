"""Access tokens for Gemini CLI OAuth accounts: refreshed once per expiry across all instances.

Where a token comes from, cheapest first: this process's memory; the state store (namespace
`oauth_token`, sealed with the refresh token, see `sealing`); the access token the account file
came with while it is fresh; and last a refresh at Google's token endpoint, done by one instance
while the others wait for its result (`shared`). A token counts as expired
`refresh_margin_seconds` early, as Gemini CLI does.

Tokens are never logged; an account is named by its fingerprint.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pydantic_core import from_json

from gemini_proxy.credentials.models import Credential
from gemini_proxy.logs import logger
from gemini_proxy.upstream.classify import Failure, FailureKind, UpstreamError, redact
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.sealing import seal, unseal
from gemini_proxy.upstream.shared import Produced, SharedValues, failure_data, raise_stored_failure

NAMESPACE = "oauth_token"
# Google's access tokens live an hour; used when an answer leaves `expires_in` out.
DEFAULT_LIFETIME_SECONDS = 3600.0
# How long other instances remember a revoked grant without asking Google themselves.
FAILURE_MEMORY_SECONDS = 60.0


def token_record(fingerprint: str) -> str:
    """The store record an account's token lives in; bound into its seal, so a sealed token
    copied into another record does not open there."""
    return f"{NAMESPACE}/{fingerprint}"


@dataclass(frozen=True)
class OAuthClient:
    token_url: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class _Token:
    value: str = ""
    refresh_at: float = 0.0  # epoch seconds: expiry minus the margin


class TokenManager:
    def __init__(
        self,
        http: HttpClient,
        shared: SharedValues,
        client: OAuthClient,
        margin_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._shared = shared
        self._client = client
        self._margin = margin_seconds
        self._clock = clock
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def access_token(self, credential: Credential, stale: str | None = None) -> str:
        """A fresh access token for `credential`.

        `stale`: a token Google just refused (401) although it looked fresh; any token but
        that one is wanted, so a refresh happens unless another instance already did one.
        """
        fingerprint = credential.fingerprint
        token = self._fresh(self._tokens.get(fingerprint), stale)
        if token is not None:
            return token
        async with self._locks.setdefault(fingerprint, asyncio.Lock()):
            # Another request of this process may have got one while this one waited.
            token = self._fresh(self._tokens.get(fingerprint), stale)
            if token is not None:
                return token
            found = self._seeded(credential, stale)
            if found is None:
                found = await self._shared.get_or_produce(
                    NAMESPACE,
                    fingerprint,
                    lambda data: self._usable(data, credential, stale),
                    lambda: self._refresh(credential),
                )
            self._tokens[fingerprint] = found
            return found.value

    async def forget(self, credential: Credential) -> None:
        """Drop the account's token and any remembered refusal (a recheck asks Google anew)."""
        self._tokens.pop(credential.fingerprint, None)
        await self._shared.forget(NAMESPACE, credential.fingerprint)

    def _fresh(self, token: _Token | None, stale: str | None) -> str | None:
        if token is None or token.refresh_at <= self._clock() or token.value == stale:
            return None
        return token.value

    def _refresh_at(self, expires_at: float, lifetime: float) -> float:
        # A token that lives less than twice the margin would be stale at birth: then it is
        # used for the first half of its life instead.
        return expires_at - min(self._margin, lifetime / 2)

    def _seeded(self, credential: Credential, stale: str | None) -> _Token | None:
        seed = credential.seed
        if seed is None or not seed.access_token or seed.expiry_ms is None:
            return None
        expires_at = seed.expiry_ms / 1000
        token = _Token(seed.access_token, expires_at - self._margin)
        return token if self._fresh(token, stale) is not None else None

    def _usable(
        self, data: dict[str, Any], credential: Credential, stale: str | None
    ) -> _Token | None:
        raise_stored_failure(data)
        sealed = data.get("sealed")
        record = token_record(credential.fingerprint)
        value = unseal(sealed, credential.secret, record) if isinstance(sealed, str) else None
        if value is None:
            return None  # not ours to read (altered, another secret or record): refresh
        token = _Token(value, float(data.get("refresh_at") or 0))
        return token if self._fresh(token, stale) is not None else None

    async def _refresh(self, credential: Credential) -> Produced:
        form = urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": credential.secret,
                "client_id": self._client.client_id,
                "client_secret": self._client.client_secret,
            }
        ).encode()
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "accept": "application/json",
        }
        status, body = await self._http.post_raw(self._client.token_url, headers, form)
        now = self._clock()
        if status != 200:
            failure = token_failure(status, body, credential.source)
            logger.warning(
                "oauth token refresh failed",
                extra={
                    "credential": credential.fingerprint,
                    "status": status,
                    "reason": failure.reason,
                },
            )
            if failure.kind is FailureKind.INVALID_CREDENTIAL:
                # Final until a person acts: let the other instances know without a call.
                return Produced(failure_data(failure), now + FAILURE_MEMORY_SECONDS)
            raise UpstreamError(failure)
        value, lifetime = _parse_token(body)
        expires_at = now + lifetime
        logger.info(
            "oauth token refreshed",
            extra={"credential": credential.fingerprint, "expires_in": round(lifetime)},
        )
        data = {
            "sealed": seal(value, credential.secret, token_record(credential.fingerprint)),
            "refresh_at": self._refresh_at(expires_at, lifetime),
            "expires_at": expires_at,
        }
        return Produced(data, expires_at)


def _parse_token(body: bytes) -> tuple[str, float]:
    try:
        data = from_json(body)
    except ValueError:
        data = None
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise UpstreamError(
            Failure(FailureKind.UNKNOWN, 200, "the OAuth token endpoint sent no access token")
        )
    lifetime = data.get("expires_in") if isinstance(data, dict) else None
    if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
        lifetime = DEFAULT_LIFETIME_SECONDS
    return token, float(lifetime)


def token_failure(status: int, body: bytes, source: str) -> Failure:
    """What a refused refresh means. OAuth errors are `{"error": code, "error_description"}`."""
    try:
        data = from_json(body) if body else None
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    code = error if isinstance(error, str) else None
    description = data.get("error_description") if isinstance(data, dict) else None
    said = redact(str(description or code or f"HTTP {status}"))
    where = f"'{source}'" if source else "the account's file"
    if code == "invalid_grant":
        return Failure(
            FailureKind.INVALID_CREDENTIAL,
            status,
            f"Google refused the refresh token ({said}): the login was revoked or has expired. "
            f"Log in again with Gemini CLI (run `gemini` and choose Login with Google), then "
            f"replace {where} with the new ~/.gemini/oauth_creds.json "
            "(`gemini-proxy import-gemini-cli`).",
            "invalid_grant",
        )
    if code in ("invalid_client", "unauthorized_client"):
        return Failure(
            FailureKind.INVALID_CREDENTIAL,
            status,
            f"Google refused the OAuth client ({said}): check oauth.client_id and "
            "oauth.client_secret in the config (the defaults are Gemini CLI's).",
            code,
        )
    if status == 429:
        return Failure(FailureKind.RATE_LIMITED, status, f"token endpoint: {said}", "token_429", 10)
    if status == 0 or status >= 500:
        return Failure(FailureKind.UNAVAILABLE, status, f"token endpoint: {said}", code)
    return Failure(FailureKind.UNKNOWN, status, f"token endpoint: {said}", code)
