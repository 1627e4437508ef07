#!/bin/bash
# Lambda entry: the Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) runs this script,
# waits for /health on $PORT, then forwards each invocation to it as plain HTTP and streams the
# answer back. Python runtimes cannot stream a response natively; the adapter is AWS's way.
set -euo pipefail
export PYTHONPATH="/opt/python:${PYTHONPATH:-}"
exec python -m uvicorn --factory gemini_proxy.app.factory:app_from_environment \
  --host 127.0.0.1 --port "${PORT:-8080}" --no-access-log --log-level warning
