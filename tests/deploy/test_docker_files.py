"""The Dockerfile and the compose hardening that `make docker-check` applies (no Docker here)."""

import re
from pathlib import Path

import yaml

from tests.deploy.docker_check import compose_hardening

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_takes_its_base_image_as_an_argument() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.13-slim\nFROM \$\{BASE_IMAGE\}$", text, re.M)


def test_the_user_is_not_debians_proxy_and_runs_as_10001() -> None:
    # Debian-based images already have a system user "proxy" (uid 13): useradd refused it.
    text = (ROOT / "Dockerfile").read_text()
    created = re.findall(r"useradd[^\n]*(?:\\\n[^\n]*)*", text)
    assert created and not [line for line in created if re.search(r"\bproxy\s*(\\|$)", line)]
    assert re.search(r"^USER 10001:10001$", text, re.M)


def test_docker_check_runs_with_the_compose_services_hardening(tmp_path: Path) -> None:
    flags = compose_hardening(ROOT / "docker-compose.yml", tmp_path, "state-volume")
    assert {
        "--read-only",
        "--tmpfs=/tmp",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges:true",
        "--mount=type=volume,source=state-volume,target=/app",
    } <= set(flags)
    binds = [flag for flag in flags if flag.startswith("--mount=type=bind")]
    assert len(binds) == 2 and all(flag.endswith(",readonly") for flag in binds)
    assert any(f"source={tmp_path}/oauth creds,target=/app/oauth creds" in f for f in binds)


def test_compose_passes_the_base_image_through() -> None:
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["gemini-proxy"]
    assert service["build"]["args"]["BASE_IMAGE"] == "${BASE_IMAGE:-python:3.13-slim}"
