"""RFC 9457 problem+json errors for every service: stable types, Dutch or English titles, no stack traces."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, NamedTuple

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kit.logs import correlation_id_var

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:mbo-exam:problem:"


class Text(NamedTuple):
    """A user-facing text in Dutch (the default) and English; the response picks the caller's language."""

    nl: str
    en: str

    def pick(self, english: bool) -> str:
        """The text in the chosen language."""
        return self.en if english else self.nl


# slug -> (Dutch title, English title). Dutch is the default language of user-facing text.
TITLES: dict[str, tuple[str, str]] = {
    "validation": ("De invoer is ongeldig", "The input is not valid"),
    "bad_request": ("Ongeldig verzoek", "Bad request"),
    "unauthorized": ("Niet aangemeld", "Not authenticated"),
    "forbidden": ("Geen toegang", "Access denied"),
    "not_found": ("Niet gevonden", "Not found"),
    "method_not_allowed": ("Methode niet toegestaan", "Method not allowed"),
    "conflict": ("Conflict met de huidige toestand", "Conflict with the current state"),
    "payload_too_large": ("Het verzoek is te groot", "The request is too large"),
    "gone": ("Niet meer beschikbaar", "No longer available"),
    "precondition_failed": ("Niet aan de voorwaarde voldaan", "Precondition failed"),
    "checksum_mismatch": ("De controlesom klopt niet", "The checksum does not match"),
    "range_not_satisfiable": ("Dit bereik bestaat niet", "Range not satisfiable"),
    "unsupported_media_type": ("Bestandstype niet ondersteund", "Unsupported media type"),
    "not_acceptable": ("Dit formaat kan niet worden geleverd", "Not acceptable"),
    "request_timeout": ("Het verzoek duurde te lang", "Request timeout"),
    "length_required": ("De lengte van het verzoek ontbreekt", "Length required"),
    "precondition_required": ("Een voorwaarde ontbreekt", "Precondition required"),
    "headers_too_large": ("De headers van het verzoek zijn te groot", "Request headers too large"),
    "not_implemented": ("Dit wordt niet ondersteund", "Not implemented"),
    "bad_gateway": ("Een onderliggende dienst antwoordde niet goed", "Bad gateway"),
    "gateway_timeout": ("Een onderliggende dienst antwoordde niet op tijd", "Gateway timeout"),
    "too_many_requests": ("Te veel verzoeken", "Too many requests"),
    "dependency_unavailable": ("Een onderdeel is niet bereikbaar", "A dependency is unavailable"),
    "temporarily_unavailable": ("De dienst is tijdelijk niet beschikbaar", "The service is temporarily unavailable"),
    "internal": ("Er ging iets mis aan onze kant", "Something went wrong on our side"),
}

STATUS_SLUGS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 408: "request_timeout", 409: "conflict", 410: "gone",
    411: "length_required", 412: "precondition_failed", 413: "payload_too_large",
    415: "unsupported_media_type", 416: "range_not_satisfiable", 422: "validation", 428: "precondition_required",
    429: "too_many_requests", 431: "headers_too_large", 500: "internal", 501: "not_implemented",
    502: "bad_gateway", 503: "dependency_unavailable", 504: "gateway_timeout",
}

# Starlette's own details (its HTTP reason phrases) in both languages.
HTTP_DETAILS = {
    404: Text(nl="Dit adres bestaat niet.", en="This address does not exist."),
    405: Text(nl="Deze methode is hier niet toegestaan.", en="This method is not allowed here."),
}

# Dutch reasons for the validation errors people meet most; others keep pydantic's English text.
DUTCH_REASONS = {
    "missing": "Dit veld is verplicht",
    "string_too_long": "Deze waarde is te lang",
    "string_too_short": "Deze waarde is te kort",
    "int_parsing": "Dit moet een geheel getal zijn",
    "int_type": "Dit moet een geheel getal zijn",
    "string_type": "Dit moet tekst zijn",
    "bool_parsing": "Dit moet waar of onwaar zijn",
    "json_invalid": "Dit is geen geldige JSON",
    "extra_forbidden": "Dit veld is niet toegestaan",
    "literal_error": "Deze waarde is niet toegestaan",
    "enum": "Deze waarde is niet toegestaan",
    "value_error": "Deze waarde is ongeldig",
    "datetime_parsing": "Dit is geen geldige datum en tijd",
    "date_from_datetime_parsing": "Dit is geen geldige datum",
    "uuid_parsing": "Dit is geen geldige id",
    "greater_than_equal": "Deze waarde is te klein",
    "less_than_equal": "Deze waarde is te groot",
    "model_attributes_type": "Dit moet een object zijn",
    "dict_type": "Dit moet een object zijn",
    "list_type": "Dit moet een lijst zijn",
    "string_pattern_mismatch": "Deze waarde heeft niet de juiste vorm",
    "too_long": "Dit bevat te veel onderdelen",
    "too_short": "Dit bevat te weinig onderdelen",
    "greater_than": "Deze waarde is te klein",
    "less_than": "Deze waarde is te groot",
    "float_parsing": "Dit moet een getal zijn",
    "float_type": "Dit moet een getal zijn",
    "bool_type": "Dit moet waar of onwaar zijn",
    "date_parsing": "Dit is geen geldige datum",
    "date_type": "Dit is geen geldige datum",
    "datetime_type": "Dit is geen geldige datum en tijd",
    "timezone_aware": "Geef een tijdzone bij de datum en tijd",
    "url_parsing": "Dit is geen geldige URL",
    "url_scheme": "Dit adres gebruikt een schema dat niet is toegestaan",
    "uuid_type": "Dit is geen geldige id",
    "multiple_of": "Deze waarde is geen veelvoud van het toegestane getal",
    "decimal_parsing": "Dit moet een decimaal getal zijn",
    "union_tag_invalid": "Dit soort waarde is niet toegestaan",
    "union_tag_not_found": "Het veld dat het soort aangeeft ontbreekt",
    "assertion_error": "Deze waarde is ongeldig",
    "bytes_too_long": "Deze waarde is te lang",
    "string_sub_type": "Dit moet tekst zijn",
    "string_unicode": "Dit moet geldige tekst zijn",
}
# A reason in Dutch for any other validation error (pydantic's own text is English).
DUTCH_FALLBACK_REASON = "Deze waarde is ongeldig"




class Problem(Exception):
    """An error the API reports to the caller as problem+json."""

    def __init__(
        self,
        status: int,
        slug: str | None = None,
        *,
        detail: str | Text | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__((detail.en if isinstance(detail, Text) else detail) or slug or str(status))
        self.status = status
        self.slug = slug or STATUS_SLUGS.get(status, "internal" if status >= 500 else "bad_request")
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extensions = extensions


# How long a caller should wait before retrying while the database is unreachable.
RETRY_AFTER_S = 5


def unavailable(exc: BaseException) -> Problem | None:
    """The 503 for a database that cannot be reached, did not answer in time or kept conflicting; else None."""
    if isinstance(exc, ConnectionFailure) or (isinstance(exc, PyMongoError) and exc.timeout):
        return Problem(503, "temporarily_unavailable", headers={"Retry-After": str(RETRY_AFTER_S)},
                       detail=Text(nl="De database is even niet bereikbaar. Probeer het over enkele seconden opnieuw.",
                                   en="The database cannot be reached right now. Try again in a few seconds."),
                       retry_after_s=RETRY_AFTER_S)
    if isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError"):
        # Every retry of the transaction met a concurrent change to the same documents: nothing was written.
        return Problem(503, "temporarily_unavailable", headers={"Retry-After": "1"},
                       detail=Text(nl="Te veel gelijktijdige wijzigingen aan dezelfde gegevens; niets is opgeslagen. "
                                      "Probeer het zo opnieuw.",
                                   en="Too many simultaneous changes to the same data; nothing was saved. "
                                      "Try again shortly."),
                       retry_after_s=1)
    return None


def field_error(field: str, reason: str) -> dict[str, str]:
    """One entry of a problem's `errors` list."""
    return {"field": field, "reason": reason}


def wants_english(request: Request) -> bool:
    """True when the caller prefers English over Dutch (Accept-Language)."""
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        lang = part.split(";")[0].strip().lower()
        if lang.startswith("nl"):
            return False
        if lang.startswith("en"):
            return True
    return False


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    """Render a Problem as an RFC 9457 response."""
    english = wants_english(request)
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.slug,
        "title": title_of(problem).pick(english),
        "status": problem.status,
        "instance": request.url.path,
        "correlation_id": correlation_id_var.get(),
    }
    if problem.detail:
        body["detail"] = problem.detail.pick(english) if isinstance(problem.detail, Text) else problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    body.update(problem.extensions)
    return JSONResponse(body, status_code=problem.status, headers=problem.headers, media_type=PROBLEM_JSON)


def title_of(problem: Problem) -> Text:
    """The problem type's own title; a type without one gets its status's title, never the 5xx one below 500."""
    if problem.slug in TITLES:
        return Text(*TITLES[problem.slug])
    fallback = STATUS_SLUGS.get(problem.status, "internal" if problem.status >= 500 else "bad_request")
    return Text(*TITLES[fallback])


def _validation_errors(request: Request, exc: RequestValidationError) -> list[dict[str, Any]]:
    english = wants_english(request)
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        where, path = (loc[0], loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else ("body", loc)
        reason = err.get("msg", "invalid") if english else DUTCH_REASONS.get(err["type"], DUTCH_FALLBACK_REASON)
        errors.append({"field": ".".join(path) or where, "in": where, "reason": reason, "code": err["type"]})
    return errors


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of the app a problem+json response."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(request, Problem(422, "validation", errors=_validation_errors(request, exc)))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail: str | Text | None = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else None
        if detail == HTTPStatus(exc.status_code).phrase:  # Starlette's own phrase: say it in both languages
            detail = HTTP_DETAILS.get(exc.status_code)
        return problem_response(
            request, Problem(exc.status_code, detail=detail, headers=dict(exc.headers) if exc.headers else None)
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
