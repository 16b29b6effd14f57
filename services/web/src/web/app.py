"""The web app: pages, static assets, health; errors become readable pages, never a stack trace."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from kit.errors import Problem, install_error_handlers, problem_response
from kit.health import Check, run_checks
from kit.logs import configure_logging
from kit.middleware import CorrelationIdMiddleware
from kit.tracing import setup_tracing, shutdown_tracing
from web import error_pages
from web.api import SERVICES, ApiError, Upstreams
from web.context import CsrfRefused, Ctx, NoSchool, ReadOnly, ReferenceCache, SignedOut
from web.render import render
from web.routes import ROUTERS
from web.session import Sealer, SessionMiddleware
from web.settings import WebSettings

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
SECRET_FIELDS = {"password", "csrf_token", "current_password", "new_password", "password_repeat"}


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the web app (uvicorn --factory web.app:create_app)."""
    settings = settings or WebSettings()
    configure_logging(settings.service, settings.log_level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its lines carry URLs with search terms
    setup_tracing(settings.service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.upstreams = Upstreams(settings)
        app.state.reference_cache = ReferenceCache()
        try:
            yield
        finally:
            await app.state.upstreams.close()
            shutdown_tracing()

    app = FastAPI(title="Web", description="The pages people use; owns no data.", version="1.0.0",
                  lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    install_error_handlers(app)
    error_pages.install(app)  # pages answer errors with a readable page, not problem+json
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        upstreams: Upstreams = app.state.upstreams

        def check(name: str) -> Check:
            async def probe() -> None:
                (await upstreams.request(name, "GET", "/healthz")).raise_for_status()
            return probe

        results = await run_checks({name: check(name) for name in SERVICES}, settings.readiness_timeout_s)
        missing = sorted(n for n, r in results.items() if r != "ok")
        if missing:
            return problem_response(request, Problem(503, detail="Not ready: " + ", ".join(missing),
                                                     checks=results, missing=missing))
        return JSONResponse({"status": "ready", "service": settings.service, "checks": results})

    install_page_errors(app)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,static")
    app.add_middleware(SessionMiddleware, sealer=Sealer(settings.session_secret.get_secret_value()
                                                        if settings.session_secret else ""),
                       secure=settings.secure_cookies, idle_s=settings.session_idle_minutes * 60)
    app.add_middleware(CorrelationIdMiddleware)
    return app


def kept_fields(form: dict[str, list[str]]) -> dict[str, list[str]]:
    """What the person typed, minus secrets, to hand back after signing in again or a refused form."""
    return {k: v for k, v in form.items() if k not in SECRET_FIELDS}


async def typed(request: Request) -> dict[str, list[str]]:
    """The submitted form fields (files and secrets left out), as the dependency read them."""
    form = getattr(request.state, "form", None)
    if form is None:
        return {}
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return kept_fields(out)


def install_page_errors(app: FastAPI) -> None:
    """Signed-out, refused-CSRF and read-only situations answer with a page that keeps what was typed."""

    async def on_signed_out(request: Request, exc: Exception) -> Response:
        ctx = Ctx(request)
        fields = await typed(request)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method == "GET" and not request.headers.get("hx-request"):
            flag = "&expired=1" if request.state.session_expired else ""
            return RedirectResponse(f"/login?next={quote(target)}{flag}", status_code=303)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": f"/login?next={quote(target)}&expired=1"})
        return render(ctx, "login.html", status=401, next=target, pending=json.dumps(fields) if fields else "",
                      error=ctx_text(ctx, "Je sessie is verlopen. Log opnieuw in; wat je had ingevuld blijft bewaard.",
                                     "Your session has expired. Sign in again; what you typed is kept."))

    async def on_csrf(request: Request, exc: Exception) -> Response:
        ctx = Ctx(request)
        fields = await typed(request)
        return render(ctx, "resubmit.html", status=403, action=request.url.path, fields=fields,
                      error=ctx_text(ctx, "Dit formulier was verlopen of kwam niet van deze pagina, dus er is niets "
                                          "opgeslagen. Je gegevens staan hieronder; verstuur ze opnieuw.",
                                     "This form had expired or did not come from this page, so nothing was saved. "
                                     "Your input is below; send it again if it is right."))

    async def on_read_only(request: Request, exc: Exception) -> Response:
        ctx = Ctx(request)
        return render(ctx, "message.html", status=403, title=ctx_text(ctx, "Alleen lezen", "Read-only"),
                      error=ctx_text(ctx, "Je kijkt mee als student: je kunt hier niets wijzigen.",
                                     "You are viewing as a student: nothing can be changed here."))

    async def on_no_school(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/school", status_code=303)

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        ctx = Ctx(request)
        status = exc.status if exc.status in (403, 404, 409, 410, 422, 429) else 502
        return render(ctx, "message.html", status=status, title=ctx_text(ctx, "Dat lukte niet", "That did not work"),
                      error=exc)

    app.add_exception_handler(SignedOut, on_signed_out)
    app.add_exception_handler(CsrfRefused, on_csrf)
    app.add_exception_handler(ReadOnly, on_read_only)
    app.add_exception_handler(NoSchool, on_no_school)
    app.add_exception_handler(ApiError, on_api_error)


def ctx_text(ctx: Ctx, nl: str, en: str) -> str:
    """The text in the page's language."""
    return en if ctx.lang == "en" else nl
