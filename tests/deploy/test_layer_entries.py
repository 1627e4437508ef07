"""Both Lambda entries run on the trimmed layer (the proxy's: tests/aws/test_start_script.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from gemini_proxy.fake_gemini import FakeSettings
from gemini_proxy.fake_gemini.app import create_app as create_fake_app
from tests.deploy.layer import ROOT, trimmed_package
from tests.support.servers import ServerThread

# Runs the recheck Lambda's entry as Lambda would (its folder on the path, the handler called
# with a scheduled event), then reports which gemini_proxy modules it loaded and from where.
RECHECK = """
import json, sys
sys.path.insert(0, sys.argv[1] + "/functions/recheck")
import app

class Context:
    function_name = "gemini-proxy-RecheckFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:recheck"
    aws_request_id = "6f1f3d5e-0000-4000-8000-000000000000"
    def get_remaining_time_in_millis(self):
        return 30_000

event = json.load(open(sys.argv[1] + "/events/schedule.json"))
report = app.handler(event, Context())
modules = {name: getattr(m, "__file__", "") for name, m in sys.modules.items()
           if name.startswith("gemini_proxy")}
print(json.dumps({"report": report, "modules": modules}))
"""


def test_recheck_entry_runs_on_the_trimmed_layer(tmp_path: Path) -> None:
    layer = trimmed_package(tmp_path / "python")
    with ServerThread(create_fake_app(FakeSettings())) as fake:
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(layer),
            "CONFIG_YAML": (
                f"state: {{backend: memory}}\nupstream: {{ai_studio_base_url: '{fake.url}'}}\n"
            ),
            "GEMINI_API_KEY_1": "AIzaFAKE-recheck-on-the-layer",
            "AWS_LAMBDA_FUNCTION_NAME": "gemini-proxy-RecheckFunction",
        }
        done = subprocess.run(
            [sys.executable, "-c", RECHECK, str(ROOT)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert isinstance(result["report"], dict)
    modules = result["modules"]
    assert "gemini_proxy.aws.recheck_handler" in modules
    assert all(path.startswith(str(layer)) for path in modules.values() if path)
    left_out = ("gemini_proxy.cli", "gemini_proxy.fake_gemini")
    assert not [m for m in modules if m.startswith(left_out)]
