"""`gemini-proxy setup`: the wizard through a pseudo-terminal in both languages, scripted with
--answers and --yes, interrupted, checking credentials live against the fake Gemini; plus its
strings, its file helpers, and the container files it pairs with (checked statically)."""

import argparse
import json
import os
import re
import stat
import string
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pexpect
import pytest
import yaml
from moto import mock_aws

from gemini_proxy.cli import messages_en, messages_es, setup_files
from gemini_proxy.cli.i18n import SAME_IN_BOTH, detect_language
from gemini_proxy.cli.setup import run
from gemini_proxy.config import parse_config
from gemini_proxy.credentials.fingerprint import fingerprint
from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from tests.support.fake import FakeGemini
from tests.support.http import post_json
from tests.support.servers import ServerThread

ROOT = Path(__file__).resolve().parents[2]
GOOD, DEAD, LIMITED = "AIzaFAKE-good-key-0001", "AIzaFAKE-dead-key-0002", "AIzaFAKE-busy-key-0003"
ACCOUNT = "1//FAKE-refresh-token-good"
REVOKED = "1//FAKE-refresh-token-revoked"
SECRETS = (GOOD, DEAD, LIMITED, ACCOUNT, REVOKED)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeGemini]:
    with ServerThread(create_fake_app(FakeSettings())) as server:
        yield FakeGemini(server.url)


@pytest.fixture
def fake(fake_server: FakeGemini) -> FakeGemini:
    fake_server.reset()
    return fake_server


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder that is also HOME, so no real ~/.gemini is read."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for name in ("GEMINI_PROXY_API_KEYS", "CONFIG_YAML", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    return tmp_path


def upstream_config(fake: FakeGemini, folder: Path, **extra: Any) -> Path:
    path = folder / "config.yaml"
    data = {
        "upstream": {
            "ai_studio_base_url": fake.url,
            "code_assist_base_url": fake.url,
            "oauth_token_url": f"{fake.url}/token",
        },
        **extra,
    }
    path.write_text(yaml.safe_dump(data))
    return path


def credentials_folder(folder: Path, keys: list[str], accounts: list[str]) -> Path:
    creds = folder / "oauth creds"
    creds.mkdir()
    (creds / "ai_studio_keys.txt").write_text("\n".join(keys) + "\n")
    for number, token in enumerate(accounts):
        account = {"refresh_token": token, "access_token": "ya29.FAKE", "expiry_date": 1}
        (creds / f"account-{number}.json").write_text(json.dumps(account))
    return creds


def script_faults(fake: FakeGemini) -> None:
    fake.fault({"type": "invalid_key"}, key=DEAD, kinds=["get_model"])
    fake.fault(
        {"type": "rate_limit_minute", "retry_delay": "15s"}, key=LIMITED, kinds=["get_model"]
    )
    reply = post_json(f"{fake.url}/_control/accounts", {"refresh_token": REVOKED, "revoked": True})
    assert reply.status == 200


def result_lines(output: str) -> dict[str, str]:
    """The live-check verdict printed for each fingerprint."""
    lines = {}
    for line in output.splitlines():
        match = re.match(r"^\s+(?:AI Studio|OAuth)\s+([0-9a-f]{12})\s+(.*)$", line)
        if match:
            lines[match.group(1)] = match.group(2)
    return lines


def assert_no_secret(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output


def args(**values: Any) -> argparse.Namespace:
    defaults: dict[str, Any] = {
        "lang": None,
        "yes": False,
        "answers": None,
        "creds_dir": "oauth creds",
        "config": None,
        "config_out": "config.yaml",
        "samconfig_out": "samconfig.toml",
    }
    return argparse.Namespace(**{**defaults, **values})


# --- through a pseudo-terminal -----------------------------------------------------------


def spawn(folder: Path, *extra: str, lang: str = "C.UTF-8") -> pexpect.spawn:
    environment = {k: v for k, v in os.environ.items() if k not in ("GEMINI_PROXY_API_KEYS",)}
    environment.update(HOME=str(folder), LANG=lang, LC_ALL="", LC_MESSAGES="", COLUMNS="120")
    return pexpect.spawn(
        sys.executable,
        ["-m", "gemini_proxy.cli.setup", *extra],
        cwd=str(folder),
        env=environment,
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 200),
    )


def answer(child: pexpect.spawn, prompt: str, reply: str) -> None:
    child.expect_exact(prompt)
    child.sendline(reply)


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    return str(child.before)


def test_english_wizard_checks_live_and_writes_the_files(home: Path, fake: FakeGemini) -> None:
    upstream_config(fake, home, max_wait_seconds=2)
    credentials_folder(home, [GOOD, DEAD, LIMITED], [ACCOUNT, REVOKED])
    script_faults(fake)
    child = spawn(home)
    transcript: list[str] = []
    child.logfile_read = _Collector(transcript)

    answer(child, "Check each credential with Google now?", "")
    answer(child, "When should AI Studio keys serve requests?", "combined")
    answer(child, "Seconds an AI Studio key rests", "45")
    answer(child, "Milliseconds an OAuth account rests", "")
    answer(child, "Unexplained failures in a row", "many")
    answer(child, "Enter a whole number from 1 to 1000.", "5")
    answer(child, "Milliseconds before an invalid credential", "")
    answer(child, "File for local settings", "")
    answer(child, "Client API keys", "")  # generate
    answer(child, "How many keys", "2")
    answer(child, "Where should the new keys go?", "")  # file
    answer(child, "Local port", "9000")
    answer(child, "CloudFormation stack name", "my stack")
    answer(child, "Use letters, digits and hyphens", "my-stack")
    answer(child, "AWS region", "eu-west-1")
    answer(child, "Write these files?", "y")
    answer(child, "config.yaml exists. Overwrite it", "yes")
    answer(child, "Store the credentials and client keys in AWS Secrets Manager now?", "")
    finish(child)
    output = "".join(transcript)
    assert child.exitstatus == 0, output

    verdicts = result_lines(output)
    assert verdicts[fingerprint(GOOD)].startswith("ok")
    assert verdicts[fingerprint(DEAD)].startswith("invalid (API_KEY_INVALID)")
    assert verdicts[fingerprint(LIMITED)].startswith("rate-limited")
    assert verdicts[fingerprint(ACCOUNT)].startswith("ok (Code Assist tier: free-tier)")
    assert verdicts[fingerprint(REVOKED)].startswith("invalid (invalid_grant)")
    assert "2 ok, 1 rate-limited, 2 invalid, 0 unchecked" in output
    assert_no_secret(output)

    config = parse_config((home / "config.yaml").read_text(), "config.yaml")
    assert config.ai_studio.fallback_mode == "combined"
    assert config.ai_studio.cooldown_seconds == 45
    assert config.failover_thresholds.consecutive_failures == 5
    assert config.max_wait_seconds == 2  # what the wizard does not ask about is kept
    assert config.upstream.ai_studio_base_url == fake.url
    sam = tomllib.loads((home / "samconfig.toml").read_text())
    assert sam["default"]["global"]["parameters"] == {
        "stack_name": "my-stack",
        "region": "eu-west-1",
    }
    env = setup_files.read_env_file(home / ".env")
    keys = env["GEMINI_PROXY_API_KEYS"].split(",")
    assert len(keys) == 2 and all(len(key) >= 40 for key in keys)
    assert env["GEMINI_PROXY_PORT"] == "9000"
    assert stat.S_IMODE((home / ".env").stat().st_mode) == 0o600
    assert not any(key in (home / "config.yaml").read_text() for key in keys)
    assert not any(key in output for key in keys)  # written to the file, so never shown


def test_spanish_wizard_from_the_locale(home: Path) -> None:
    credentials_folder(home, [GOOD], [])
    child = spawn(home, lang="es_ES.UTF-8")
    transcript: list[str] = []
    child.logfile_read = _Collector(transcript)

    child.expect_exact("Configuración de Gemini CLI Proxy")
    answer(child, "¿Comprobar ahora cada credencial con Google?", "no")
    answer(child, "¿Cuándo deben atender peticiones las claves de AI Studio?", "3")
    answer(child, "Segundos de descanso", "")
    answer(child, "Milisegundos de descanso", "120000")
    answer(child, "Fallos sin explicación seguidos", "")
    answer(child, "Milisegundos antes de volver a comprobar", "")
    answer(child, "Archivo de ajustes locales", "")
    answer(child, "Claves de API de cliente", "generar")
    answer(child, "¿Cuántas claves?", "")
    answer(child, "¿Dónde guardar las claves nuevas?", "mostrar")
    answer(child, "Puerto local", "")
    answer(child, "Nombre de la pila de CloudFormation", "")
    answer(child, "Región de AWS", "sa-east-1")
    child.expect_exact("Resumen")
    answer(child, "¿Escribir estos archivos?", "sí")
    answer(child, "¿Guardar ahora las credenciales", "")
    finish(child)
    output = "".join(transcript)
    assert child.exitstatus == 0, output

    assert "sin comprobar en vivo" in output and "Siguientes pasos:" in output
    config = parse_config((home / "config.yaml").read_text(), "config.yaml")
    assert config.ai_studio.fallback_mode == "disabled"
    assert config.rate_limit_settings.cooldown_period_ms == 120000
    sam = tomllib.loads((home / "samconfig.toml").read_text())
    assert sam["default"]["global"]["parameters"]["stack_name"] == "gemini-proxy"
    assert sam["default"]["global"]["parameters"]["region"] == "sa-east-1"
    # Printed once, stored nowhere: the .env holds the port only.
    env = setup_files.read_env_file(home / ".env")
    assert "GEMINI_PROXY_API_KEYS" not in env and env["GEMINI_PROXY_PORT"] == "8787"
    shown = output.split("consérvalas:")[1].split()[0]
    assert len(shown) >= 40
    assert_no_secret(output)


def test_ctrl_c_mid_way_leaves_no_file(home: Path) -> None:
    credentials_folder(home, [GOOD], [])
    before = sorted(p.name for p in home.iterdir())
    child = spawn(home, "--lang", "en")
    answer(child, "Check each credential with Google now?", "n")
    answer(child, "When should AI Studio keys serve requests?", "")
    child.expect_exact("Seconds an AI Studio key rests")
    child.sendintr()
    child.expect_exact("Interrupted: nothing was written.")
    finish(child)
    assert child.exitstatus == 130
    assert sorted(p.name for p in home.iterdir()) == before  # not even a temporary file


class _Collector:
    """pexpect's logfile: keeps everything the child printed."""

    def __init__(self, sink: list[str]) -> None:
        self.sink = sink

    def write(self, text: str) -> None:
        self.sink.append(text)

    def flush(self) -> None:
        pass


# --- scripted: --answers and --yes -------------------------------------------------------


def test_answers_file_runs_unattended(
    home: Path, fake: FakeGemini, capsys: pytest.CaptureFixture[str]
) -> None:
    credentials_folder(home, [GOOD, DEAD, LIMITED], [])
    script_faults(fake)
    config = upstream_config(fake, home)
    (home / "samconfig.toml").write_text(
        'version = 0.1\n[prod.global.parameters]\nstack_name = "gemini-proxy-prod"\n'
    )
    answers = home / "answers.yaml"
    answers.write_text(
        yaml.safe_dump(
            {
                "fallback_mode": "fallback",
                "consecutive_failures": 4,
                "client_keys": "none",
                "port": 8800,
                "stack_name": "scripted",
                "region": "ap-southeast-2",
                "confirm": True,
                "overwrite_config": "yes",
                "overwrite_samconfig": "yes",
            }
        )
    )

    assert run(args(answers=str(answers), config=str(config))) == 0
    output = capsys.readouterr().out
    verdicts = result_lines(output)
    assert verdicts[fingerprint(GOOD)] == "ok"
    assert verdicts[fingerprint(DEAD)].startswith("invalid (API_KEY_INVALID): API key not valid")
    assert re.match(r"rate-limited, usable again in about 15 s", verdicts[fingerprint(LIMITED)])
    assert_no_secret(output)

    written = parse_config((home / "config.yaml").read_text(), "config.yaml")
    assert written.failover_thresholds.consecutive_failures == 4
    sam = tomllib.loads((home / "samconfig.toml").read_text())
    assert sam["default"]["global"]["parameters"]["stack_name"] == "scripted"
    assert sam["prod"]["global"]["parameters"]["stack_name"] == "gemini-proxy-prod"  # kept
    env = setup_files.read_env_file(home / ".env")
    assert env == {"GEMINI_PROXY_PORT": "8800"}


@pytest.mark.parametrize(
    ("answers", "problem"),
    [({"prot": 8800}, "unknown question ids"), ({"port": 99999}, "'port' cannot be used")],
)
def test_a_bad_answers_file_writes_nothing(
    home: Path, capsys: pytest.CaptureFixture[str], answers: dict[str, Any], problem: str
) -> None:
    path = home / "answers.json"
    path.write_text(json.dumps({"live_check": False, **answers}))
    assert run(args(answers=str(path))) == 2
    assert problem in capsys.readouterr().err
    assert sorted(p.name for p in home.iterdir()) == ["answers.json"]


def test_yes_imports_gemini_cli_login_and_checks_it(
    home: Path, fake: FakeGemini, capsys: pytest.CaptureFixture[str]
) -> None:
    config = upstream_config(fake, home)
    (home / ".gemini").mkdir()
    login = {"refresh_token": ACCOUNT, "access_token": "ya29.FAKE", "expiry_date": 1}
    (home / ".gemini" / "oauth_creds.json").write_text(json.dumps(login))

    assert run(args(yes=True, config=str(config), lang="es")) == 0
    output = capsys.readouterr().out
    assert fingerprint(ACCOUNT) in output
    assert "correcta (nivel de Code Assist: free-tier)" in output
    copied = home / "oauth creds" / f"gemini-cli-{fingerprint(ACCOUNT)}.json"
    assert json.loads(copied.read_text())["refresh_token"] == ACCOUNT
    assert stat.S_IMODE(copied.stat().st_mode) == 0o600
    env = setup_files.read_env_file(home / ".env")
    assert len(env["GEMINI_PROXY_API_KEYS"]) >= 40  # --yes generates one key, into .env
    parse_config((home / "config.yaml").read_text(), "config.yaml")
    assert_no_secret(output)


@pytest.mark.parametrize(
    ("lang", "notice", "refused"),
    [
        ("en", "since 2026-06-18 Google serves them", "invalid (UNSUPPORTED_CLIENT): Google no"),
        ("es", "desde el 2026-06-18 Google solo las", "no válida (UNSUPPORTED_CLIENT): Google ya"),
    ],
)
def test_the_wizard_says_who_can_still_use_accounts_and_why_one_is_refused(
    home: Path,
    fake: FakeGemini,
    capsys: pytest.CaptureFixture[str],
    lang: str,
    notice: str,
    refused: str,
) -> None:
    config = upstream_config(fake, home)
    credentials_folder(home, [GOOD], [ACCOUNT])
    reply = post_json(
        f"{fake.url}/_control/accounts", {"refresh_token": ACCOUNT, "unsupported_client": True}
    )
    assert reply.status == 200

    assert run(args(yes=True, config=str(config), lang=lang)) == 0
    output = capsys.readouterr().out
    assert notice in output and "https://aistudio.google.com/apikey" in output
    assert result_lines(output)[fingerprint(ACCOUNT)].startswith(refused)
    assert "account-0.json" in output  # which file
    assert result_lines(output)[fingerprint(GOOD)].startswith(("ok", "correcta"))
    assert_no_secret(output)


def test_no_account_no_oauth_notice(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    credentials_folder(home, [GOOD], [])
    assert run(args(yes=True, lang="en")) == 0
    assert "2026-06-18" not in capsys.readouterr().out


def test_a_second_run_keeps_client_keys_and_other_settings(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / ".env").write_text("MINE=1\nGEMINI_PROXY_API_KEYS=" + "k" * 43 + "\n")
    (home / "config.yaml").write_text("max_wait_seconds: 3\n")
    assert run(args(yes=True)) == 0
    output = capsys.readouterr().out
    assert "keep the 1 you have" in output
    env = setup_files.read_env_file(home / ".env")
    assert env == {"MINE": "1", "GEMINI_PROXY_API_KEYS": "k" * 43, "GEMINI_PROXY_PORT": "8787"}
    assert parse_config((home / "config.yaml").read_text(), "x").max_wait_seconds == 3


def test_import_secrets_at_the_end(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    credentials_folder(home, [GOOD], [ACCOUNT])
    answers = home / "answers.yaml"
    answers.write_text(
        "live_check: no\nregion: eu-central-1\nimport_secrets: yes\nsecret_name: wizard/creds\n"
    )
    with mock_aws():
        assert run(args(answers=str(answers))) == 0
        client = boto3.client("secretsmanager", region_name="eu-central-1")
        secret = json.loads(client.get_secret_value(SecretId="wizard/creds")["SecretString"])
    assert secret["ai_studio_keys"] == [GOOD]
    assert [a["refresh_token"] for a in secret["oauth_accounts"]] == [ACCOUNT]
    env = setup_files.read_env_file(home / ".env")
    assert secret["client_api_keys"] == [env["GEMINI_PROXY_API_KEYS"]]
    assert_no_secret(capsys.readouterr().out)


# --- strings -----------------------------------------------------------------------------


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_spanish_is_complete_and_translated() -> None:
    english, spanish = messages_en.MESSAGES, messages_es.MESSAGES
    assert set(english) == set(spanish)
    for key, text in english.items():
        assert _fields(text) == _fields(spanish[key]), key
        if key not in SAME_IN_BOTH:
            assert spanish[key] != text, f"{key} is not translated"


@pytest.mark.parametrize(
    ("option", "environ", "expected"),
    [
        (None, {}, "en"),
        (None, {"LANG": "es_MX.UTF-8"}, "es"),
        (None, {"LANG": "es_ES.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        (None, {"LC_MESSAGES": "es_AR"}, "es"),
        ("en", {"LANG": "es_ES.UTF-8"}, "en"),
        ("es", {}, "es"),
    ],
)
def test_language_choice(option: str | None, environ: dict[str, str], expected: str) -> None:
    assert detect_language(option, environ) == expected


# --- file helpers ------------------------------------------------------------------------


def test_an_interrupted_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "config.yaml"
    target.write_text("old: true\n")

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(setup_files.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        setup_files.atomic_write(target, "new: true\n")
    assert target.read_text() == "old: true\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


def test_env_file_keeps_other_lines() -> None:
    existing = "# mine\nOTHER=1\nGEMINI_PROXY_API_KEYS=old\n"
    text = setup_files.render_env_file(
        existing, {"GEMINI_PROXY_API_KEYS": None, "GEMINI_PROXY_PORT": "1234"}
    )
    assert text == "# mine\nOTHER=1\nGEMINI_PROXY_PORT=1234\n"


def test_samconfig_round_trips_odd_values() -> None:
    existing = {"default": {"deploy": {"parameters": {"tags": 'a="b" c', "x": [1, "two"]}}}}
    data = tomllib.loads(setup_files.render_samconfig(existing, "s", "us-west-2"))
    assert data["default"]["deploy"]["parameters"]["tags"] == 'a="b" c'
    assert data["default"]["deploy"]["parameters"]["x"] == [1, "two"]
    assert data["default"]["deploy"]["parameters"]["capabilities"] == "CAPABILITY_IAM"


# --- the container files (Docker cannot run here: checked statically) --------------------


def test_dockerfile_runs_unprivileged_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    instructions = [line for line in text.splitlines() if line and not line.startswith(("#", " "))]
    # The base is a build argument (some machines cannot pull from Docker Hub); the default is
    # the official slim image.
    assert instructions[0] == "ARG BASE_IMAGE=python:3.13-slim"
    assert instructions[1] == "FROM ${BASE_IMAGE}"
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    health = next(line for line in text.splitlines() if "HEALTHCHECK" in line)
    assert "HEALTHCHECK" in health and "/health" in text and "urllib.request" in text
    cmd = next(line for line in instructions if line.startswith("CMD "))
    assert json.loads(cmd[4:]) == ["gemini-proxy", "serve", "--host", "0.0.0.0", "--port", "8787"]
    assert "GEMINI_PROXY_API_KEYS" in text  # the container's requirement is documented


def test_compose_mounts_secrets_read_only_and_state_on_a_volume() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["gemini-proxy"]
    volumes = service["volumes"]
    binds = {v["target"]: v for v in volumes if v["type"] == "bind"}
    assert binds["/app/oauth creds"]["read_only"] is True
    assert binds["/app/config.yaml"]["read_only"] is True
    state = next(v for v in volumes if v["type"] == "volume")
    assert state["source"] in compose["volumes"]
    assert service["env_file"] == ".env"
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore  # allow-list: credentials and .env never enter the build context
    assert not any(line.startswith("!") and ("creds" in line or ".env" in line) for line in ignore)
