"""What `sam build` made, checked right after it (`make sam-check`, with the SAM CLI's Python).

    python tests/deploy/check_build.py .aws-sam/build

- SAM's own transform of template.yaml gives every API route an InvokeWithResponseStream
  integration in STREAM mode. `sam validate --lint` cannot catch a wrong value here: the Api
  event's `ResponseTransferMode` takes RESPONSE_STREAM, and anything else, STREAM included,
  silently gives a buffered `/invocations` integration.
- The API passes audio uploads on as bytes (binary media types), not as UTF-8 text.
- The built template keeps the proxy function's streaming Api events.
- The built layer holds the package without what a request never imports, with the
  dashboard's static files, and a python3.13 unchecked-hash `.pyc` beside every module, its
  dependencies' included (/opt is read-only on Lambda: a module without one is compiled again
  on every cold start).
"""

import logging
import os
import struct
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
STREAMING_URI = "/response-streaming-invocations"
LEFT_OUT = ("cli", "fake_gemini")  # the Makefile's LAYER_EXCLUDE
PYC_TAG = "cpython-313"
AARCH64 = 183  # ELF e_machine of Lambda's arm64
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked
DASHBOARD_FILES = ("index.html", "dashboard.css", "dashboard.js")


class _NoManagedPolicies:
    """The template's policies are inline statements: nothing to look up in IAM."""

    def load(self) -> dict[str, str]:
        return {}


def check_transform(template_text: str) -> list[str]:
    template = yaml_parse(template_text)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):  # the transform wants S3 locations
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://bucket/{properties[key]}"
    resources = transform(template, {}, _NoManagedPolicies())["Resources"]
    body = resources["Api"]["Properties"]["Body"]
    paths = body["paths"]
    problems = [] if set(paths) == {"/", "/{proxy+}"} else [f"API paths are {sorted(paths)}"]
    binary = body.get("x-amazon-apigateway-binary-media-types", [])
    if not {"multipart/form-data", "audio/*"} <= set(binary):
        problems.append(f"binary media types {binary}: audio uploads would arrive as UTF-8 text")
    for path, methods in paths.items():
        integration = methods["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        if integration.get("responseTransferMode") != "STREAM":
            problems.append(f"{path}: the integration does not stream")
        if not integration["uri"]["Fn::Sub"].endswith(STREAMING_URI):
            problems.append(f"{path}: the integration does not call {STREAMING_URI}")
        if integration.get("timeoutInMillis") != 900_000:
            problems.append(f"{path}: the integration times out before 15 minutes")
    return problems


def check_built_template(build_dir: Path) -> list[str]:
    built = yaml_parse((build_dir / "template.yaml").read_text())["Resources"]
    events: dict[str, Any] = built["ProxyFunction"]["Properties"]["Events"]
    streamed = {
        event["Properties"]["Path"]
        for event in events.values()
        if event["Type"] == "Api"
        and event["Properties"].get("ResponseTransferMode") == "RESPONSE_STREAM"
    }
    if streamed != {"/", "/{proxy+}"}:
        return [f"the built template's streaming Api events cover {sorted(streamed)}"]
    return []


def check_layer(layer: Path) -> list[str]:
    package = layer / "python" / "gemini_proxy"
    left_in = [name for name in LEFT_OUT if (package / name).exists()]
    problems = [f"the layer has gemini_proxy/{name}" for name in left_in]
    modules = sorted((layer / "python").rglob("*.py"))
    if not (package / "app" / "factory.py").exists():
        problems.append("the layer has no gemini_proxy/app/factory.py")
    for name in DASHBOARD_FILES:  # not modules: a copy that kept only .py files would miss them
        if not (package / "dashboard" / "static" / name).is_file():
            problems.append(f"the layer has no gemini_proxy/dashboard/static/{name}")
    for module in modules:
        pyc = module.parent / "__pycache__" / f"{module.stem}.{PYC_TAG}.pyc"
        if not pyc.exists():
            problems.append(f"no {PYC_TAG} bytecode for {module.relative_to(layer)}")
            continue
        with pyc.open("rb") as header:
            (flags,) = struct.unpack("<I", header.read(8)[4:8])
        if flags != UNCHECKED_HASH:
            problems.append(f"{pyc.relative_to(layer)} is not unchecked-hash bytecode")
    strays = [p for p in (layer / "python").rglob("*.pyc") if PYC_TAG not in p.name]
    problems += [f"bytecode for another Python: {p.relative_to(layer)}" for p in strays[:5]]
    for library in (layer / "python").rglob("*.so"):
        with library.open("rb") as elf:
            (machine,) = struct.unpack("<H", elf.read(20)[18:20])
        if machine != AARCH64:
            problems.append(f"{library.relative_to(layer)} is not built for arm64")
    print(
        f"layer: {len(modules)} modules, every one with {PYC_TAG} unchecked-hash bytecode"
        if not problems
        else f"layer: {len(problems)} problem(s)"
    )
    return problems


def main(build_dir: Path) -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the transform wants one, any
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    problems = check_transform((ROOT / "template.yaml").read_text())
    problems += check_built_template(build_dir)
    problems += check_layer(build_dir / "CommonLayer")
    for problem in problems[:40]:
        print(f"check_build: {problem}", file=sys.stderr)
    if not problems:
        print("check_build: API routes / and /{proxy+} stream; the layer is trimmed, with bytecode")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build")))
