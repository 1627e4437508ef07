"""Stored responses: what `previous_response_id` and the GET endpoints need, in the state store.

One response is the answer as sent and its context (every input item it was generated from, the
previous responses' included), compressed together and cut into records small enough for
DynamoDB's 400 KB item limit. They share one namespace per response, so a single `query` reads
them back on any instance; the head record is written last and names how many parts there
are, so a reader never takes a half-written response for a whole one. Records expire after the
configured time (DynamoDB TTL; SQLite and memory hide them).
"""

import base64
import binascii
import re
import time
import zlib
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json, to_json

from gemini_proxy.state.base import StateStore

NAMESPACE = "response/"
HEAD = "head"
# Characters of base64 per record: with the key and attribute names, well under 400 KB.
PART_CHARS = 300_000
MAX_PARTS = 64  # about 14 MB compressed: beyond that a response is not kept
RESPONSE_ID = re.compile(r"resp_[A-Za-z0-9]{1,64}")


@dataclass
class Stored:
    response: dict[str, Any]  # the response object as the client received it
    context: list[dict[str, Any]]  # the input items it was generated from, with ids
    # The client key (its fingerprint) that created it: no other key may read or continue it.
    owner: str | None = None


class TooLarge(Exception):
    pass


def _namespace(response_id: str) -> str:
    return NAMESPACE + response_id


def _part_key(n: int) -> str:
    return f"part-{n:03d}"


def encode(stored: Stored) -> list[str]:
    raw = to_json({"response": stored.response, "context": stored.context, "owner": stored.owner})
    packed = base64.b64encode(zlib.compress(raw, 6)).decode()
    parts = [packed[i : i + PART_CHARS] for i in range(0, len(packed), PART_CHARS)] or [""]
    if len(parts) > MAX_PARTS:
        raise TooLarge(f"{len(packed)} bytes compressed")
    return parts


def decode(parts: list[str]) -> Stored | None:
    try:
        data = from_json(zlib.decompress(base64.b64decode("".join(parts))))
    except (binascii.Error, zlib.error, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    response, context, owner = data.get("response"), data.get("context"), data.get("owner")
    if not isinstance(response, dict) or not isinstance(context, list):
        return None
    return Stored(response, context, owner if isinstance(owner, str) else None)


class ResponseStore:
    def __init__(self, store: StateStore, ttl_seconds: float) -> None:
        self._store = store
        self._ttl = ttl_seconds

    async def save(self, response_id: str, stored: Stored) -> None:
        """Raises TooLarge for a response too big to keep."""
        parts = encode(stored)
        namespace = _namespace(response_id)
        expires_at = time.time() + self._ttl
        for n, part in enumerate(parts):
            await self._store.put(namespace, _part_key(n), {"z": part}, 0, expires_at)
        # Last: a head that names its parts means they are all there.
        await self._store.put(namespace, HEAD, {"parts": len(parts)}, 0, expires_at)

    async def load(self, response_id: str, owner: str | None = None) -> Stored | None:
        """The response, if it exists and `owner` may see it."""
        if not RESPONSE_ID.fullmatch(response_id):
            return None
        records = {r.key: r for r in await self._store.query(_namespace(response_id))}
        head = records.get(HEAD)
        count = head.data.get("parts") if head is not None else None
        if not isinstance(count, int):
            return None
        parts = [records.get(_part_key(n)) for n in range(count)]
        texts = [r.data.get("z") for r in parts if r is not None]
        if len(texts) != count or not all(isinstance(t, str) for t in texts):
            return None
        stored = decode([str(t) for t in texts])
        if stored is None or (stored.owner is not None and stored.owner != owner):
            return None
        return stored

    async def delete(self, response_id: str, owner: str | None = None) -> bool:
        if await self.load(response_id, owner) is None:
            return False
        records = await self._store.query(_namespace(response_id))
        # The head first: from then on no reader sees the response, whatever remains.
        records.sort(key=lambda r: r.key != HEAD)
        for record in records:
            await self._store.delete(record.namespace, record.key, record.version)
        return True
