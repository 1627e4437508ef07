"""Thought signatures riding in tool-call ids. Pure."""

import base64

from gemini_proxy.openai.tools import new_call_id, signature_in_id

SIGNATURE = base64.b64encode(bytes(range(200))).decode()  # has "+", "/" and "="


def test_a_signature_survives_the_id() -> None:
    call_id = new_call_id(SIGNATURE)
    assert call_id.startswith("call_") and call_id.isascii()
    assert all(c.isalnum() or c in "._-" for c in call_id)  # safe in any client's id field
    assert signature_in_id(call_id) == SIGNATURE


def test_ids_without_a_signature_have_none() -> None:
    assert signature_in_id(new_call_id(None)) is None
    assert signature_in_id("call_abc") is None
    assert signature_in_id("toolu_01.ts.") is None


def test_a_mangled_signature_counts_as_none() -> None:
    # A rewritten tail decodes to bytes that are not base64 text: Gemini could not parse them,
    # so the id counts as unsigned (Gemini 3 then gets the documented skip value).
    call_id = new_call_id(SIGNATURE)
    assert signature_in_id(call_id[:-6] + "AAAAAA") is None
    assert signature_in_id("call_x.ts.%%%") is None
