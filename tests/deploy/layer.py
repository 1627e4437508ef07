"""The package as the Lambda layer ships it, trimmed by the Makefile's own recipe.

`make layer-package` copies gemini_proxy without what a request never imports (LAYER_EXCLUDE);
a process whose PYTHONPATH starts with that copy imports the package from it alone, so a
Lambda entry that still needed a left-out module fails there as it would on Lambda.
"""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def trimmed_package(out: Path) -> Path:
    """Writes the layer's gemini_proxy (no dependencies, no bytecode) under `out`."""
    make = ["make", "-s", "--no-print-directory", "-C", str(ROOT), "layer-package"]
    subprocess.run([*make, "LAYER_SRC=layers/common", f"LAYER_OUT={out}"], check=True, timeout=60)
    assert (out / "gemini_proxy" / "app").is_dir()
    return out
