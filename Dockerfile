# Gemini CLI Proxy in a container: the same app as `gemini-proxy serve`, as an unprivileged user.
#
#   docker compose up -d      (docker-compose.yml mounts credentials, config and state)
#
# The container listens on 0.0.0.0, and `serve` refuses that without client keys (anyone who
# reaches the port could spend your Gemini quota): it needs GEMINI_PROXY_API_KEYS=key1,key2 in
# its environment. docker compose reads it from .env, which `gemini-proxy setup` writes.
#
#   --build-arg EXTRAS=[aws]   also installs boto3, for state.backend: dynamodb
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what installing the package needs; .dockerignore keeps credentials, .env and the rest
# out of the build context altogether, so no secret can end up in a layer.
COPY pyproject.toml README.md /tmp/src/
COPY layers/common /tmp/src/layers/common
ARG EXTRAS=""
RUN pip install "/tmp/src${EXTRAS}" && rm -rf /tmp/src

# /app is the working directory: config.yaml and `oauth creds/` are mounted into it and the
# SQLite state file is created in it (a relative state.sqlite_path). It belongs to the proxy's
# user so that a named volume mounted there starts out writable by it.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin proxy \
    && mkdir -p /app && chown proxy:proxy /app && chmod 700 /app
WORKDIR /app
USER 10001:10001

EXPOSE 8787
# /health needs no client key; urlopen raises (exit 1) on anything but a 2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8787/health', timeout=4)"]
CMD ["gemini-proxy", "serve", "--host", "0.0.0.0", "--port", "8787"]
