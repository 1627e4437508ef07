"""The SAM template says what the deployment promises (sam validate/build run in `make test`)."""

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


class CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub, ...) as {"Tag": value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


CloudFormationLoader.add_multi_constructor("!", _tag)
TEMPLATE: dict[str, Any] = yaml.load(
    (ROOT / "template.yaml").read_text(), Loader=CloudFormationLoader
)
RESOURCES = TEMPLATE["Resources"]


def test_layer_is_built_for_python_313_on_arm64() -> None:
    layer = RESOURCES["CommonLayer"]
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["ContentUri"] == "layers/common/"
    globals_ = TEMPLATE["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13" and globals_["Architectures"] == ["arm64"]


def test_proxy_runs_under_the_web_adapter_in_streaming_mode() -> None:
    proxy = RESOURCES["ProxyFunction"]["Properties"]
    env = proxy["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/health"
    assert proxy["Handler"] == "run.sh" and proxy["CodeUri"] == "functions/proxy/"
    adapter = proxy["Layers"][0]["Sub"]
    assert re.search(
        r"753240598075:layer:LambdaAdapterLayerArm64:\$\{WebAdapterLayerVersion\}", adapter
    )
    # Pinned: a number, not "latest".
    assert isinstance(TEMPLATE["Parameters"]["WebAdapterLayerVersion"]["Default"], int)


def test_rest_api_streams_through_invoke_with_response_stream() -> None:
    assert RESOURCES["RestApi"]["Properties"]["EndpointConfiguration"]["Types"] == ["REGIONAL"]
    integration = RESOURCES["ProxyMethod"]["Properties"]["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert integration["ResponseTransferMode"] == "STREAM"
    assert integration["Uri"]["Sub"].endswith("/response-streaming-invocations")
    assert integration["TimeoutInMillis"] >= 300_000
    url = RESOURCES["ProxyFunctionUrl"]
    assert url["Condition"] == "WithFunctionUrl"
    assert url["Properties"]["InvokeMode"] == "RESPONSE_STREAM"


def test_state_table_is_on_demand_with_ttl() -> None:
    table = RESOURCES["StateTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
    assert keys == {"pk": "HASH", "sk": "RANGE"}


def test_permissions_are_least_privilege() -> None:
    for name in ("ProxyFunction", "RecheckFunction"):
        statements = RESOURCES[name]["Properties"]["Policies"][0]["Statement"]
        by_action = {
            tuple(sorted(s["Action"])) if isinstance(s["Action"], list) else (s["Action"],): s
            for s in statements
        }
        table = by_action[
            ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
        ]
        assert table["Resource"] == {"GetAtt": "StateTable.Arn"}
        secret = by_action[("secretsmanager:GetSecretValue",)]
        assert "${SecretName}-*" in secret["Resource"]["Sub"]
        assert all(s["Resource"] != "*" for s in statements)


def test_recheck_runs_on_a_schedule_and_logs_are_retained() -> None:
    recheck = RESOURCES["RecheckFunction"]["Properties"]
    assert recheck["Handler"] == "app.handler"
    assert recheck["Events"]["Schedule"]["Properties"]["Schedule"] == {"Ref": "RecheckRate"}
    for logs in ("ProxyFunctionLogs", "RecheckFunctionLogs"):
        assert RESOURCES[logs]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_alarms_notify_the_optional_topic() -> None:
    for alarm in ("ServerErrorAlarm", "NoCredentialAlarm"):
        actions = RESOURCES[alarm]["Properties"]["AlarmActions"]
        assert actions["If"][0] == "WithAlarmTopic"
    assert RESOURCES["NoCredentialAlarm"]["Properties"]["MetricName"] == "NoCredentialAvailable"


def test_no_secret_is_resolved_into_the_function_configuration() -> None:
    text = (ROOT / "template.yaml").read_text()
    assert "{{resolve:secretsmanager" not in text
    assert "GEMINI_PROXY_SECRET_NAME" in text


def test_samconfig_has_default_and_prod_without_secrets() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert {"default", "prod"} <= set(config)
    assert not re.search(
        r"AIza|ya29\.|secret_access|password", (ROOT / "samconfig.toml").read_text()
    )


def test_layer_requirements_match_the_package_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=;\[ ]", dep)[0].lower() for dep in project}
    lines = (ROOT / "layers/common/requirements.txt").read_text().splitlines()
    layer = {
        re.split(r"[<>=;\[ ]", line)[0].lower()
        for line in lines
        if line and not line.startswith("#")
    }
    assert names == layer
