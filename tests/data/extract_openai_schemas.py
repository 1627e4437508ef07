"""Maintainer tool: copy the OpenAI response schemas the tests validate against.

Run once when OpenAI's spec changes: `python tests/data/extract_openai_schemas.py SPEC.json`.
It keeps the named schemas and every schema they reference, so the tests need no network and
no copy of the 3 MB spec. Tests never run this file.
"""

import json
import sys
from pathlib import Path
from typing import Any

ROOTS = [
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "ListModelsResponse",
    "CreateEmbeddingResponse",
    "ErrorResponse",
    "CreateChatCompletionRequest",
    "CreateResponse",
    "Response",
    "ResponseStreamEvent",
    "ResponseItemList",
    "TokenCountsResource",
]


def refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs(value)
    return found


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    schemas = spec["components"]["schemas"]
    keep: dict[str, Any] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = schemas[name]
        todo.extend(refs(schemas[name]) - keep.keys())
    out = {
        "info": {"source": "openai/openai-openapi", "version": spec["info"]["version"]},
        "license": spec["info"]["license"],
        "components": {"schemas": dict(sorted(keep.items()))},
    }
    target = Path(__file__).with_name("openai_schemas.json")
    target.write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")
    print(f"wrote {len(keep)} schemas to {target}")


if __name__ == "__main__":
    main(sys.argv[1])
