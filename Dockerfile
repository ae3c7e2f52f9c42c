# plyr's image: one image for every role of compose.yaml (migrate, web, worker, ingest).
# Python packages come from uv.lock exactly (uv sync --frozen: a lock that no longer matches
# pyproject.toml fails the build), htmx from frontend/package-lock.json (npm ci).

FROM node:20-bookworm-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
# Chromaprint fingerprints published tracks for copyright moderation (the worker role);
# LAME encodes MP3 copies (plyr.media.lame: 3x faster than the encoder in PyAV's wheel).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libchromaprint1 libmp3lame0 \
    && rm -rf /var/lib/apt/lists/*
# The uv plyr's scripts/setup pins.
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# The dependencies first, in a layer that changes only with the lock; then plyr itself
# (installed editable from /app/src: it finds its templates, static files and migrations
# there, and htmx at /app/frontend).
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
RUN uv sync --frozen --no-dev
COPY --from=frontend /frontend/node_modules/htmx.org/dist ./frontend/node_modules/htmx.org/dist
COPY deploy/healthcheck.py ./deploy/healthcheck.py

# Not root: plyr needs to write only its data folder (SQLite, keys, local media, uploads).
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home plyr \
    && install --directory --owner=plyr --group=plyr --mode=0700 /data
USER plyr
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PLYR_DATA_DIR=/data \
    PLYR_HOST=0.0.0.0 \
    PLYR_PORT=8000 \
    PLYR_LOG_FORMAT=json
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]
# The embedded mode (SQLite, local files, everything in one process) unless told otherwise.
CMD ["plyr", "serve"]
