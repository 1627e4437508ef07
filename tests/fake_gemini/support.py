"""Helpers for driving the fake upstream over real HTTP."""

import asyncio
import functools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec

import aiohttp

from gemini_proxy.fake_gemini.settings import GEMINI_CLI_CLIENT_ID, GEMINI_CLI_CLIENT_SECRET

P = ParamSpec("P")


def aio(fn: Callable[P, Awaitable[None]]) -> Callable[P, None]:
    """Run an async test body on a fresh event loop (no pytest-asyncio needed)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(fn(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    def error(self) -> dict[str, Any]:
        body = self.json
        if isinstance(body, list):
            body = body[0]
        error: dict[str, Any] = body["error"]
        return error


@dataclass
class FakeServer:
    url: str

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return {"http_status": exc.code, **json.loads(exc.read())}

    def fault(self, fault: Any, **match: Any) -> str:
        rule = self.control("POST", "/_control/faults", {"fault": fault, **match})
        assert "id" in rule, rule
        return str(rule["id"])

    def settings(self, **patch: Any) -> Any:
        return self.control("POST", "/_control/settings", patch)

    def requests(self, **filters: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        found = self.control("GET", "/_control/requests" + (f"?{query}" if query else ""))
        entries: list[dict[str, Any]] = found["requests"]
        return entries

    def last(self) -> dict[str, Any]:
        entries = self.requests()
        assert entries
        return entries[-1]

    def wait_logged(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        # A request's log entry is finished right after its last byte; poll briefly for it.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for entry in self.requests():
                if predicate(entry):
                    return entry
            time.sleep(0.02)
        raise AssertionError("no matching log entry")

    # -- HTTP helpers for test bodies -------------------------------------------------------

    async def post(
        self,
        session: aiohttp.ClientSession,
        path: str,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        async with session.post(self.url + path, json=body, headers=headers or {}) as resp:
            return Reply(resp.status, dict(resp.headers), await resp.read())

    async def refresh(self, session: aiohttp.ClientSession, refresh_token: str) -> Reply:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": GEMINI_CLI_CLIENT_ID,
            "client_secret": GEMINI_CLI_CLIENT_SECRET,
        }
        async with session.post(self.url + "/token", data=form) as resp:
            return Reply(resp.status, dict(resp.headers), await resp.read())


KEY = "AIza-test-key-1"
KEY_HEADERS = {"x-goog-api-key": KEY}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def prompt(text: str, **extra: Any) -> dict[str, Any]:
    return {"contents": [user(text)], **extra}
