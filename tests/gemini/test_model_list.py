"""Google's model list from the proxy's catalog, paged as Google pages."""

import pytest

from gemini_proxy.errors import InvalidRequest
from gemini_proxy.gemini.model_list import model_objects, page
from gemini_proxy.upstream.wire import ModelInfo

FLASH = ModelInfo(
    name="models/gemini-2.5-flash",
    display_name="Gemini 2.5 Flash",
    input_token_limit=1048576,
    output_token_limit=65536,
    supported_generation_methods=["generateContent", "countTokens", "createCachedContent"],
)


def test_listed_models_carry_googles_metadata_and_only_served_methods() -> None:
    names = ["gemini-2.5-flash", "house", "gemini-9-configured", "my-embedding-model"]
    objects = model_objects(names, {"gemini-2.5-flash": FLASH}, {"house": "gemini-2.5-flash"})
    flash, alias, configured, embedder = objects
    assert flash == {
        "name": "models/gemini-2.5-flash",
        "displayName": "Gemini 2.5 Flash",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }
    # An alias: its target's metadata under its own name.
    assert alias == {**flash, "name": "models/house"}
    assert configured["name"] == "models/gemini-9-configured"
    assert configured["supportedGenerationMethods"] == ["generateContent", "countTokens"]
    assert embedder["supportedGenerationMethods"] == ["embedContent", "batchEmbedContents"]


def test_pages_follow_their_tokens_to_the_end() -> None:
    models = [{"name": f"models/m{i}"} for i in range(7)]
    seen: list[object] = []
    token: str | None = None
    for _ in range(10):
        answer = page(models, "3", token)
        seen += [m["name"] for m in answer["models"]]
        token = answer.get("nextPageToken")
        if token is None:
            break
    assert seen == [m["name"] for m in models]


def test_page_sizes_as_google_treats_them() -> None:
    models = [{"name": f"models/m{i}"} for i in range(1200)]
    assert len(page(models, None, None)["models"]) == 50
    assert len(page(models, "0", None)["models"]) == 50
    assert len(page(models, "5000", None)["models"]) == 1000
    with pytest.raises(InvalidRequest):
        page(models, "ten", None)


@pytest.mark.parametrize("token", ["garbage!", "b2Zmc2V0Oi0x", "eHl6OjE", "%%%"])
def test_a_page_token_the_proxy_did_not_make_is_a_400(token: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        page([], None, token)
    assert caught.value.param == "pageToken"
