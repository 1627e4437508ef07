"""Gemini's thought signatures inside a reasoning item's `encrypted_content`. Pure.

A stateless agent (Codex) sends every earlier output item back on the next turn, reasoning
items with their `encrypted_content` untouched. That field carries the signatures of one answer:
the one on its text, and one per function call keyed by the call's id. Each is already a bound
token (generation.signatures): it opens only for the credential and model that issued it, so
the client can read but not forge it. The call's own `call_id` carries its signature too, for
clients that drop reasoning items.

What comes back is checked: anything that is not this format, or holds anything but bound
tokens, is ignored (a client may replay another provider's reasoning after switching models).
"""

import base64
import binascii
import json
from dataclasses import dataclass, field

from gemini_proxy.generation import signatures

PREFIX = "gprs1."


@dataclass
class Carried:
    text: str | None = None  # the signature on the answer's text, if Gemini put one there
    calls: dict[str, str] = field(default_factory=dict)  # call key -> signature token

    def __bool__(self) -> bool:
        return self.text is not None or bool(self.calls)


def call_key(call_id: str) -> str:
    """The part of a call id that names the call (the signature, if any, follows `.ts.`)."""
    return call_id.partition(".")[0]


def seal(carried: Carried) -> str:
    payload: dict[str, object] = {"c": carried.calls}
    if carried.text is not None:
        payload["t"] = carried.text
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unseal(value: str | None) -> Carried | None:
    if not value or not value.startswith(PREFIX):
        return None
    body = value[len(PREFIX) :]
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    text = payload.get("t")
    calls = payload.get("c")
    if text is not None and not _token(text):
        return None
    if not isinstance(calls, dict) or not all(
        isinstance(key, str) and _token(token) for key, token in calls.items()
    ):
        return None
    return Carried(text, dict(calls))


def _token(value: object) -> bool:
    return isinstance(value, str) and signatures.is_bound(value)
