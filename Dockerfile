# syntax=docker/dockerfile:1
# One image for the five services (identity, enrollment, exams, evidence, notifications) and the web app.
# The command picks the process, e.g.
#   API:    python -m uvicorn --factory identity.app:create_app --host 0.0.0.0 --port 8000
#   worker: python -m identity.worker
# Built from the uv workspace and its lock file: every service package with its runtime dependencies,
# without the dev group and without kit's `local` extra (the stand-in servers never ship in an image).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# The same uv as the Makefile installs, so the lock file is read the same way.
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.8
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first (only the lock and the project files), so code changes reuse this layer.
COPY pyproject.toml uv.lock ./
COPY libs/contracts/pyproject.toml libs/contracts/
COPY libs/kit/pyproject.toml libs/kit/
COPY services/identity/pyproject.toml services/identity/
COPY services/enrollment/pyproject.toml services/enrollment/
COPY services/exams/pyproject.toml services/exams/
COPY services/evidence/pyproject.toml services/evidence/
COPY services/notifications/pyproject.toml services/notifications/
COPY services/web/pyproject.toml services/web/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-install-workspace
# Then the workspace's own packages, installed as wheels (not editable) so /src is not needed at run time.
COPY libs libs
COPY services services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-editable

FROM ${PYTHON_IMAGE} AS runtime
# A Unicode font for exams' assessment PDF, so names print as written (without it: Latin-1 only).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production
WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8000
# No HEALTHCHECK here: the image also runs workers, which serve no HTTP. Compose and Kubernetes
# probe the APIs' /healthz and /readyz themselves.
CMD ["python", "-c", "print('Give a command: python -m uvicorn --factory <service>.app:create_app --host 0.0.0.0 --port 8000, or python -m <service>.worker'); raise SystemExit(2)"]
