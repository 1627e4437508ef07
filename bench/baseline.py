"""PROXY-base: the proxy at another revision, measured beside today's in the same run.

`python -m bench.run --baseline REV` (the Makefile passes BASELINE, 7a35645 by default: the last
commit before the edge redesign) extracts REV's package with `git archive REV layers/common`
into bench/out/baseline-<commit>/ (read-only git: no worktree is registered, nothing under .git
is written, and deleting bench/out leaves nothing dangling). A later run at the same commit
reuses the extracted tree. PROXY-base is then started exactly as PROXY-mem, with that tree's
layers/common first on PYTHONPATH: `gemini_proxy` is REV's, the dependencies are the venv's.
`check_import` proves which package that environment imports, and the harness logs it.
"""

import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE_ROOT = "layers/common"


@dataclass(frozen=True)
class Baseline:
    rev: str  # as given on the command line
    commit: str  # the full hash it names
    source: Path  # the extracted layers/common: what goes on PYTHONPATH
    subject: str = ""  # the commit's subject line, for the report

    @property
    def short(self) -> str:
        return self.commit[:7]


def _git(repo: Path, *args: str, timeout: float = 60) -> bytes:
    done = subprocess.run(  # noqa: S603 (fixed argv, read-only git)
        ["git", "-C", str(repo), *args],  # noqa: S607
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def materialise(rev: str, repo: Path, out: Path) -> Baseline:
    """REV's package under `out`, extracted once per commit."""
    commit = _git(repo, "rev-parse", "--verify", f"{rev}^{{commit}}").decode().strip()
    subject = _git(repo, "log", "-1", "--format=%s", commit).decode().strip()
    root = out / f"baseline-{commit[:12]}"
    complete = root / ".complete"  # written last: a half-extracted tree is never reused
    if not complete.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        archive = _git(repo, "archive", "--format=tar", commit, PACKAGE_ROOT, timeout=120)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
        complete.write_text(commit + "\n", encoding="utf-8")
    source = root / PACKAGE_ROOT
    if not (source / "gemini_proxy" / "__init__.py").exists():
        raise RuntimeError(f"{rev} ({commit[:7]}) has no {PACKAGE_ROOT}/gemini_proxy")
    return Baseline(rev, commit, source, subject)


def check_import(baseline: Baseline, python: str, env: dict[str, str], cwd: Path) -> str:
    """`gemini_proxy.__file__` as a process with `env` (PROXY-base's) imports it; raises
    unless it is the baseline's."""
    done = subprocess.run(  # noqa: S603 (fixed argv)
        [python, "-c", "import gemini_proxy; print(gemini_proxy.__file__)"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = done.stdout.strip()
    if done.returncode != 0 or not Path(found).resolve().is_relative_to(baseline.source.resolve()):
        raise RuntimeError(
            f"PROXY-base would import gemini_proxy from {found or '?'} "
            f"instead of {baseline.source}: {done.stderr[-300:]}"
        )
    return found
