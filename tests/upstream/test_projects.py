"""ProjectResolver against the fake Code Assist: Gemini CLI's loadCodeAssist / onboardUser flow,
refusals that name their reason, and the per-account cache shared through the store."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential, OAuthSeed
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.upstream.classify import FailureKind, UpstreamError
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.projects import NAMESPACE, ProjectResolver
from gemini_proxy.upstream.shared import SharedValues
from tests.support.fake import FakeGemini
from tests.support.http import post_json

pytestmark = pytest.mark.anyio

REFRESH = "1//project-refresh"
TOKEN = "ya29.project-tests"
ACCOUNT = Credential("oauth", REFRESH, pool="primary")


def configured(project: str) -> Credential:
    return Credential("oauth", REFRESH, pool="primary", seed=OAuthSeed(project_id=project))


def prepare(fake: FakeGemini, **fields: Any) -> None:
    """The account as the fake should know it, with TOKEN as a live access token."""
    body = {"refresh_token": REFRESH, "access_token": TOKEN, "expires_in": 3600, **fields}
    assert post_json(f"{fake.url}/_control/accounts", body).status == 200


@asynccontextmanager
async def resolver(
    fake: FakeGemini, store: MemoryStore | None = None, give_up_after: float = 5.0
) -> AsyncIterator[ProjectResolver]:
    http = HttpClient(5, 5)
    shared = SharedValues(store or MemoryStore(), 5.0, poll_seconds=0.02)
    try:
        yield ProjectResolver(
            http, fake.url, shared, poll_seconds=0.01, timeout_seconds=give_up_after
        )
    finally:
        await http.close()


def kinds(fake: FakeGemini) -> list[str]:
    return [e["kind"] for e in fake.requests() if e["api"] == "code_assist"]


async def test_an_onboarded_account_needs_one_load(fake: FakeGemini) -> None:
    prepare(fake, tier="standard-tier", project="team-project")
    async with resolver(fake) as projects:
        assert await projects.project(ACCOUNT, TOKEN) == "team-project"
        assert await projects.project(ACCOUNT, TOKEN) == "team-project"
    assert kinds(fake) == ["load_code_assist"]
    body = fake.requests()[0]["body"]
    assert "cloudaicompanionProject" not in body  # nothing configured: Gemini CLI omits it


async def test_a_new_account_is_onboarded_to_the_default_tier(fake: FakeGemini) -> None:
    fake.settings(new_accounts_onboarded=False, onboard_polls=3)
    prepare(fake)
    async with resolver(fake) as projects:
        project, tier = await projects.discover(ACCOUNT, TOKEN)
    assert tier == "free-tier" and project.startswith("fake-project-")
    assert kinds(fake) == [
        "load_code_assist",
        "onboard_user",
        "get_operation",
        "get_operation",
        "get_operation",
    ]
    operation = next(e for e in fake.requests() if e["kind"] == "get_operation")
    assert operation["path"].startswith("/v1internal/operations/")


async def test_a_configured_project_is_sent_and_wins(fake: FakeGemini) -> None:
    fake.settings(new_accounts_onboarded=False)
    prepare(fake)
    # The default tier is free, whose project is Google's; the configured one still wins,
    # but the onboarding request must not name it (Google answers "Precondition Failed").
    async with resolver(fake) as projects:
        assert await projects.project(configured("mine"), TOKEN) == "mine"
    load, onboard = (e["body"] for e in fake.requests()[:2])
    assert load["cloudaicompanionProject"] == "mine" and load["metadata"]["duetProject"] == "mine"
    assert onboard["tierId"] == "free-tier" and "cloudaicompanionProject" not in onboard


async def test_a_tier_without_a_project_asks_for_one(fake: FakeGemini) -> None:
    prepare(fake, tier="standard-tier", project=None)
    async with resolver(fake) as projects:
        with pytest.raises(UpstreamError) as caught:
            await projects.project(ACCOUNT, TOKEN)
    failure = caught.value.failure
    assert failure.kind is FailureKind.NOT_PROVISIONED
    assert failure.reason == "PROJECT_ID_REQUIRED" and '"project_id"' in failure.message


async def test_validation_required_names_the_url_and_is_shared(fake: FakeGemini) -> None:
    fake.settings(new_accounts_onboarded=False)
    url = "https://accounts.google.com/signin/continue?sarp=1&for=test"
    prepare(fake, ineligible={"reasonCode": "VALIDATION_REQUIRED", "validationUrl": url})
    store = MemoryStore()
    for _ in range(2):  # two instances
        async with resolver(fake, store) as projects:
            with pytest.raises(UpstreamError) as caught:
                await projects.project(ACCOUNT, TOKEN)
        failure = caught.value.failure
        assert failure.kind is FailureKind.NOT_PROVISIONED
        assert failure.reason == "VALIDATION_REQUIRED" and url in failure.message
    assert kinds(fake) == ["load_code_assist"]  # the second instance read the verdict


async def test_onboarding_that_does_not_finish_gives_up_in_time(fake: FakeGemini) -> None:
    fake.settings(new_accounts_onboarded=False, onboard_polls=1000)
    prepare(fake)
    async with resolver(fake, give_up_after=0.1) as projects:
        with pytest.raises(UpstreamError) as caught:
            await projects.project(ACCOUNT, TOKEN)
    assert caught.value.failure.kind is FailureKind.UNAVAILABLE
    assert caught.value.failure.reason == "ONBOARDING_PENDING"


async def test_the_project_is_shared_and_forgotten_on_demand(fake: FakeGemini) -> None:
    prepare(fake, tier="free-tier", project="first-project")
    store = MemoryStore()
    async with resolver(fake, store) as one, resolver(fake, store) as two:
        assert await one.project(ACCOUNT, TOKEN) == "first-project"
        assert await two.project(ACCOUNT, TOKEN) == "first-project"
        assert kinds(fake) == ["load_code_assist"]
        prepare(fake, project="second-project")
        await two.forget(ACCOUNT)
        assert await store.get(NAMESPACE, fingerprint(REFRESH)) is None
        assert await two.project(ACCOUNT, TOKEN) == "second-project"
    assert kinds(fake) == ["load_code_assist", "load_code_assist"]


async def test_a_401_during_discovery_is_left_to_the_caller(fake: FakeGemini) -> None:
    async with resolver(fake) as projects:
        with pytest.raises(UpstreamError) as caught:
            await projects.project(ACCOUNT, "ya29.unknown-to-google")
    assert caught.value.failure.kind is FailureKind.UNAUTHENTICATED


# --- accounts Google no longer serves (UNSUPPORTED_CLIENT, since 2026-06-18) ----------------


def from_file(name: str) -> Credential:
    return Credential("oauth", REFRESH, source=name, pool="primary")


async def test_an_unsupported_account_is_refused_with_its_file_and_what_works(
    fake: FakeGemini,
) -> None:
    # Onboarded before the cut-off (a free-tier project), refused now.
    prepare(fake, tier="free-tier", project="old-free-project", unsupported_client=True)
    store = MemoryStore()
    for _ in range(2):  # two instances: the second reads the verdict from the store
        async with resolver(fake, store) as projects:
            with pytest.raises(UpstreamError) as caught:
                await projects.project(from_file("gemini-cli-alice.json"), TOKEN)
        failure = caught.value.failure
        assert failure.kind is FailureKind.NOT_PROVISIONED
        assert failure.reason == "UNSUPPORTED_CLIENT"
        for said in (
            "'gemini-cli-alice.json'",
            "no longer serves this account through Gemini Code Assist",
            "2026-06-18",
            "Google AI Pro",
            "AI Studio API key",
            "Standard or Enterprise licence",
        ):
            assert said in failure.message
        assert REFRESH not in failure.message and TOKEN not in failure.message
    # One loadCodeAssist, and no onboarding attempt that could not have succeeded.
    assert kinds(fake) == ["load_code_assist"]


async def test_a_standard_licence_is_served_even_if_the_free_tier_is_refused(
    fake: FakeGemini,
) -> None:
    prepare(fake, tier="standard-tier", project="licensed-project", ineligible="UNSUPPORTED_CLIENT")
    async with resolver(fake) as projects:
        assert await projects.project(from_file("work.json"), TOKEN) == "licensed-project"


async def test_a_new_account_refused_as_unsupported_is_not_onboarded(fake: FakeGemini) -> None:
    fake.settings(new_accounts_onboarded=False)
    prepare(fake, ineligible="UNSUPPORTED_CLIENT")
    async with resolver(fake) as projects:
        with pytest.raises(UpstreamError) as caught:
            await projects.project(from_file("new.json"), TOKEN)
    assert caught.value.failure.reason == "UNSUPPORTED_CLIENT"
    assert "'new.json'" in caught.value.failure.message
    assert kinds(fake) == ["load_code_assist"]
