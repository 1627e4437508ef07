"""Which requests the Gemini dialect claims, and how a model path is split."""

from typing import Any

import pytest

from gemini_proxy.errors import InvalidRequest, NotFound
from gemini_proxy.gemini.paths import claims, served_method, split_target


def scope(method: str, path: str, headers: dict[str, str] | None = None, query: str = "") -> Any:
    raw = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "headers": raw,
        "query_string": query.encode(),
    }


@pytest.mark.parametrize(
    "path",
    [
        "/v1beta",
        "/v1beta/models",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "/v1beta/nowhere",
        "/models",
        "/models/gemini-2.5-flash:streamGenerateContent",
    ],
)
def test_its_own_prefixes_are_claimed_whatever_the_client(path: str) -> None:
    assert claims(scope("GET", path))
    assert claims(scope("POST", path, {"authorization": "Bearer sk-x"}))


def test_v1_models_is_gemini_only_for_google_clients_or_a_post() -> None:
    assert not claims(scope("GET", "/v1/models"))
    assert not claims(scope("GET", "/v1/models", {"authorization": "Bearer sk-x"}))
    assert not claims(scope("GET", "/v1/models/gpt-4o", {"authorization": "Bearer sk-x"}))
    assert claims(scope("GET", "/v1/models", {"x-goog-api-key": "k"}))
    assert claims(scope("GET", "/v1/models", {"x-goog-api-client": "google-genai-sdk/3"}))
    assert claims(scope("GET", "/v1/models/gemini-2.5-flash", query="key=k"))
    assert claims(scope("GET", "/v1/models", query="pageSize=3&key=k"))
    assert not claims(scope("GET", "/v1/models", query="monkey=1"))
    assert claims(scope("POST", "/v1/models/gemini-2.5-flash:generateContent"))


@pytest.mark.parametrize(
    "path", ["/v1/chat/completions", "/v1/embeddings", "/v1/modelsx", "/health", "/", "/v1"]
)
def test_other_paths_are_not_claimed(path: str) -> None:
    assert not claims(scope("POST", path, {"x-goog-api-key": "k"}))
    assert not claims(scope("GET", path))


def test_a_target_splits_at_its_last_colon() -> None:
    assert split_target("gemini-2.5-flash:generateContent") == (
        "gemini-2.5-flash",
        "generateContent",
    )
    assert split_target("gemini-2.5-flash") == ("gemini-2.5-flash", "")
    # The model keeps any other colon: the model id check refuses it.
    assert split_target("a:b:countTokens") == ("a:b", "countTokens")


@pytest.mark.parametrize(
    "target",
    ["m:generateContent/../../files", "m:generate%2FContent", "m:count Tokens", "m:", "m:x?y"],
)
def test_a_method_that_is_not_a_plain_word_is_a_400(target: str) -> None:
    with pytest.raises(InvalidRequest):
        split_target(target)


def test_unknown_or_missing_methods_are_404() -> None:
    assert served_method("countTokens") == "countTokens"
    for method in ("predict", "generateAnswer", ""):
        with pytest.raises(NotFound):
            served_method(method)
