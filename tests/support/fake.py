"""Driving the fake Gemini's control API from tests."""

from typing import Any

from gemini_proxy.credentials.fingerprint import fingerprint
from tests.support.http import call, post_json


class FakeGemini:
    def __init__(self, url: str) -> None:
        self.url = url

    def reset(self) -> None:
        assert call("POST", f"{self.url}/_control/reset").status == 200

    def settings(self, **values: Any) -> None:
        assert post_json(f"{self.url}/_control/settings", values).status == 200

    def fault(
        self,
        fault: dict[str, Any],
        key: str | None = None,
        model: str | None = None,
        times: int | None = None,
        kinds: list[str] | None = None,
    ) -> None:
        """Script `fault` for requests made with `key` (any key when None).

        `kinds` picks the request kinds it hits (default: generate, stream, embeddings...).
        """
        payload: dict[str, Any] = {
            "credential": fingerprint(key) if key else None,
            "model": model,
            "fault": fault,
            "times": times,
        }
        if kinds is not None:
            payload["kinds"] = kinds
        reply = post_json(f"{self.url}/_control/faults", payload)
        assert reply.status == 200, reply.body

    def requests(self) -> list[dict[str, Any]]:
        reply = call("GET", f"{self.url}/_control/requests")
        assert reply.status == 200
        requests: list[dict[str, Any]] = reply.json()["requests"]
        return requests

    def served_by(self) -> list[str | None]:
        """Fingerprint of the credential behind each generate/stream request, in order."""
        return [r["credential"] for r in self.requests() if r["kind"] in ("generate", "stream")]
