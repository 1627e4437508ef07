"""Every package the code imports is declared, and the Lambda layer's requirements say the same.

A dependency that arrives only because another one pulls it in (anyio through starlette,
pydantic-core through pydantic) works until that other package stops needing it: then the
proxy breaks on an upgrade nobody made on purpose.
"""

import ast
import re
import sys
import tomllib
from collections.abc import Iterable
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import gemini_proxy

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(gemini_proxy.__file__).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"
# Imported only where AWS is used; the Lambda runtime ships them, `pip install .[aws]` elsewhere.
OPTIONAL_EXTRAS = ["aws"]


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them: `PyYAML` and `pyyaml`, `a_b` and `a-b`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert found, f"not a requirement: {requirement!r}"
    return normalized(found.group(1))


def runtime_distributions() -> set[str]:
    return {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}


def declared_distributions() -> set[str]:
    extras = PYPROJECT["project"]["optional-dependencies"]
    optional = {requirement_name(r) for extra in OPTIONAL_EXTRAS for r in extras[extra]}
    return runtime_distributions() | optional


def imported_names(source: str) -> set[str]:
    """Top-level names of the absolute imports in `source`, wherever they sit in it."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def undeclared(modules: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Imported names no declared distribution provides, each with a module importing it."""
    providers = packages_distributions()
    declared = declared_distributions()
    missing: dict[str, str] = {}
    for where, source in modules:
        for name in imported_names(source):
            if name in sys.stdlib_module_names or name == "gemini_proxy":
                continue
            if not {normalized(d) for d in providers.get(name, [])} & declared:
                missing.setdefault(name, where)
    return missing


def package_modules() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(PACKAGE.parent)), path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def test_every_import_of_the_package_is_declared() -> None:
    modules = package_modules()
    assert len(modules) > 50  # the walk found the package, not an empty folder
    assert undeclared(modules) == {}


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("import jsonschema", {"jsonschema"}),  # installed (a dev tool), not a runtime dependency
        ("from hypothesis import strategies", {"hypothesis"}),
        ("def lazy():\n    import moto.core\n", {"moto"}),  # inside a function counts too
        ("import surely_not_installed_anywhere", {"surely_not_installed_anywhere"}),
        ("import json, aiohttp\nfrom yaml import safe_load\nimport boto3", set()),
        ("from . import sibling\nfrom .. import parent", set()),  # relative: the package itself
    ],
)
def test_the_check_flags_an_undeclared_import(source: str, flagged: set[str]) -> None:
    assert set(undeclared([("example.py", source)])) == flagged


def test_the_imports_once_left_undeclared_are_declared() -> None:
    assert {"anyio", "pydantic-core", "cryptography"} <= runtime_distributions()


def test_requirements_txt_names_the_runtime_dependencies() -> None:
    lines = REQUIREMENTS.read_text().splitlines()
    listed = [requirement_name(line) for line in lines if line.strip() and not line.startswith("#")]
    assert len(listed) == len(set(listed))
    assert set(listed) == runtime_distributions()
