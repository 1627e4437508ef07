"""The Lambda layer ships the dashboard: its page and static files come from the trimmed copy
of the package (`make layer-package`), and are served from there."""

import json
import subprocess
import sys
from pathlib import Path

from tests.deploy.layer import trimmed_package

SERVE = """
import json
from gemini_proxy.dashboard import routes
print(json.dumps({
    "module": routes.__file__,
    "sizes": {name: len(routes._static(name)) for name in ("index.html", *routes.STATIC)},
}))
"""


def test_the_trimmed_layer_serves_the_dashboard(tmp_path: Path) -> None:
    layer = trimmed_package(tmp_path / "python")
    done = subprocess.run(
        [sys.executable, "-c", SERVE],
        cwd=tmp_path,
        env={"PYTHONPATH": str(layer)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["module"].startswith(str(layer))
    assert all(size > 1000 for size in found["sizes"].values()), found
