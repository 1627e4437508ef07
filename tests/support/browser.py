"""A real headless browser for the dashboard's tests: Debian's chromium, driven by Playwright.

`make browser` installs chromium with apt-get; Playwright (the dev extra) drives that binary
through `executable_path` and downloads no browser of its own. Where either is missing the test
is skipped with the reason and the fix; under CI a missing browser is a failure, so a broken
install cannot pass as a skipped test. The machine's network is closed: the flags keep chromium
from trying to reach anything but the test's loopback servers.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


def chromium_path() -> str:
    for path in CHROMIUM:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium")
    if found:
        return found
    _missing("chromium is not installed: run `make browser` (apt-get install chromium, as root)")
    raise AssertionError("unreachable")


@contextmanager
def browser() -> Iterator[Any]:
    """A launched chromium (Playwright's Browser), closed at the end."""
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        _missing("playwright is not installed: pip install -e '.[dev]'")
        raise
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()
