"""Server-side rendering: Jinja2 templates in Dutch or English, dates and numbers in the page's locale."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from web.api import ApiError
from web.context import Ctx

TEMPLATES = Path(__file__).parent / "templates"
ZONE = ZoneInfo("Europe/Amsterdam")
MONTHS = {
    "nl": ["jan.", "feb.", "mrt.", "apr.", "mei", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec."],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}
ROLE_NAMES = {
    "school_admin": ("Beheerder", "School admin"),
    "school_supervisor": ("Praktijkbegeleider (school)", "School supervisor"),
    "assessor": ("Examinator", "Assessor"),
    "exam_board": ("Examencommissie", "Exam board"),
    "workplace_trainer": ("Praktijkopleider", "Workplace trainer"),
    "student": ("Student", "Student"),
}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True,
                  lstrip_blocks=True)


def as_datetime(value: Any) -> datetime | None:
    """An API timestamp (ISO text or datetime) as an aware datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo("UTC"))


def format_date(value: Any, lang: str, with_time: bool = True) -> str:
    """29 nov. 2026 17:14 (nl) or 29 Nov 2026 17:14 (en), in Dutch time."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    local = moment.astimezone(ZONE)
    text = f"{local.day} {MONTHS[lang][local.month - 1]} {local.year}"
    return f"{text} {local:%H:%M}" if with_time else text


def format_number(value: float | int, lang: str, decimals: int = 0) -> str:
    """1.234,5 (nl) or 1,234.5 (en)."""
    text = f"{value:,.{decimals}f}"
    if lang == "nl":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def menu(ctx: Ctx) -> list[tuple[str, str, str]]:
    """The main menu for the person's roles in the current school."""
    if not ctx.session.signed_in:
        return []
    items: list[tuple[str, str, str]] = []
    if ctx.operator:
        items.append(("/operator/schools", "Scholen", "Schools"))
    if ctx.view_as:
        return [("/library", "Bibliotheek", "Library"), ("/alerts", "Meldingen", "Notifications")]
    if ctx.has("school_admin"):
        items += [("/people", "Mensen", "People"), ("/programmes", "Opleidingen", "Programmes"),
                  ("/students", "Studenten", "Students"), ("/groups", "Groepen", "Groups"),
                  ("/imports", "Importeren", "Import"), ("/school-settings", "Instellingen", "Settings")]
    elif ctx.has("school_supervisor", "assessor", "exam_board"):
        items.append(("/students", "Studenten", "Students"))
    if ctx.has("workplace_trainer"):
        items.append(("/my-students", "Mijn studenten", "My students"))
    if ctx.has("student", "school_supervisor"):
        items.append(("/messages", "Berichten", "Messages"))
    items += exam_menu(ctx)
    if ctx.school_id:
        items += [("/library", "Bibliotheek", "Library"), ("/alerts", "Meldingen", "Notifications")]
    return items


def exam_menu(ctx: Ctx) -> list[tuple[str, str, str]]:
    """The exam pages for the person's roles (Web II)."""
    items: list[tuple[str, str, str]] = []
    if ctx.has("student"):
        items.append(("/my-exams", "Mijn examens", "My exams"))
    if ctx.has("school_admin", "school_supervisor", "assessor", "exam_board", "workplace_trainer"):
        items.append(("/assignments", "Examenopdrachten", "Exam assignments"))
    if ctx.has("school_admin", "school_supervisor", "assessor", "exam_board"):
        items.append(("/overview", "Examenoverzicht", "Exam overview"))
    if ctx.has("assessor"):
        items.append(("/dashboard", "Beoordelen", "Assessing"))
    if ctx.has("student"):
        items.append(("/my-results", "Mijn resultaten", "My results"))
    if ctx.has("exam_board"):
        items.append(("/results", "Resultaten vaststellen", "Adopt results"))
    # The exam board's cases and audit trail; a student's own requests.
    if ctx.has("exam_board"):
        items.append(("/cases", "Zaken", "Cases"))
    elif ctx.has("student"):
        items.append(("/cases", "Mijn verzoeken", "My requests"))
    if ctx.has("school_admin", "exam_board"):
        items.append(("/audit", "Audittrail", "Audit trail"))
    return items


def render(ctx: Ctx, template: str, *, status: int = 200, error: ApiError | str | None = None,
           form: dict[str, Any] | None = None, headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    """A page (or an htmx fragment) in the person's language, with the API's refusal shown where it belongs."""
    lang = ctx.lang

    def say(nl: str, en: str) -> str:
        return en if lang == "en" else nl

    field_errors = error.field_errors() if isinstance(error, ApiError) else {}
    message = error.message() if isinstance(error, ApiError) else error
    if isinstance(error, ApiError) and not message:
        message = say("Controleer de gemarkeerde velden.", "Please check the marked fields.") if field_errors else \
            say(f"Dat lukte niet (code {error.status}). Probeer het later opnieuw.",
                f"That did not work (code {error.status}). Please try again later.")
    page = env.get_template(template).render(
        ctx=ctx, lang=lang, _=say, csrf=ctx.session["csrf"], form=form or {}, errors=field_errors,
        error_message=message, date=lambda v, t=True: format_date(v, lang, t),
        number=lambda v, d=0: format_number(v, lang, d), role_name=lambda r: say(*ROLE_NAMES.get(r, (r, r))),
        menu=menu(ctx), roles=sorted(ctx.roles), view_as=ctx.view_as, path=ctx.request.url.path, **values)
    response = HTMLResponse(page, status_code=status, headers=headers)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Content-Language"] = lang
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
