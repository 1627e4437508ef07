"""A proxy with a mixed pool (two Gemini CLI accounts, two AI Studio keys) and a client key, for
the dashboard's end-to-end tests."""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai import OpenAI

from gemini_proxy.app.factory import create_app
from gemini_proxy.config import Config
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.sources import load_credentials
from tests.e2e.conftest import proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import call, post_json
from tests.support.servers import ServerThread

ALICE = "1//dashboard-alice-refresh-token"
BOB = "1//dashboard-bob-refresh-token"
KEY_A = "AIzaFAKE-dashboard-key-alpha-000000"
KEY_B = "AIzaFAKE-dashboard-key-bravo-000000"
CLIENT_KEY = "sk-dashboard-client-key-0123456789"
SECRETS = (ALICE, BOB, KEY_A, KEY_B, CLIENT_KEY)
FLASH = "gemini-2.5-flash"


def write_account(folder: Path, refresh_token: str) -> None:
    """An oauth_creds.json as Gemini CLI writes it, its access token long expired."""
    document = {
        "access_token": "ya29.left-over",
        "refresh_token": refresh_token,
        "scope": "https://www.googleapis.com/auth/cloud-platform openid",
        "token_type": "Bearer",
        "expiry_date": int(time.time() * 1000) - 3_600_000,
    }
    (folder / f"{fingerprint(refresh_token)}.json").write_text(json.dumps(document))


def dashboard_config(fake: FakeGemini, **overrides: Any) -> Config:
    base = proxy_config(fake).model_dump()
    base["oauth"]["onboard_poll_seconds"] = 0.01
    base["ai_studio"]["fallback_mode"] = "combined"  # every credential serves: usage on all
    base["dashboard"]["refresh_seconds"] = 1
    for section, values in overrides.items():
        base[section] = {**base[section], **values} if isinstance(values, dict) else values
    return Config.model_validate(base)


@dataclass
class Pool:
    server: ServerThread
    fake: FakeGemini

    @property
    def url(self) -> str:
        return self.server.url

    def client(self) -> OpenAI:
        return OpenAI(base_url=f"{self.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=30)

    def ask(self, text: str = "Hello", model: str = FLASH) -> None:
        self.client().chat.completions.create(
            model=model, messages=[{"role": "user", "content": text}]
        )

    def admin(self) -> dict[str, dict[str, Any]]:
        reply = call(
            "GET",
            f"{self.url}/admin/credentials",
            headers={"authorization": f"Bearer {CLIENT_KEY}"},
        )
        assert reply.status == 200
        return {row["fingerprint"]: row for row in reply.json()["data"]}

    def control(self, path: str, body: Any) -> Any:
        reply = post_json(f"{self.fake.url}/_control/{path}", body)
        assert reply.status == 200, reply.body
        return reply.json()


def start_pool(fake: FakeGemini, folder: Path, config: Config | None = None) -> Iterator[Pool]:
    folder.mkdir(parents=True, exist_ok=True)
    write_account(folder, ALICE)
    write_account(folder, BOB)
    (folder / "ai_studio_keys.txt").write_text(f"{KEY_A}\n{KEY_B}\n")
    config = config or dashboard_config(fake)
    credentials = load_credentials(config, folder, {})
    assert len(credentials) == 4
    with ServerThread(create_app(config, credentials, [CLIENT_KEY])) as server:
        yield Pool(server, fake)
