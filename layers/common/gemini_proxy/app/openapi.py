"""The proxy's own OpenAPI document, served at GET /openapi.json.

Built from the same pydantic models that validate requests and shape answers, so it cannot
drift from the code. Fuzzers (schemathesis) and client generators read it.
"""

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from gemini_proxy import __version__
from gemini_proxy.anthropic.models import MessageOut as AnthropicMessage
from gemini_proxy.anthropic.models import MessagesRequest, TokenCount
from gemini_proxy.openai.models import (
    ChatCompletion,
    ChatCompletionRequest,
    EmbeddingList,
    EmbeddingRequest,
    ModelCard,
    ModelList,
)
from gemini_proxy.responses.models import ResponseObject, ResponsesRequest

_REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": "OpenAI-shaped error",
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for status in statuses
    }


def _json(name: str) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": _ref(name)}}}


def _post(request: str, answer: str, errors: dict[str, Any]) -> dict[str, Any]:
    ok = _json(answer)
    ok["content"]["text/event-stream"] = {"schema": {"type": "string"}}
    return {
        "post": {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(request)}},
            },
            "responses": {"200": ok, **errors},
        }
    }


@cache
def openapi_document() -> dict[str, Any]:
    refs, definitions = models_json_schema(
        [
            (ChatCompletionRequest, "validation"),
            (ChatCompletion, "serialization"),
            (EmbeddingRequest, "validation"),
            (EmbeddingList, "serialization"),
            (ModelList, "serialization"),
            (ModelCard, "serialization"),
            (ResponsesRequest, "validation"),
            (ResponseObject, "serialization"),
            (MessagesRequest, "validation"),
            (AnthropicMessage, "serialization"),
            (TokenCount, "serialization"),
        ],
        ref_template=_REF,
    )
    schemas = {**definitions.get("$defs", {}), "Error": _ERROR}
    # Two dialects have a `MessageOut`: pydantic names them apart; take the name it chose.
    anthropic_message = refs[(AnthropicMessage, "serialization")]["$ref"].rsplit("/", 1)[-1]
    client_errors = _errors(400, 401, 404, 413, 415, 429, 502, 503)
    chat_ok = _json("ChatCompletion")
    chat_ok["content"]["text/event-stream"] = {"schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Gemini CLI Proxy", "version": __version__},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/health": {"get": {"security": [], "responses": {"200": {"description": "OK"}}}},
            "/v1/models": {"get": {"responses": {"200": _json("ModelList"), **_errors(401)}}},
            "/v1/models/{model}": {
                "get": {
                    "parameters": [
                        {
                            "name": "model",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {"200": _json("ModelCard"), **_errors(401, 404)},
                }
            },
            "/v1/chat/completions": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("ChatCompletionRequest")}},
                    },
                    "responses": {"200": chat_ok, **client_errors},
                }
            },
            "/v1/responses": _post("ResponsesRequest", "ResponseObject", client_errors),
            "/v1/messages": _post("MessagesRequest", anthropic_message, client_errors),
            "/v1/messages/count_tokens": _post("MessagesRequest", "TokenCount", client_errors),
            "/v1/embeddings": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("EmbeddingRequest")}},
                    },
                    "responses": {"200": _json("EmbeddingList"), **client_errors},
                }
            },
        },
    }
