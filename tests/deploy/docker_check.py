"""`make docker-check`: build the image, run it as docker-compose.yml does, and try it.

    python -m tests.deploy.docker_check [--base-image python:3.13-slim]

1. Builds the Dockerfile with BASE_IMAGE (the legacy builder when buildx is missing).
2. Runs `gemini-proxy serve --demo` in it with the compose service's hardening, read from
   docker-compose.yml itself (read_only, tmpfs, cap_drop, security_opt, the state volume and
   the read-only credentials and config mounts), client keys set as .env would set them.
3. Checks /health, one chat and one streamed chat (the fake Gemini's echo), that the process
   runs as uid 10001 on a read-only root, and that the image's HEALTHCHECK command passes.
Exits 0 when everything holds, 1 when a check fails, 2 when Docker or the base image is missing.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "gemini-cli-proxy:check"
CLIENT_KEY = "docker-check-client-key"
PORT = 8787


class CheckFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"docker-check: {message}", flush=True)


def docker(*args: str, check: bool = True, timeout: float = 60) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise CheckFailed(f"docker {' '.join(args[:2])} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def docker_ok(*args: str) -> bool:
    done = subprocess.run(["docker", *args], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


def engine_problem() -> str | None:
    """Why Docker cannot be used here, or None."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer in 20 s"
    if done.returncode != 0:
        return f"no Docker engine reachable (`docker info`: {done.stderr.strip()[-300:]})"
    return None


def compose_hardening(compose_file: Path, scratch: Path, volume: str) -> list[str]:
    """docker run flags for the compose service's hardening and mounts.

    The named state volume becomes `volume` (a fresh one); bind mounts come from `scratch`,
    which stands for the folder beside docker-compose.yml."""
    service = yaml.safe_load(compose_file.read_text())["services"]["gemini-proxy"]
    flags: list[str] = []
    if service.get("read_only"):
        flags.append("--read-only")
    flags += [f"--tmpfs={path}" for path in service.get("tmpfs", [])]
    flags += [f"--cap-drop={cap}" for cap in service.get("cap_drop", [])]
    flags += [f"--security-opt={opt}" for opt in service.get("security_opt", [])]
    for mount in service.get("volumes", []):
        target = mount["target"]
        if mount["type"] == "volume":
            flags.append(f"--mount=type=volume,source={volume},target={target}")
        elif mount["type"] == "bind":
            source = (scratch / mount["source"]).resolve()
            read_only = ",readonly" if mount.get("read_only") else ""
            flags.append(f"--mount=type=bind,source={source},target={target}{read_only}")
        else:
            raise CheckFailed(f"docker-compose.yml: a {mount['type']} mount is not handled here")
    return flags


def build(base_image: str) -> float:
    env = None
    if not docker_ok("buildx", "version"):
        # Without the buildx plugin a recent client refuses BuildKit; the classic builder
        # reads this Dockerfile the same way.
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    started = time.monotonic()
    argv = ["docker", "build", "--build-arg", f"BASE_IMAGE={base_image}", "-t", IMAGE, "."]
    say(" ".join(argv))
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise CheckFailed(f"docker build failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return time.monotonic() - started


@contextmanager
def running(flags: list[str], volume: str) -> Iterator[str]:
    name = f"gemini-proxy-check-{uuid.uuid4().hex[:8]}"
    docker("volume", "create", volume)
    argv = [
        "run", "--detach", "--name", name, *flags,
        "--env", f"GEMINI_PROXY_API_KEYS={CLIENT_KEY}",
        "--publish", f"127.0.0.1::{PORT}",
        IMAGE, "gemini-proxy", "serve", "--host", "0.0.0.0", "--port", str(PORT), "--demo",
    ]  # fmt: skip
    say("docker " + " ".join(argv))
    try:
        docker(*argv)
        yield name
    finally:
        logs = docker("logs", "--tail", "20", name, check=False)
        docker("rm", "--force", name, check=False)
        docker("volume", "rm", volume, check=False)
        if logs.strip():
            say("last log lines:\n" + logs.rstrip())


def http(method: str, url: str, body: Any = None, timeout: float = 10) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {CLIENT_KEY}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_healthy(base: str, seconds: float) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            status, body = http("GET", base + "/health", timeout=2)
            if status == 200:
                return time.monotonic() - started, json.loads(body)
        except OSError:
            pass
        time.sleep(0.2)
    raise CheckFailed(f"/health never answered 200 in {seconds:g} s")


def check_container(name: str) -> None:
    base = "http://" + docker("port", name, f"{PORT}/tcp").splitlines()[0].strip()
    seconds, health = wait_healthy(base, 60)
    if health.get("status") != "ok" or health["credentials"]["loaded"] != 2:
        raise CheckFailed(f"/health: {health}")
    say(f"/health 200 after {seconds:.1f} s: {health['credentials']['loaded']} demo credentials")

    question = {"role": "user", "content": "hello from docker-check"}
    chat = {"model": "gemini-2.5-flash", "messages": [question]}
    status, body = http("POST", base + "/v1/chat/completions", chat, timeout=30)
    answer = json.loads(body)["choices"][0]["message"]["content"] if status == 200 else body
    if status != 200 or answer != "Echo: hello from docker-check":
        raise CheckFailed(f"chat: {status} {answer!r}")
    say(f"chat 200: {answer!r}")
    status, body = http("POST", base + "/v1/chat/completions", {**chat, "stream": True}, 30)
    if status != 200 or not body.rstrip().endswith(b"data: [DONE]"):
        raise CheckFailed(f"streamed chat: {status} {body[-200:]!r}")
    say(f"streamed chat 200: {body.count(b'data: ')} SSE events, ends with [DONE]")

    uid = docker("exec", name, "id", "-u").strip()
    writable = docker_ok("exec", "--user", "0", name, "touch", "/usr/docker-check")
    if uid != "10001" or writable:
        raise CheckFailed(f"hardening: uid {uid}, root file system writable to root: {writable}")
    docker("exec", name, "touch", "/app/docker-check")  # the state volume is writable
    say("runs as uid 10001; / is read-only; the /app state volume is writable")

    test = json.loads(docker("inspect", "--format", "{{json .Config.Healthcheck.Test}}", IMAGE))
    if test[0] != "CMD":
        raise CheckFailed(f"unexpected HEALTHCHECK form: {test}")
    docker("exec", name, *test[1:], timeout=20)
    say("the image's HEALTHCHECK command passes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-image", default="python:3.13-slim")
    args = parser.parse_args()
    problem = engine_problem()
    if problem:
        say(f"cannot run: {problem}. Start a Docker engine (dockerd) or run where one is.")
        return 2
    base_is_here = bool(docker("images", "--quiet", args.base_image).strip())
    if not base_is_here:
        say(f"{args.base_image} is not here; `docker build` will try to pull it")
    started = time.monotonic()
    try:
        build_s = build(args.base_image)
        say(f"built {IMAGE} on {args.base_image} in {build_s:.0f} s")
        volume = f"gemini-proxy-check-state-{uuid.uuid4().hex[:8]}"
        with tempfile.TemporaryDirectory() as scratch:
            # What compose mounts from beside docker-compose.yml: no credentials (the demo
            # needs none) and an empty config.yaml (the defaults).
            (Path(scratch) / "oauth creds").mkdir()
            (Path(scratch) / "config.yaml").write_text("")
            Path(scratch).chmod(0o755)
            flags = compose_hardening(ROOT / "docker-compose.yml", Path(scratch), volume)
            with running(flags, volume) as name:
                check_container(name)
    except CheckFailed as failure:
        text = str(failure)
        signs = ("pull access denied", "dial tcp", "no such host")
        pull_failed = any(sign in text for sign in signs)
        if not base_is_here and pull_failed:
            say(f"{text}\nthe base image could not be pulled: `make docker-base` builds one")
            return 2
        say(f"FAILED: {text}")
        return 1
    say(f"passed in {time.monotonic() - started:.0f} s (base image {args.base_image})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
