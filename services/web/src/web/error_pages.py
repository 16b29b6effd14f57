"""The error page: an unknown address, a malformed one, or a fault shows a readable page, never JSON or a trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.errors import Problem
from kit.logs import correlation_id_var
from web.context import Ctx
from web.render import render
from web.session import Session

log = logging.getLogger(__name__)
TEXTS: dict[int, tuple[tuple[str, str], tuple[str, str]]] = {
    404: (("Deze pagina bestaat niet", "This page does not exist"),
          ("Controleer het adres, of ga naar de startpagina.", "Check the address, or go to the start page.")),
    405: (("Zo kan deze pagina niet worden gebruikt", "This page cannot be used this way"),
          ("Ga terug naar de vorige pagina en gebruik de knoppen daar.",
           "Go back to the previous page and use its buttons.")),
    413: (("Dit is te groot", "This is too large"),
          ("Wat je verstuurde is groter dan is toegestaan.", "What you sent is larger than allowed.")),
    422: (("Dit adres klopt niet", "This address is not right"),
          ("Een deel van het adres is ongeldig of te lang. Ga terug en probeer het opnieuw.",
           "Part of the address is invalid or too long. Go back and try again.")),
    500: (("Er ging iets mis", "Something went wrong"),
          ("Probeer het over een paar minuten opnieuw. Blijft het misgaan, geef dan de foutcode hieronder door "
           "aan de beheerder van je school.",
           "Please try again in a few minutes. If it keeps failing, give the error code below to your school's "
           "admin.")),
}


def error_page(request: Request, status: int) -> Response:
    """The page for a status, in the person's language, with the request's reference for the helpdesk."""
    if not hasattr(request.state, "session"):  # failed before the session was opened
        request.state.session = Session()
        request.state.view_as = None
    ctx = Ctx(request)
    (title_nl, title_en), (text_nl, text_en) = TEXTS.get(status, TEXTS[500 if status >= 500 else 422])
    reference = correlation_id_var.get() or request.headers.get("x-request-id") or ""
    response = render(ctx, "error.html", status=status, title=title_en if ctx.lang == "en" else title_nl,
                      explanation=text_en if ctx.lang == "en" else text_nl, reference=reference[:64])
    response.headers["Cache-Control"] = "no-store"
    return response


def install(app: FastAPI) -> None:
    """Answer pages' errors with the error page (the API-style problem+json handlers are replaced)."""

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        response = error_page(request, exc.status_code)
        for key, value in (exc.headers or {}).items():
            response.headers.setdefault(key, value)
        return response

    async def on_validation(request: Request, exc: Exception) -> Response:
        return error_page(request, 422)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return error_page(request, exc.status)

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Problem, on_problem)
    app.add_middleware(FaultPage)


class FaultPage:
    """A fault in a page answers with the error page (and its code for the helpdesk) instead of problem+json."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the page; if it fails before answering, answer with the error page."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise
            log.error("unhandled error", exc_info=True, extra={"path": scope.get("path")})
            await error_page(Request(scope, receive), 500)(scope, receive, send)
