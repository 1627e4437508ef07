# Gemini CLI Proxy in a container: the same app as `gemini-proxy serve`, as an unprivileged user.
#
#   docker compose up -d      (docker-compose.yml mounts credentials, config and state)
#   make docker-check         (builds this image, runs it hardened as compose does, tries it)
#
# The container listens on 0.0.0.0, and `serve` refuses that without client keys (anyone who
# reaches the port could spend your Gemini quota): it needs GEMINI_PROXY_API_KEYS=key1,key2 in
# its environment. docker compose reads it from .env, which `gemini-proxy setup` writes.
#
#   --build-arg EXTRAS=[aws]        also installs boto3, for state.backend: dynamodb
#   --build-arg BASE_IMAGE=<image>  any Debian-like image with python3 (3.11 or newer) and its
#                                   venv module, e.g. one `make docker-base` builds without
#                                   Docker Hub
ARG BASE_IMAGE=python:3.13-slim
FROM ${BASE_IMAGE}

# PATH in full: an image made by `docker import` has no PATH of its own to extend.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Only what installing the package needs; .dockerignore keeps credentials, .env and the rest
# out of the build context altogether, so no secret can end up in a layer. A virtual
# environment, so the same steps work on python:*-slim and on a Debian python3, whose
# system-wide pip install PEP 668 refuses. pip writes the bytecode as it installs (the
# container's file system is read-only at run time, so nothing could cache it later).
COPY pyproject.toml README.md /tmp/src/
COPY layers/common /tmp/src/layers/common
ARG EXTRAS=""
RUN python3 -m venv /opt/venv \
    && pip install "/tmp/src${EXTRAS}" \
    && rm -rf /tmp/src

# /app is the working directory: config.yaml and `oauth creds/` are mounted into it and the
# SQLite state file is created in it (a relative state.sqlite_path). It belongs to the proxy's
# user so that a named volume mounted there starts out writable by it. The user is not named
# "proxy": Debian-based images have a system user of that name already.
RUN groupadd --system --gid 10001 gemini-proxy \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin gemini-proxy \
    && mkdir -p /app && chown 10001:10001 /app && chmod 700 /app
WORKDIR /app
USER 10001:10001

EXPOSE 8787
# /health needs no client key; urlopen raises (exit 1) on anything but a 2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8787/health', timeout=4)"]
CMD ["gemini-proxy", "serve", "--host", "0.0.0.0", "--port", "8787"]
