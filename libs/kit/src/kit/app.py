"""The FastAPI application frame every service builds on: errors, limits, health, tracing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.types import ASGIApp, Receive, Scope, Send

from kit.auth import TokenVerifier
from kit.commands import ensure_idempotency_indexes
from kit.docs import install_docs
from kit.errors import Problem, Text, install_error_handlers, problem_response
from kit.health import Check, kafka_check, mongo_check, run_checks
from kit.logs import configure_logging
from kit.middleware import BodyLimitMiddleware, CorrelationIdMiddleware
from kit.mongo import create_client
from kit.openapi import document_problem_responses
from kit.outbox import Outbox, ensure_outbox_indexes
from kit.settings import KitSettings
from kit.tracing import setup_tracing, shutdown_tracing

log = logging.getLogger(__name__)

StartupHook = Callable[[FastAPI], Awaitable[None]]


class ForwardedPrefixMiddleware:
    """Honours the gateway's X-Forwarded-Prefix so the docs page finds its OpenAPI behind a prefix."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            prefix = dict(scope["headers"]).get(b"x-forwarded-prefix", b"").decode("latin-1")
            if prefix.startswith("/") and prefix.replace("/", "").isalnum():
                scope = dict(scope, root_path=prefix.rstrip("/"))
        await self.app(scope, receive, send)


def create_service_app(
    settings: KitSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    startup: Sequence[StartupHook] = (),
    extra_checks: Callable[[FastAPI], dict[str, Check]] | None = None,
    body_limit_exempt: Callable[[Scope], bool] | None = None,
) -> FastAPI:
    """Build a service's app: Mongo client, database and Outbox in app.state, problem+json errors, health, docs."""
    configure_logging(settings.service, settings.log_level)
    setup_tracing(settings.service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.mongo = create_client(settings)
        app.state.db = app.state.mongo[settings.database]
        app.state.outbox = Outbox(app.state.db, settings.service)  # the one outbox of the service
        app.state.started = asyncio.Event()
        starter = asyncio.create_task(_run_startup(app, [_kit_indexes, *startup]))
        try:
            yield
        finally:
            starter.cancel()
            await asyncio.gather(starter, return_exceptions=True)
            await app.state.mongo.close()
            shutdown_tracing()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    install_docs(app)
    app.state.verifier = TokenVerifier(settings.auth_jwks_url)
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", tags=["health"], summary="Every dependency of the service is reachable",
             responses={503: {"description": "A dependency is unreachable (problem+json naming it)"}})
    async def readyz(request: Request) -> Any:
        checks: dict[str, Check] = {
            "mongo": mongo_check(app.state.mongo),
            "kafka": kafka_check(settings.kafka_bootstrap),
        }
        if extra_checks is not None:
            checks.update(extra_checks(app))
        results = await run_checks(checks, settings.readiness_timeout_s)
        if not app.state.started.is_set():
            results["startup"] = "pending"
        missing = sorted(name for name, result in results.items() if result != "ok")
        if missing:
            which = ", ".join(f"{name} ({results[name]})" for name in missing)
            detail = Text(nl=f"Niet gereed: {which}", en=f"Not ready: {which}")
            return problem_response(request, Problem(503, detail=detail, checks=results, missing=missing))
        return JSONResponse({"status": "ready", "service": settings.service, "checks": results})

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes, exempt=body_limit_exempt)
    app.add_middleware(CorrelationIdMiddleware)
    app.add_middleware(ForwardedPrefixMiddleware)
    document_problem_responses(app)
    return app


async def _kit_indexes(app: FastAPI) -> None:
    await ensure_outbox_indexes(app.state.db)
    await ensure_idempotency_indexes(app.state.db)


async def _run_startup(app: FastAPI, hooks: Sequence[StartupHook]) -> None:
    """Run startup hooks (e.g. index creation), retrying until the database is reachable."""
    pending = list(hooks)
    delay = 0.5
    while pending:
        try:
            await pending[0](app)
            pending.pop(0)
        except Exception as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # The app is stopping: the driver turned our cancellation into an error of its own.
                raise asyncio.CancelledError from exc
            log.warning("startup step failed, retrying", extra={"error": type(exc).__name__})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
    app.state.started.set()
