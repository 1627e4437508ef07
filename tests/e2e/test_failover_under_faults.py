"""The pool under injected faults, through the real server and the official SDK.

Eight keys; the fake answers some with per-minute 429s (with retry hints), one with a daily
quota 429, one as an invalid key, some with 5xx and connection resets. 520 requests, streamed
and not, 16 at a time. The fake's own request log is the witness.
"""

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
from openai import OpenAI

from gemini_proxy.credentials.fingerprint import fingerprint
from tests.e2e.conftest import ProxyFactory, proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import call
from tests.support.openai_schema import validate

KEYS = [f"fault-test-key-{n}" for n in range(8)]
REQUESTS = 520
CONCURRENCY = 16
MODELS = ["gemini-2.5-flash", "gemini-2.5-pro"]
# Per-key faults and the bench each implies (seconds; None: none; inf: for the rest of the run).
FAULTS: dict[int, tuple[dict[str, Any], int | None, float | None]] = {
    0: ({"type": "rate_limit_minute", "retry_delay": "1.2s"}, 4, 1.2),
    1: ({"type": "rate_limit_minute", "retry_delay": "0.8s"}, 4, 0.8),
    2: ({"type": "rate_limit_exceeded", "retry_delay": "2s"}, 2, 2.0),
    3: ({"type": "quota_day"}, None, float("inf")),
    4: ({"type": "invalid_key"}, None, None),
    5: ({"type": "internal"}, 6, None),
    6: ({"type": "reset"}, 6, None),
}


def ask(client: OpenAI, n: int) -> dict[str, Any]:
    prompt = f"request number {n} please answer"
    model = MODELS[n % 2]
    messages = [{"role": "user", "content": prompt}]
    try:
        if n % 2:
            text = ""
            with client.chat.completions.with_streaming_response.create(
                model=model, messages=messages, stream=True
            ) as response:
                for line in response.iter_lines():
                    if line.startswith("data: {"):
                        chunk = json.loads(line[6:])
                        if "error" in chunk:
                            return {"ok": False, "status": 200, "body": chunk, "prompt": prompt}
                        validate("CreateChatCompletionStreamResponse", chunk)
                        if chunk["choices"]:
                            text += chunk["choices"][0]["delta"].get("content") or ""
        else:
            raw = client.chat.completions.with_raw_response.create(model=model, messages=messages)
            body = json.loads(raw.text)
            validate("CreateChatCompletionResponse", body)
            text = body["choices"][0]["message"]["content"]
        return {"ok": True, "text": text, "prompt": prompt, "stream": bool(n % 2)}
    except openai.APIStatusError as error:
        return {"ok": False, "status": error.status_code, "body": error.response.json()}


def test_pool_keeps_answering_under_faults(start_proxy: ProxyFactory, fake: FakeGemini) -> None:
    for index, (fault, times, _) in FAULTS.items():
        fake.fault(fault, key=KEYS[index], times=times)
    config = proxy_config(fake, max_wait_seconds=0)
    config = config.model_copy(
        update={"upstream": config.upstream.model_copy(update={"max_attempts": 4})}
    )
    proxy = start_proxy(keys=KEYS, config=config)
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0, timeout=60)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(lambda n: ask(client, n), range(REQUESTS)))

    succeeded = [r for r in results if r["ok"]]
    failed = [r for r in results if not r["ok"]]
    assert len(succeeded) / REQUESTS >= 0.99, failed[:3]
    for failure in failed:
        validate("ErrorResponse", failure["body"])
        assert failure["status"] in (200, 429, 502, 503)

    # No streamed (or whole) answer holds its text twice: nothing was replayed.
    for result in succeeded:
        expected = f"Echo: {result['prompt']}"
        assert result["text"] == expected, result

    log = [r for r in fake.requests() if r["kind"] in ("generate", "stream")]
    by_key = defaultdict(list)
    for entry in log:
        by_key[(entry["credential"], entry["model"])].append(entry)

    # The invalid key was tried once, ever: after that it is benched for every model.
    assert sum(1 for e in log if e["credential"] == fingerprint(KEYS[4])) == 1

    # Nobody was sent to a credential during a cooldown the proxy had been told about.
    violations = []
    for index, (_, _, bench) in FAULTS.items():
        if not bench:
            continue
        for model in MODELS:
            entries = by_key[(fingerprint(KEYS[index]), model)]
            for limited in (e for e in entries if e["status"] == 429):
                window_end = limited["started_at"] + bench
                violations += [
                    later
                    for later in entries
                    if limited["ended_at"] + 0.005 < later["started_at"] < window_end
                ]
    assert violations == [], [(v["credential"], v["model"], v["started_at"]) for v in violations]

    # Every fault actually fired, or this test proved nothing.
    fired = {e["fault"] for e in log if e["fault"]}
    assert {"rate_limit_minute", "quota_day", "invalid_key", "internal", "reset"} <= fired

    admin = call("GET", f"{proxy.url}/admin/credentials").json()["data"]
    states = {row["fingerprint"]: row for row in admin}
    assert states[fingerprint(KEYS[4])]["state"]["status"] == "invalid"
    daily = states[fingerprint(KEYS[3])]["models"]
    assert all(daily[m]["status"] == "rate_limited" for m in MODELS if m in daily)
    assert any(daily[m]["cooldown_remaining_seconds"] > 3600 for m in daily)
    assert all(KEYS[n] not in json.dumps(admin) for n in range(8))
