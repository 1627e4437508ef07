"""Thought signatures bound to their issuer: opened only by the credential and model that issued
them, replaced (function calls) or dropped (other parts) anywhere else."""

import base64
import re

from gemini_proxy.credentials.models import Credential
from gemini_proxy.generation import signatures
from gemini_proxy.generation.service import Call
from gemini_proxy.upstream.wire import Content, FunctionCall, GenerateContentRequest, Part

ALPHA = Credential("ai_studio", "AIza-alpha-key-for-signature-tests")
BRAVO = Credential("ai_studio", "AIza-bravo-key-for-signature-tests")
MODEL = "gemini-3-flash-preview"
GOOGLE_SIGNATURE = "CiQBcs2H0dj3JyqP8xSig+/Natur4l=="


def test_a_token_opens_only_for_its_credential_and_model() -> None:
    token = signatures.Signer(ALPHA, MODEL).bind(GOOGLE_SIGNATURE)
    assert signatures.is_bound(token) and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert GOOGLE_SIGNATURE not in token
    assert signatures.release(token, ALPHA, MODEL) == GOOGLE_SIGNATURE
    assert signatures.release(token, BRAVO, MODEL) is None
    assert signatures.release(token, ALPHA, "gemini-3-pro-preview") is None
    assert signatures.issuer(token) == ALPHA.fingerprint


def test_an_altered_or_forged_token_opens_nowhere() -> None:
    token = signatures.Signer(ALPHA, MODEL).bind(GOOGLE_SIGNATURE)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert signatures.release(flipped, ALPHA, MODEL) is None
    assert signatures.release(signatures.PREFIX + "not-base64!", ALPHA, MODEL) is None
    assert signatures.release(signatures.PREFIX, ALPHA, MODEL) is None
    # A token made with another credential's secret but naming ALPHA does not open either.
    impostor = Credential("ai_studio", "AIza-someone-else")
    forged = signatures.Signer(impostor, MODEL).bind(GOOGLE_SIGNATURE)
    body = forged[len(signatures.PREFIX) :]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    renamed = raw[:16] + bytes.fromhex(ALPHA.fingerprint) + raw[22:]
    claimed = signatures.PREFIX + base64.urlsafe_b64encode(renamed).decode().rstrip("=")
    assert signatures.issuer(claimed) == ALPHA.fingerprint
    assert signatures.release(claimed, ALPHA, MODEL) is None


def history(token: str) -> GenerateContentRequest:
    return GenerateContentRequest(
        contents=[
            Content(role="user", parts=[Part(text="plan")]),
            Content(
                role="model",
                parts=[
                    Part(text="thinking", thought=True, thought_signature=token),
                    Part(function_call=FunctionCall(name="f", args={}), thought_signature=token),
                ],
            ),
            Content(role="user", parts=[Part(text="go on")]),
        ]
    )


def sent_signatures(body: bytes) -> list[str | None]:
    request = GenerateContentRequest.model_validate_json(body)
    return [part.thought_signature for part in request.contents[1].parts]


def test_each_credential_gets_the_real_signature_or_the_skip_value() -> None:
    token = signatures.Signer(ALPHA, MODEL).bind(GOOGLE_SIGNATURE)
    call = Call(MODEL, history(token))
    assert sent_signatures(call.body(ALPHA)) == [GOOGLE_SIGNATURE, GOOGLE_SIGNATURE]
    # Another credential: the call gets Google's documented skip value, the thought nothing.
    assert sent_signatures(call.body(BRAVO)) == [None, signatures.SKIP]
    assert call.body(ALPHA) is call.body(ALPHA)  # encoded once per credential


def test_raw_signatures_pass_unchanged_and_encode_once() -> None:
    call = Call(MODEL, history(GOOGLE_SIGNATURE))
    assert sent_signatures(call.body(BRAVO)) == [GOOGLE_SIGNATURE, GOOGLE_SIGNATURE]
    assert call.body(ALPHA) is call.body(BRAVO)
