"""The pool while Google fails, through the real server and the official SDK.

The fault mix of issue #16 (tests/chaos/mix.py): six keys, per-minute 429s half the time on two,
a per-day 429, a dead key, an overloaded key, and everywhere 10% HTTP 500s and 5% connection
resets; 240 requests, 12 at a time, half streamed. The fake's request log is the witness of
what reached Google; `make chaos` runs the same mix longer, over three processes.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
from openai import OpenAI

from gemini_proxy.credentials.fingerprint import fingerprint
from tests.chaos import mix
from tests.e2e.conftest import ProxyFactory, proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import call
from tests.support.openai_schema import validate

REQUESTS = 240
CONCURRENCY = 12


def admin_rows(url: str) -> dict[str, dict[str, Any]]:
    reply = call("GET", f"{url}/admin/credentials")
    assert reply.status == 200
    return {row["fingerprint"]: row for row in reply.json()["data"]}


def test_the_pool_keeps_answering_while_google_fails(tmp_path: Path) -> None:
    # The proxy and the fake in processes of their own (the default attempt policy): their
    # timing must not depend on the GIL of this process, busy with twelve clients.
    with mix.servers(tmp_path, processes=1) as running:
        client = OpenAI(base_url=f"{running.proxies[0]}/v1", api_key="x", max_retries=0)
        started = time.monotonic()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            results = list(pool.map(lambda n: mix.ask(client, n), range(REQUESTS)))
        seconds = time.monotonic() - started
        log = mix.requests_log(running.fake)
        rows = admin_rows(running.proxies[0])
    tally = mix.score(results, log)
    print(f"\n{REQUESTS} requests in {seconds:.1f} s\n" + "\n".join(tally.lines()))

    assert tally.success_rate >= 0.995, tally.failures
    assert tally.during_cooldown == 0, mix.cooldown_violations(log)
    assert tally.duplicated_text == 0
    assert tally.not_openai_shaped == 0 and tally.wrong_status == 0
    for failed in (r for r in results if not r["ok"]):
        validate("ErrorResponse", failed["body"])
    # Every fault of the mix fired, or the run proved nothing.
    fired = set(tally.faults_fired)
    assert {"rate_limit_minute", "quota_day", "invalid_key", "unavailable"} <= fired
    assert {"internal", "reset"} <= fired

    assert all(key not in json.dumps(rows) for key in mix.KEYS)
    assert rows[fingerprint(mix.KEYS[3])]["state"]["status"] == "invalid"
    daily = rows[fingerprint(mix.KEYS[2])]["models"]
    assert daily and all(daily[m]["cooldown_remaining_seconds"] > 3600 for m in daily)
    # Google's 500s, resets and overload benched nobody: the dead key is the only invalid one.
    invalid = [fp for fp, row in rows.items() if row["state"]["status"] == "invalid"]
    assert invalid == [fingerprint(mix.KEYS[3])]


def test_a_burst_of_500s_across_all_keys_leaves_none_invalid(
    start_proxy: ProxyFactory, fake: FakeGemini
) -> None:
    keys = mix.KEYS[:3]
    proxy = start_proxy(keys=keys, config=proxy_config(fake))
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="x", max_retries=0, timeout=30)
    messages: Any = [{"role": "user", "content": "are you there"}]
    fake.fault({"type": "internal"})  # every key, every call: an incident at Google

    statuses = []
    for _ in range(12):
        try:
            client.chat.completions.create(model="gemini-2.5-flash", messages=messages)
            statuses.append(200)
        except openai.APIStatusError as error:
            statuses.append(error.status_code)
    # Google is down: the truth is a 503, not a 502 "bad answer" or a 429.
    assert statuses == [503] * 12
    burst = [e for e in fake.requests() if e["fault"] == "internal"]
    assert {e["credential"] for e in burst} == {fingerprint(k) for k in keys}
    # Once the pool sees Google failing for everyone, a request keeps to max_attempts (3)
    # instead of 3 per key: the incident is not multiplied by the pool's size.
    assert len(burst) <= 2 * 9 + 10 * 3
    assert call("DELETE", f"{fake.url}/_control/faults").status == 200

    rows = admin_rows(proxy.url)
    assert [row["state"]["status"] for row in rows.values()] == ["available"] * 3
    # And the pool serves the moment Google is back.
    reply = client.chat.completions.create(model="gemini-2.5-flash", messages=messages)
    assert reply.choices[0].message.content == "Echo: are you there"
