"""`gemini-proxy setup`: an interactive wizard (English or Spanish) that checks the credentials
and writes config.yaml, samconfig.toml and a `.env` for client keys and the port.

Order: find credentials and check them live; ask the settings; show a review; only after it is
confirmed, write each file whole (temporary file + rename), asking before overwriting one. So
Ctrl-C anywhere before the confirmation writes nothing, and after it never leaves half a file.
`--yes` takes every default and `--answers FILE` (YAML or JSON, question id -> answer) scripts
the questions, so the wizard also runs unattended. Question ids are listed in `--help`.
"""

import argparse
import asyncio
import contextlib
import io
import json
import os
import secrets
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gemini_proxy.cli.i18n import LANGUAGES, Messages, detect_language
from gemini_proxy.cli.setup_checks import CheckResult, Discovery, check_all, discover
from gemini_proxy.cli.setup_files import (
    CLIENT_KEYS_VAR,
    PORT_VAR,
    REGION,
    STACK_NAME,
    atomic_write,
    read_env_file,
    read_toml,
    read_yaml_mapping,
    render_config,
    render_env_file,
    render_samconfig,
    sam_defaults,
    tidy_number,
)
from gemini_proxy.cli.setup_prompt import AnswerError, Asker, Option
from gemini_proxy.cli.setup_report import (
    discovery_lines,
    progress_bar,
    result_line,
    summary,
)
from gemini_proxy.cli.status import quiet_logs
from gemini_proxy.config import Config, ConfigError, parse_config
from gemini_proxy.runtime import DEFAULT_CREDS_DIR, client_keys_from_env

QUESTIONS = (
    "import_gemini_cli",
    "live_check",
    "fallback_mode",
    "ai_studio_cooldown_seconds",
    "oauth_cooldown_ms",
    "consecutive_failures",
    "recheck_interval_ms",
    "env_file",
    "client_keys",
    "client_key_count",
    "client_keys_destination",
    "port",
    "stack_name",
    "region",
    "confirm",
    "overwrite_config",
    "overwrite_samconfig",
    "import_secrets",
    "secret_name",
)
DEFAULT_SECRET_NAME = "gemini-proxy/credentials"  # noqa: S105 (a name, not a secret)
DEFAULT_PORT = 8787
INTERRUPTED = 130


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "setup",
        help="interactive setup: check credentials, write config.yaml and samconfig.toml",
        description=__doc__,
        epilog="question ids for --answers: " + ", ".join(QUESTIONS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=LANGUAGES, default=None, help="default: from LANG")
    parser.add_argument("--yes", action="store_true", help="accept every default, ask nothing")
    parser.add_argument("--answers", default=None, help="YAML/JSON file: question id -> answer")
    parser.add_argument("--creds-dir", default=DEFAULT_CREDS_DIR, help="credentials folder")
    parser.add_argument(
        "--config", default=None, help="existing config to start from (and its upstream URLs)"
    )
    parser.add_argument("--config-out", default="config.yaml", help="config file to write")
    parser.add_argument("--samconfig-out", default="samconfig.toml", help="SAM file to write")


@dataclass
class Plan:
    """Everything the review shows and the writing step needs."""

    settings: dict[str, dict[str, Any]]
    env_file: Path
    keys_action: str  # keep | generate | none
    existing_keys: list[str]
    new_keys: list[str]
    keys_destination: str  # file | print
    port: int
    stack_name: str
    region: str
    import_gemini_cli: bool
    written: list[Path] = field(default_factory=list)

    @property
    def client_keys(self) -> list[str]:
        return self.new_keys if self.keys_action == "generate" else self.existing_keys

    def env_updates(self) -> dict[str, str | None]:
        updates: dict[str, str | None] = {PORT_VAR: str(self.port)}
        if self.keys_action == "generate" and self.keys_destination == "file":
            updates[CLIENT_KEYS_VAR] = ",".join(self.new_keys)
        elif self.keys_action != "keep":
            # New keys printed instead, or none wanted: old ones left in the file would
            # silently stay in force.
            updates[CLIENT_KEYS_VAR] = None
        return updates


class Wizard:
    def __init__(self, args: argparse.Namespace, m: Messages, asker: Asker) -> None:
        self.args = args
        self.m = m
        self.ask = asker
        self.creds_dir = Path(args.creds_dir)
        self.config_out = Path(args.config_out)
        self.samconfig_out = Path(args.samconfig_out)
        self.plan: Plan | None = None

    def run(self) -> int:
        say = self.ask.say
        say(self.m("intro.title"))
        say(self.m("intro.text"))
        base, config = self._base_config()
        found = discover(config, self.creds_dir, Path.home(), os.environ)
        say()
        for line in discovery_lines(self.m, found, str(self.creds_dir)):
            say(line)
        import_cli = found.gemini_cli is not None and self.ask.yes_no(
            "import_gemini_cli", self.m("q.import_gemini_cli"), True
        )
        results = self._check(config, found)
        plan = self._ask_plan(config, import_cli)
        self.plan = plan
        self._review(plan, found, results)
        if not self.ask.yes_no("confirm", self.m("q.confirm"), True):
            say(self.m("done.nothing"))
            return 1
        self._write(plan, base, found)
        self._import_secrets(plan)
        self._next_steps(plan)
        return 0

    # --- reading what is there -----------------------------------------------------------

    def _base_config(self) -> tuple[dict[str, Any], Config]:
        """The config to start from: `--config`, else the file about to be written, if any."""
        source = Path(self.args.config) if self.args.config else self.config_out
        if not source.is_file():
            return {}, Config()
        try:
            config = parse_config(source.read_text(encoding="utf-8"), str(source))
        except (ConfigError, OSError, UnicodeDecodeError) as exc:
            self.ask.say(self.m("warn.bad_config", problem=exc))
            return {}, Config()
        return read_yaml_mapping(source), config

    def _check(self, config: Config, found: Discovery) -> list[CheckResult] | None:
        credentials = list(found.credentials)
        if found.gemini_cli is not None:
            credentials.append(found.gemini_cli)
        if not credentials or not self.ask.yes_no("live_check", self.m("q.live_check"), True):
            return None
        self.ask.say(self.m("check.title", url=config.upstream.ai_studio_base_url))
        results = asyncio.run(check_all(config, credentials, progress_bar(sys.stdout)))
        for result in results:
            self.ask.say(result_line(self.m, result, credentials))
        self.ask.say(summary(self.m, results))
        return results

    # --- asking --------------------------------------------------------------------------

    def _ask_plan(self, config: Config, import_cli: bool) -> Plan:
        m, ask = self.m, self.ask
        ask.say()
        ask.say(m("section.pool"))
        mode = ask.choice(
            "fallback_mode",
            m("q.fallback_mode"),
            [
                Option(value, m(f"choice.fallback_mode.{value}.name"), m(f"choice.{value}"))
                for value in ("fallback", "combined", "disabled")
            ],
            config.ai_studio.fallback_mode,
        )
        studio_cooldown = ask.seconds(
            "ai_studio_cooldown_seconds",
            m("q.ai_studio_cooldown"),
            config.ai_studio.cooldown_seconds,
        )
        limits = config.rate_limit_settings
        thresholds = config.failover_thresholds
        oauth_cooldown = ask.integer(
            "oauth_cooldown_ms", m("q.oauth_cooldown"), limits.cooldown_period_ms, 1, 86_400_000
        )
        failures = ask.integer(
            "consecutive_failures", m("q.failures"), thresholds.consecutive_failures, 1, 1000
        )
        recheck = ask.integer(
            "recheck_interval_ms", m("q.recheck"), thresholds.recheck_interval_ms, 1, 604_800_000
        )
        settings: dict[str, dict[str, Any]] = {
            "ai_studio": {"fallback_mode": mode, "cooldown_seconds": tidy_number(studio_cooldown)},
            "rate_limit_settings": {"cooldown_period_ms": oauth_cooldown},
            "failover_thresholds": {
                "consecutive_failures": failures,
                "recheck_interval_ms": recheck,
            },
        }
        ask.say()
        ask.say(m("section.keys"))
        default_env = self.config_out.parent / ".env"
        env_file = Path(ask.text("env_file", m("q.env_file"), str(default_env), bool, "error.path"))
        action, existing, new, destination = self._ask_keys(env_file)
        port = ask.integer("port", m("q.port"), DEFAULT_PORT, 1, 65535)
        ask.say()
        ask.say(m("section.aws"))
        stack, region = sam_defaults(read_toml(self.samconfig_out), os.environ)
        stack = ask.text("stack_name", m("q.stack_name"), stack, STACK_NAME.match, "error.stack")
        region = ask.text("region", m("q.region"), region, REGION.match, "error.region")
        return Plan(
            settings,
            env_file,
            action,
            existing,
            new,
            destination,
            port,
            stack,
            region,
            import_cli,
        )

    def _ask_keys(self, env_file: Path) -> tuple[str, list[str], list[str], str]:
        m, ask = self.m, self.ask
        in_file = client_keys_from_env(read_env_file(env_file))
        existing = in_file or client_keys_from_env(os.environ)
        where = str(env_file) if in_file else CLIENT_KEYS_VAR
        options = [Option("generate", m("choice.keys.generate.name"), m("choice.keys.generate"))]
        if existing:
            keep = m("choice.keys.keep", count=len(existing), where=where)
            options.insert(0, Option("keep", m("choice.keys.keep.name"), keep))
        options.append(Option("none", m("choice.keys.none.name"), m("choice.keys.none")))
        ask.say(m("keys.explain"))
        action = ask.choice("client_keys", m("q.client_keys"), options, options[0].value)
        new: list[str] = []
        destination = "file"
        if action == "generate":
            count = ask.integer("client_key_count", m("q.client_key_count"), 1, 1, 20)
            new = [secrets.token_urlsafe(32) for _ in range(count)]
            destination = ask.choice(
                "client_keys_destination",
                m("q.client_keys_destination"),
                [
                    Option(
                        "file", m("choice.dest.file.name"), m("choice.dest.file", path=env_file)
                    ),
                    Option("print", m("choice.dest.print.name"), m("choice.dest.print")),
                ],
                "file",
            )
        return action, existing, new, destination

    # --- review and writing --------------------------------------------------------------

    def _review(self, plan: Plan, found: Discovery, results: list[CheckResult] | None) -> None:
        m, say = self.m, self.ask.say
        say()
        say(m("review.title"))
        ai_studio = sum(c.kind == "ai_studio" for c in found.credentials)
        oauth = len(found.credentials) - ai_studio + int(plan.import_gemini_cli)
        say(m("review.credentials", ai=ai_studio, oauth=oauth, checks=summary(m, results)))
        for section, values in plan.settings.items():
            for key, value in values.items():
                say(m("review.setting", name=f"{section}.{key}", value=value))
        if plan.keys_action == "keep":
            say(m("review.keys.keep", count=len(plan.existing_keys)))
        elif plan.keys_action == "none":
            say(m("review.keys.none"))
        elif plan.keys_destination == "file":
            say(m("review.keys.file", count=len(plan.new_keys), path=plan.env_file))
        else:
            say(m("review.keys.print", count=len(plan.new_keys)))
        say(m("review.port", port=plan.port, var=PORT_VAR, path=plan.env_file))
        say(m("review.aws", stack=plan.stack_name, region=plan.region))
        for path in (self.config_out, self.samconfig_out, plan.env_file):
            say(m("review.file.update" if path.exists() else "review.file.new", path=path))
        if plan.import_gemini_cli and found.gemini_cli is not None:
            say(
                m(
                    "review.import",
                    fingerprint=found.gemini_cli.fingerprint,
                    folder=self.creds_dir,
                )
            )

    def _write(self, plan: Plan, base: Mapping[str, Any], found: Discovery) -> None:
        # Everything is rendered (and validated) first, then the questions about overwriting
        # are asked, and only then is anything written.
        config_text = render_config(base, plan.settings)
        sam_text = render_samconfig(read_toml(self.samconfig_out), plan.stack_name, plan.region)
        env_existing = plan.env_file.read_text(encoding="utf-8") if plan.env_file.is_file() else ""
        env_text = render_env_file(env_existing, plan.env_updates())
        config_ok = self._may_overwrite("overwrite_config", "q.overwrite_config", self.config_out)
        sam_ok = self._may_overwrite(
            "overwrite_samconfig", "q.overwrite_samconfig", self.samconfig_out
        )
        targets = [
            (self.config_out, config_text, 0o644, config_ok),
            (self.samconfig_out, sam_text, 0o644, sam_ok),
            # Holds client keys: readable by its owner only.
            (plan.env_file, env_text, 0o600, True),
        ]
        for path, text, mode, wanted in targets:
            if not wanted:
                self.ask.say(self.m("done.kept", path=path))
                continue
            atomic_write(path, text, mode)
            plan.written.append(path)
            self.ask.say(self.m("done.wrote", path=path))
        if plan.import_gemini_cli and found.gemini_cli is not None:
            self._import_gemini_cli(found)
        if plan.keys_action == "generate" and plan.keys_destination == "file":
            self.ask.say(self.m("done.keys_file", path=plan.env_file, var=CLIENT_KEYS_VAR))
        elif plan.keys_action == "generate":
            self.ask.say(self.m("done.keys_print"))
            for key in plan.new_keys:
                self.ask.say(f"  {key}")

    def _import_gemini_cli(self, found: Discovery) -> None:
        # The import command's own (English) report is replaced by one in the wizard's
        # language; what it does (a private 0600 file named by fingerprint) is reused as is.
        from gemini_proxy.cli.accounts import account_file_name, import_gemini_cli

        assert found.gemini_cli is not None
        args = argparse.Namespace(source=str(found.gemini_cli_path), creds_dir=str(self.creds_dir))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = import_gemini_cli(args)
        if code != 0:
            self.ask.say(self.m("done.import_failed"))
            return
        path = self.creds_dir / account_file_name(found.gemini_cli)
        self.ask.say(self.m("done.imported", fingerprint=found.gemini_cli.fingerprint, path=path))

    def _may_overwrite(self, qid: str, prompt: str, path: Path) -> bool:
        return not path.exists() or self.ask.yes_no(qid, self.m(prompt, path=path), True)

    def _import_secrets(self, plan: Plan) -> None:
        if not self.ask.yes_no("import_secrets", self.m("q.import_secrets"), False):
            return
        name = self.ask.text("secret_name", self.m("q.secret_name"), DEFAULT_SECRET_NAME, bool)
        from gemini_proxy.cli import import_secrets

        args = argparse.Namespace(
            secret_name=name,
            creds_dir=str(self.creds_dir),
            config=str(self.config_out) if self.config_out.is_file() else None,
            region=plan.region,
            yes=self.args.yes or self.args.answers is not None,
            dry_run=False,
        )
        # import-secrets reads the client keys from the environment, as it does when run alone.
        with _environment(CLIENT_KEYS_VAR, ",".join(plan.client_keys)):
            try:
                code = import_secrets.run(args)
            except Exception as exc:  # boto3 missing, no AWS credentials, access denied...
                code = 1
                self.ask.say(self.m("warn.import_failed", problem=f"{type(exc).__name__}: {exc}"))
        if code != 0:
            self.ask.say(self.m("warn.import_retry", name=name, region=plan.region))

    def _next_steps(self, plan: Plan) -> None:
        say = self.ask.say
        say()
        say(self.m("next.title"))
        say(self.m("next.local", env=plan.env_file, port=plan.port))
        say(self.m("next.docker"))
        say(self.m("next.aws", stack=plan.stack_name))


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def load_answers(path: str) -> dict[str, object]:
    """Question id -> answer from a YAML (or JSON, which YAML reads too) file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AnswerError(str(exc)) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise AnswerError("expected a mapping of question id -> answer")
    unknown = sorted(set(data) - set(QUESTIONS))
    if unknown:
        raise AnswerError(f"unknown question ids {json.dumps(unknown)}")
    return data


def run(args: argparse.Namespace) -> int:
    m = Messages(detect_language(args.lang, os.environ))
    try:
        answers = load_answers(args.answers) if args.answers else None
    except AnswerError as exc:
        print(m("error.answers_file", path=args.answers, problem=exc), file=sys.stderr)
        print(m("error.known_ids", ids=", ".join(QUESTIONS)), file=sys.stderr)
        return 2
    wizard = Wizard(args, m, Asker(m, answers, args.yes))
    with quiet_logs():
        try:
            return wizard.run()
        except (KeyboardInterrupt, EOFError):
            written = wizard.plan.written if wizard.plan else []
            print(file=sys.stdout)
            if written:
                done = ", ".join(str(p) for p in written)
                print(m("done.interrupted_after", files=done), flush=True)
            else:
                print(m("done.interrupted"), flush=True)
            return INTERRUPTED
        except AnswerError as exc:
            print(m("done.answer_error", problem=exc), file=sys.stderr)
            return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gemini-proxy setup",
        description=__doc__,
        epilog="question ids for --answers: " + ", ".join(QUESTIONS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
