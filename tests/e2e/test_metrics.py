"""Metrics: Prometheus text behind a switch and the client key; EMF lines on Lambda."""

import json

import pytest
from openai import OpenAI

from gemini_proxy.generation.outcome import Outcome
from gemini_proxy.metrics import Metrics
from tests.e2e.conftest import ProxyFactory, proxy_config
from tests.support.fake import FakeGemini
from tests.support.http import call


def test_prometheus_endpoint_is_off_by_default(start_proxy: ProxyFactory) -> None:
    assert call("GET", start_proxy().url + "/metrics").status == 404


def test_prometheus_endpoint_counts_requests(start_proxy: ProxyFactory, fake: FakeGemini) -> None:
    proxy = start_proxy(config=proxy_config(fake, metrics={"enabled": True}), client_keys=["k"])
    assert call("GET", proxy.url + "/metrics").status == 401
    client = OpenAI(base_url=f"{proxy.url}/v1", api_key="k", max_retries=0)
    before = call("GET", proxy.url + "/metrics", headers={"authorization": "Bearer k"})
    for _ in range(3):
        client.chat.completions.create(
            model="gemini-2.5-flash", messages=[{"role": "user", "content": "count me"}]
        )
    after = call("GET", proxy.url + "/metrics", headers={"authorization": "Bearer k"})
    assert after.headers["content-type"].startswith("text/plain")

    def value(text: bytes, prefix: str) -> float:
        lines = [line for line in text.decode().splitlines() if line.startswith(prefix)]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    metric = (
        "gemini_proxy_requests_total"
        '{path="/v1/chat/completions",model="gemini-2.5-flash",status="200"}'
    )
    assert value(after.body, metric) - value(before.body, metric) == 3
    assert value(after.body, 'gemini_proxy_credentials_available{model="gemini-2.5-flash"}') == 3
    assert value(after.body, "gemini_proxy_added_latency_ms_count") >= 3


def test_emf_lines_on_lambda(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "GeminiProxy")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "gemini-proxy")
    emf = Metrics(emf=True)
    outcome = Outcome("req_1", "POST", "/v1/chat/completions", "openai", status=429)
    outcome.error = "rate_limit_exceeded"
    emf.request(outcome, "m", 3.0, available=0)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert lines, "no EMF line printed"
    record = lines[-1]
    names = {m["Name"] for m in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"Requests", "Latency", "NoCredentialAvailable", "CredentialsAvailable"} <= names
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "GeminiProxy"
    assert record["service"] == "gemini-proxy"
