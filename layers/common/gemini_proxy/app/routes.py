"""The small endpoints: health and models."""

from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response

from gemini_proxy import __version__
from gemini_proxy.app.responses import JSONBytes, keyed
from gemini_proxy.app.services import Services
from gemini_proxy.errors import NotFound
from gemini_proxy.openai.models import ModelCard, ModelList

# Gemini's list has no creation dates; a fixed stamp keeps the answer stable across restarts.
MODEL_CREATED = 1_735_689_600  # 2025-01-01


async def health(request: Request) -> Response:
    services: Services = request.app.state.services
    count = len(services.credentials)
    body = {
        "status": "ok",
        "version": __version__,
        "credentials": {
            "loaded": count,
            "ai_studio": sum(1 for c in services.credentials if c.kind == "ai_studio"),
            "oauth": sum(1 for c in services.credentials if c.kind == "oauth"),
        },
    }
    if count == 0:
        body["message"] = (
            "No credentials loaded: put AI Studio keys in 'oauth creds/ai_studio_keys.txt' "
            "or Gemini CLI accounts (oauth_creds.json files) in 'oauth creds/'"
        )
    return JSONBytes(to_json(body))


async def _cards(services: Services) -> list[ModelCard]:
    names = await services.catalog.names()
    return [ModelCard(id=name, created=MODEL_CREATED, owned_by="google") for name in names]


@keyed
async def list_models(request: Request) -> Response:
    services: Services = request.app.state.services
    return JSONBytes(ModelList(data=await _cards(services)).model_dump_json().encode())


@keyed
async def get_model(request: Request) -> Response:
    services: Services = request.app.state.services
    wanted = str(request.path_params["model"]).removeprefix("models/")
    for card in await _cards(services):
        if card.id == wanted:
            return JSONBytes(card.model_dump_json().encode())
    raise NotFound(f"The model '{wanted}' does not exist", param="model", code="model_not_found")
