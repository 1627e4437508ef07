"""Which requests are Gemini's, and what `models/{model}:{method}` names.

Google's clients call `/v1beta/...`; google-genai with `api_version="v1"` calls `/v1/models`,
and some IDE plugins call `/models/...` with no version. `/v1/models` is also OpenAI's model
list: a GET there is Gemini's only when the client speaks like Google's clients (an
`x-goog-api-key` or `x-goog-api-client` header, or `?key=`); OpenAI's SDKs send
`Authorization: Bearer` and get OpenAI's list. A POST under `/v1/models/` is always Gemini's:
OpenAI has none.
"""

import re

from starlette.types import Scope

from gemini_proxy.errors import InvalidRequest, NotFound

PREFIXES = ("/v1beta", "/v1", "")
GENERATE = "generateContent"
STREAM = "streamGenerateContent"
COUNT_TOKENS = "countTokens"
EMBED = "embedContent"
BATCH_EMBED = "batchEmbedContents"
METHODS = frozenset({GENERATE, STREAM, COUNT_TOKENS, EMBED, BATCH_EMBED})

_METHOD = re.compile(r"[A-Za-z]{1,64}")
_GOOGLE_HEADERS = (b"x-goog-api-key", b"x-goog-api-client")


def claims(scope: Scope) -> bool:
    path: str = scope["path"]
    if _under(path, "/v1beta") or _under(path, "/models"):
        return True
    if _under(path, "/v1/models"):
        return scope["method"] == "POST" or speaks_google(scope)
    return False


def speaks_google(scope: Scope) -> bool:
    if any(name in _GOOGLE_HEADERS for name, _ in scope["headers"]):
        return True
    query: bytes = scope.get("query_string", b"")
    return query.startswith(b"key=") or b"&key=" in query


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def split_target(target: str) -> tuple[str, str]:
    """`{model}:{method}` as the model the client named and the method, checked for form only.

    The model is checked by the generation service (its charset keeps it one path segment);
    the method must be a plain word here, so nothing else can ride along in it.
    """
    model, colon, method = target.rpartition(":")
    if not colon:
        return target, ""
    if not _METHOD.fullmatch(method):
        raise InvalidRequest(f"Invalid method name: '{method[:64]}'", code="invalid_method")
    return model, method


def served_method(method: str) -> str:
    if method not in METHODS:
        served = ", ".join(sorted(METHODS))
        named = f"'{method}'" if method else "no method (models/{model}:{method})"
        raise NotFound(
            f"Method not found: {named}; this proxy serves {served}", code="method_not_found"
        )
    return method
