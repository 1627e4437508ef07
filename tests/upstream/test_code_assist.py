"""CodeAssistClient: the envelope, unwrapping answers and stream events, errors in arrays, and the
one refresh-and-retry a 401 earns."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from gemini_proxy.config import GEMINI_CLI_CLIENT_ID, GEMINI_CLI_CLIENT_SECRET
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.credentials.models import Credential
from gemini_proxy.state.memory import MemoryStore
from gemini_proxy.upstream.answers import parse_answer as parse_inner
from gemini_proxy.upstream.classify import FailureKind, UpstreamError
from gemini_proxy.upstream.code_assist import CodeAssistClient, envelope, unwrap
from gemini_proxy.upstream.http import HttpClient
from gemini_proxy.upstream.oauth import OAuthClient, TokenManager
from gemini_proxy.upstream.projects import ProjectResolver
from gemini_proxy.upstream.shared import SharedValues
from gemini_proxy.upstream.wire import (
    Content,
    GenerateContentRequest,
    GenerateContentResponse,
    Part,
)
from tests.support.fake import FakeGemini
from tests.support.http import call, post_json

REFRESH = "1//code-assist-client"
ACCOUNT = Credential("oauth", REFRESH, pool="primary")
REQUEST = (
    GenerateContentRequest(contents=[Content(role="user", parts=[Part(text="hi")])])
    .model_dump_json(by_alias=True, exclude_none=True)
    .encode()
)
QUOTA_ERROR = {
    "error": {
        "code": 429,
        "message": "You have exhausted your capacity on this model.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "QUOTA_EXHAUSTED",
                "metadata": {"quotaResetDelay": "3h12m5.3s"},
            }
        ],
    }
}


def test_envelope_is_gemini_clis() -> None:
    body = json.loads(envelope("gemini-2.5-pro", "proj-1", REQUEST))
    assert set(body) == {"model", "project", "user_prompt_id", "request"}
    assert body["model"] == "gemini-2.5-pro" and body["project"] == "proj-1"
    assert body["request"] == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    again = json.loads(envelope("gemini-2.5-pro", "proj-1", REQUEST))
    assert again["user_prompt_id"] != body["user_prompt_id"]


def parse_answer(payload: bytes) -> GenerateContentResponse:
    return parse_inner(unwrap(payload))


def test_answers_are_unwrapped() -> None:
    answer = {
        "response": {"candidates": [{"content": {"parts": [{"text": "x"}]}}]},
        "traceId": "abc",
    }
    parsed = parse_answer(json.dumps(answer).encode())
    assert parsed.candidates[0].content is not None
    assert parsed.candidates[0].content.parts[0].text == "x"
    # A metadata-only event is empty, not broken.
    assert parse_answer(b'{"traceId": "abc"}').candidates == []


@pytest.mark.parametrize(
    "payload",
    [json.dumps(QUOTA_ERROR), json.dumps([QUOTA_ERROR]), " [ " + json.dumps(QUOTA_ERROR) + "]"],
    ids=["object", "array", "spaced-array"],
)
def test_errors_in_a_200_are_classified_also_in_an_array(payload: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        parse_answer(payload.encode())
    failure = caught.value.failure
    assert failure.kind is FailureKind.QUOTA_EXHAUSTED and failure.status == 429
    assert failure.cooldown_seconds == pytest.approx(11525.3)


def test_unreadable_answers_are_bad_answers() -> None:
    with pytest.raises(UpstreamError) as caught:
        parse_answer(b'{"response": 5}')
    assert caught.value.failure.kind is FailureKind.BAD_ANSWER


@asynccontextmanager
async def client(fake: FakeGemini) -> AsyncIterator[CodeAssistClient]:
    http = HttpClient(5, 5)
    shared = SharedValues(MemoryStore(), 5.0, poll_seconds=0.02)
    oauth = OAuthClient(f"{fake.url}/token", GEMINI_CLI_CLIENT_ID, GEMINI_CLI_CLIENT_SECRET)
    tokens = TokenManager(http, shared, oauth, 300)
    projects = ProjectResolver(http, fake.url, shared, 0.01, 5)
    try:
        yield CodeAssistClient(http, fake.url, tokens, projects)
    finally:
        await http.close()


def fault(fake: FakeGemini, kind: str, times: int | None = None, **more: object) -> None:
    rule = {"credential": fingerprint(REFRESH), "fault": kind, "times": times, **more}
    assert post_json(f"{fake.url}/_control/faults", rule).status == 200


@pytest.mark.anyio
async def test_stream_events_are_unwrapped(fake: FakeGemini) -> None:
    fake.settings(words_per_event=1)
    async with client(fake) as code_assist:
        opened = code_assist.stream(ACCOUNT, "gemini-2.5-flash", REQUEST)
        async with opened as events:
            texts = [
                part.text
                for event in [parse_inner(e) async for e in events]
                for candidate in event.candidates
                if candidate.content
                for part in candidate.content.parts
                if part.text
            ]
    assert "".join(texts) == "Echo: hi" and len(texts) > 1


@pytest.mark.anyio
async def test_a_second_401_after_a_refresh_is_not_retried_again(fake: FakeGemini) -> None:
    async with client(fake) as code_assist:
        await code_assist.generate(ACCOUNT, "gemini-2.5-flash", REQUEST)
        fault(fake, "unauthenticated", times=2)
        with pytest.raises(UpstreamError) as caught:
            await code_assist.generate(ACCOUNT, "gemini-2.5-flash", REQUEST)
    # Unexplained, so the pool's consecutive-failure rule benches an account that keeps it up.
    assert caught.value.failure.kind is FailureKind.UNKNOWN
    assert caught.value.failure.reason == "UNAUTHENTICATED_AFTER_REFRESH"
    statuses = [(e["kind"], e["status"]) for e in fake.requests()][-4:]
    assert statuses == [("generate", 200), ("generate", 401), ("token", 200), ("generate", 401)]


@pytest.mark.anyio
async def test_a_403_on_the_project_forgets_it_for_the_next_try(fake: FakeGemini) -> None:
    async with client(fake) as code_assist:
        await code_assist.generate(ACCOUNT, "gemini-2.5-flash", REQUEST)
        fault(fake, "iam_denied", times=1)
        with pytest.raises(UpstreamError) as caught:
            await code_assist.generate(ACCOUNT, "gemini-2.5-flash", REQUEST)
        assert caught.value.failure.kind is FailureKind.NOT_PROVISIONED
        await code_assist.generate(ACCOUNT, "gemini-2.5-flash", REQUEST)
    kinds = [e["kind"] for e in fake.requests() if e["api"] == "code_assist"]
    assert kinds == ["load_code_assist", "generate", "generate", "load_code_assist", "generate"]


@pytest.mark.anyio
async def test_probe_checks_token_and_project_without_generating(fake: FakeGemini) -> None:
    async with client(fake) as code_assist:
        await code_assist.probe(ACCOUNT)
        post_json(f"{fake.url}/_control/accounts", {"refresh_token": REFRESH, "revoked": True})
        # A probe asks for a token anew (a refusal remembered earlier may have been fixed
        # since): the refresh of a revoked grant gets invalid_grant.
        with pytest.raises(UpstreamError) as caught:
            await code_assist.probe(ACCOUNT)
    assert caught.value.failure.reason == "invalid_grant"
    kinds = [e["kind"] for e in fake.requests()]
    assert "generate" not in kinds and kinds == ["token", "load_code_assist", "token"]
    assert call("GET", f"{fake.url}/_control/stats").json()["by_kind"]["token"] == 2


@pytest.mark.anyio
@pytest.mark.parametrize("streamed", [False, True], ids=["generate", "stream"])
async def test_a_refusal_of_the_client_names_the_accounts_file(
    fake: FakeGemini, streamed: bool
) -> None:
    """An account served before 2026-06-18 (project cached), refused from then on."""
    account = Credential("oauth", REFRESH, source="gemini-cli-bob.json", pool="primary")
    async with client(fake) as code_assist:
        await code_assist.generate(account, "gemini-2.5-flash", REQUEST)
        post_json(
            f"{fake.url}/_control/accounts", {"refresh_token": REFRESH, "unsupported_client": True}
        )
        with pytest.raises(UpstreamError) as caught:
            if streamed:
                async with code_assist.stream(account, "gemini-2.5-flash", REQUEST):
                    pass
            else:
                await code_assist.generate(account, "gemini-2.5-flash", REQUEST)
    failure = caught.value.failure
    assert failure.kind is FailureKind.NOT_PROVISIONED and failure.reason == "UNSUPPORTED_CLIENT"
    assert "'gemini-cli-bob.json'" in failure.message and "2026-06-18" in failure.message
    assert "This client is no longer supported" in failure.message  # Google's words kept
    # The cached project was dropped: the recheck rediscovers, and finds the refusal there.
    async with client(fake) as code_assist:
        with pytest.raises(UpstreamError) as again:
            await code_assist.probe(account)
    assert again.value.failure.reason == "UNSUPPORTED_CLIENT"
