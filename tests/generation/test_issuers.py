"""Which credential issued a passed-through signature: remembered per process, bounded."""

import base64
import json

from gemini_proxy.generation.issuers import Issuers
from gemini_proxy.generation.signatures import SKIP


def answer(*signatures: str) -> bytes:
    parts = ",".join(
        f'{{"functionCall": {{"name": "f", "args": {{}}}}, "thoughtSignature": "{s}"}}'
        for s in signatures
    )
    return f'{{"candidates": [{{"content": {{"role": "model", "parts": [{parts}]}}}}]}}'.encode()


def history(*signatures: str) -> bytes:
    model_turns = ",".join(
        f'{{"role": "model", "parts": [{{"thoughtSignature": "{s}", "text": "x"}}]}}'
        for s in signatures
    )
    user = '{"role": "user", "parts": [{"text": "hi"}]}'
    return f'{{"contents": [{user}, {model_turns}]}}'.encode()


def test_a_follow_up_names_the_credential_that_issued_its_signature() -> None:
    issuers = Issuers()
    issuers.note(answer("c2lnLWE="), "aaaa")
    issuers.note(answer("c2lnLWI="), "bbbb")
    assert issuers.issuer(history("c2lnLWE=")) == "aaaa"
    assert issuers.issuer(history("c2lnLWI=")) == "bbbb"


def test_the_newest_known_signature_wins_and_unknown_ones_are_skipped() -> None:
    issuers = Issuers()
    issuers.note(answer("b2xkZXI="), "aaaa")
    issuers.note(answer("bmV3ZXI="), "bbbb")
    assert issuers.issuer(history("b2xkZXI=", "bmV3ZXI=")) == "bbbb"
    assert issuers.issuer(history("b2xkZXI=", "dW5rbm93bg==")) == "aaaa"
    assert issuers.issuer(history("dW5rbm93bg==")) is None
    assert issuers.issuer(b'{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}') is None


def test_a_client_that_re_encodes_the_bytes_is_still_recognised() -> None:
    raw = bytes(range(200, 248))  # encodes with '+' and '/' in standard base64
    standard = base64.b64encode(raw).decode()
    assert "+" in standard or "/" in standard
    issuers = Issuers()
    issuers.note(answer(standard), "aaaa")
    assert issuers.issuer(history(base64.urlsafe_b64encode(raw).decode())) == "aaaa"
    assert issuers.issuer(history(standard.rstrip("=").replace("/", "\\/"))) == "aaaa"


def test_memory_is_bounded_oldest_first() -> None:
    issuers = Issuers(capacity=3)
    for n in range(5):
        issuers.note(answer(f"c2ln{n}"), f"fp{n}")
    assert len(issuers) == 3
    assert issuers.issuer(history("c2ln0")) is None
    assert issuers.issuer(history("c2ln1")) is None
    assert issuers.issuer(history("c2ln4")) == "fp4"


def test_a_stream_event_without_a_signature_leaves_no_trace() -> None:
    issuers = Issuers()
    issuers.note(b'{"candidates": [{"content": {"parts": [{"text": "Hello"}]}}]}', "aaaa")
    assert len(issuers) == 0


def test_another_credentials_signatures_become_the_skip_value_or_go() -> None:
    issuers = Issuers()
    issuers.note(answer("Y2FsbA=="), "aaaa")
    issuers.note(b'{"parts": [{"text": "t", "thoughtSignature": "dGV4dA=="}]}', "aaaa")
    issuers.note(answer("b3du"), "bbbb")
    request = (
        b'{"contents": [{"role": "model", "parts": ['
        b'{"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "Y2FsbA=="}, '
        b'{"text": "t", "thoughtSignature": "dGV4dA=="}, '
        b'{"functionCall": {"name": "g", "args": {}}, "thoughtSignature": "b3du"}, '
        b'{"functionCall": {"name": "h", "args": {}}, "thoughtSignature": "dW5rbm93bg=="}'
        b']}], "generationConfig": {"temperature": 0.3}}'
    )
    # Nothing foreign in it (its issuer's, or unknown here): the very bytes the client sent.
    own = answer("Y2FsbA==", "dW5rbm93bg==")
    assert issuers.for_credential(own, "aaaa") is own

    sent = json.loads(issuers.for_credential(request, "bbbb"))
    parts = sent["contents"][0]["parts"]
    assert parts[0]["thoughtSignature"] == SKIP  # aaaa's call: the skip value
    assert "thoughtSignature" not in parts[1]  # aaaa's text part: no signature at all
    assert parts[2]["thoughtSignature"] == "b3du"  # bbbb's own
    assert parts[3]["thoughtSignature"] == "dW5rbm93bg=="  # unknown here: as it came
    assert sent["generationConfig"] == {"temperature": 0.3}
