"""The SAM template says what the deployment promises (sam validate/build run in `make test`)."""

import json
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


def test_layer_is_built_by_our_makefile_for_python_313_on_arm64() -> None:
    # The Makefile's build-CommonLayer trims the package and compiles bytecode with python3.13;
    # tests/deploy/check_build.py checks what it made after `sam build` in `make sam-check`.
    layer = RESOURCES["CommonLayer"]
    assert layer["Metadata"] == {
        "BuildMethod": "makefile",
        "BuildArchitecture": "arm64",
        "ContextPath": ".",
    }
    assert layer["Properties"]["ContentUri"] == "layers/common/"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert re.search(r"^build-CommonLayer:$", (ROOT / "Makefile").read_text(), re.M)
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


def test_rest_api_is_the_functions_streaming_api_events() -> None:
    # SAM's own Api events, so that `sam local start-api` finds the routes. SAM's value is
    # RESPONSE_STREAM: it makes the integration call /response-streaming-invocations in STREAM
    # mode (check_build.py verifies SAM's transform); any other value silently buffers.
    events = RESOURCES["ProxyFunction"]["Properties"]["Events"]
    routes = {}
    for event in events.values():
        assert event["Type"] == "Api"
        properties = event["Properties"]
        assert properties["RestApiId"] == {"Ref": "Api"}
        assert properties["ResponseTransferMode"] == "RESPONSE_STREAM"
        assert properties["TimeoutInMillis"] >= 300_000
        routes[properties["Path"]] = properties["Method"]
    assert routes == {"/": "ANY", "/{proxy+}": "ANY"}
    api = RESOURCES["Api"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert api["Properties"]["EndpointConfiguration"] == {"Type": "REGIONAL"}
    assert api["Properties"]["StageName"] == "api"
    # Audio uploads (multipart, or raw audio) must reach the function as bytes: API Gateway
    # reads any other body as UTF-8 text. SAM's "~1" is CloudFormation's escaped "/".
    assert {"multipart~1form-data", "audio~1*"} <= set(api["Properties"]["BinaryMediaTypes"])
    assert "application~1json" not in api["Properties"]["BinaryMediaTypes"]
    # No hand-written API Gateway resources: SAM's local tooling would not see them.
    assert not [r for r in RESOURCES.values() if r["Type"].startswith("AWS::ApiGateway::")]
    url = RESOURCES["ProxyFunctionUrl"]
    assert url["Condition"] == "WithFunctionUrl"
    assert url["Properties"]["InvokeMode"] == "RESPONSE_STREAM"


def test_env_json_sample_sets_only_what_sam_local_can_override() -> None:
    # `sam local --env-vars` overrides only variables the template declares; others vanish.
    sample = json.loads((ROOT / "env.json.sample").read_text())
    globals_ = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    for function, variables in sample.items():
        own = RESOURCES[function]["Properties"].get("Environment", {}).get("Variables", {})
        assert set(variables) <= set(globals_) | set(own), function
    # SAM local buffers whole answers; the adapter must not try to stream to it.
    assert sample["ProxyFunction"]["AWS_LWA_INVOKE_MODE"] == "buffered"
    assert sample["ProxyFunction"]["GEMINI_PROXY_API_KEYS"]


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
    # Declared for sam local only: on AWS the client keys come from the secret.
    proxy_env = RESOURCES["ProxyFunction"]["Properties"]["Environment"]["Variables"]
    assert proxy_env["GEMINI_PROXY_API_KEYS"] == ""


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
