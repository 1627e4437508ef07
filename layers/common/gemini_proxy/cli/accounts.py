"""`gemini-proxy import-gemini-cli`: copy Gemini CLI's login into the credentials folder.

Gemini CLI keeps one account's login in `~/.gemini/oauth_creds.json`. The copy is named by the
account's fingerprint, so importing again after a second `gemini` login (another Google account)
adds a second account instead of replacing the first, and importing the same account again
updates its file. The file is written readable by its owner only; only the fingerprint is shown.
"""

import argparse
import contextlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from gemini_proxy.credentials.models import Credential
from gemini_proxy.credentials.oauth_files import NotOAuthCreds, parse_oauth_creds

GEMINI_CLI_CREDS = Path("~/.gemini/oauth_creds.json")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def account_file_name(credential: Credential) -> str:
    return f"gemini-cli-{credential.fingerprint}.json"


def import_gemini_cli(args: argparse.Namespace) -> int:
    source = Path(args.source).expanduser()
    try:
        text = source.read_text(encoding="utf-8-sig")
        credential = parse_oauth_creds(text, source.name)
    except FileNotFoundError:
        say(
            f"error: {source} does not exist. Install Gemini CLI (npm install -g "
            "@google/gemini-cli), run `gemini`, choose 'Login with Google', then run this again."
        )
        return 1
    except (OSError, UnicodeDecodeError):
        say(f"error: {source} could not be read")
        return 1
    except NotOAuthCreds as exc:
        say(f"error: {source} {exc}")
        return 1
    folder = Path(args.creds_dir)
    target = folder / account_file_name(credential)
    existed = target.exists()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(target, text)
    verb = "updated" if existed else "imported"
    print(f"{verb} Gemini CLI account {credential.fingerprint} into {target}")
    say(
        "Restart `gemini-proxy serve` to use it. For another Google account: log in with "
        "`gemini` as that account (/auth), then run this command again."
    )
    return 0


def _write_private(target: Path, text: str) -> None:
    # Written beside the target and renamed over it, so a reader never sees half a file, and
    # created 0600 so the tokens are never readable by others, not even for a moment.
    temporary = target.with_name(f".{target.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, target)


def gemini_cli_hint(loaded: Iterable[Credential], home: Path | None = None) -> str | None:
    """A one-line suggestion when Gemini CLI is logged in with an account the proxy lacks."""
    path = (home / ".gemini" / "oauth_creds.json") if home else GEMINI_CLI_CREDS.expanduser()
    try:
        credential = parse_oauth_creds(path.read_text(encoding="utf-8-sig"), path.name)
    except (OSError, UnicodeDecodeError, NotOAuthCreds):
        return None
    if any(c.fingerprint == credential.fingerprint for c in loaded):
        return None
    return (
        f"hint: Gemini CLI is logged in on this machine ({path}, account "
        f"{credential.fingerprint}) but the proxy does not use it; run "
        "`gemini-proxy import-gemini-cli` to add it."
    )
