"""What every exams sub-package shares: problem types, versions and ETags, strict request bodies, pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header
from pydantic import BaseModel, ConfigDict, StringConstraints
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.values import Line
from kit.deps import ServiceOutbox
from kit.errors import TITLES, Problem, Text, field_error
from kit.numbers import whole_number

Doc = dict[str, Any]
Session = AsyncClientSession
Events = ServiceOutbox  # the service's outbox, as a typed route dependency

TITLES.update({
    "illegal_transition": ("Deze stap is nu niet toegestaan", "This step is not allowed now"),
    "not_named": ("U staat niet op deze opdracht", "You are not named on this assignment"),
    "stale_version": ("Iemand anders heeft dit intussen gewijzigd", "Someone else changed this in the meantime"),
    "version_required": ("Geef de versie mee (If-Match)", "Send the version you saw (If-Match)"),
})

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Name = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


def etag(version: int) -> str:
    """The ETag of a document version."""
    return f'"{version}"'


def parse_if_match(if_match: str | None) -> int | None:
    """The version an If-Match header names (None when absent); a malformed one is refused."""
    if if_match is None:
        return None
    version = whole_number(if_match.strip().removeprefix("W/").strip('"'))
    if version is None:
        raise Problem(400, "bad_request", detail=Text("If-Match moet een versie zijn zoals \"3\".",
                                                      'If-Match must be a version such as "3".'),
                      errors=[field_error("If-Match", "not a version")])
    return version


def if_match_header(if_match: Annotated[str | None, Header(description='The version you saw, e.g. "3"')] = None
                    ) -> int | None:
    """Dependency: the expected version from If-Match."""
    return parse_if_match(if_match)


IfMatch = Annotated[int | None, Depends(if_match_header)]


def check_version(doc: Doc, expected: int | None, *, required: bool = False) -> None:
    """Refuse a write based on a stale version (412), or without one when it is required (428)."""
    if expected is None:
        if required:
            raise Problem(428, "version_required", detail=Text(
                "Deze wijziging vraagt de versie die u zag, in de header If-Match.",
                "This change needs the version you saw, in the If-Match header."))
        return
    if doc["version"] != expected:
        raise Problem(412, "stale_version", current_version=doc["version"], detail=Text(
            f"U zag versie {expected}, de huidige is {doc['version']}: laad opnieuw en probeer het nog eens.",
            f"You saw version {expected}, the current one is {doc['version']}: reload and try again."))


def refuse(reason: Text, slug: str = "illegal_transition", status: int = 409, **extensions: Any) -> Problem:
    """A refused step, saying why in Dutch and English."""
    return Problem(status, slug, detail=reason, **extensions)


def not_found(what_nl: str, what_en: str) -> Problem:
    """A 404 naming what was not found."""
    return Problem(404, "not_found", detail=Text(f"{what_nl} bestaat niet (in deze school).",
                                                 f"No such {what_en} (in this school)."))


def forbidden(reason: Text) -> Problem:
    """A 403 saying why."""
    return Problem(403, "forbidden", detail=reason)


def page(items: list[Any], limit: int, cursor_of: Any) -> dict[str, Any]:
    """One page of a list with the cursor of the next page (None at the end)."""
    return {"items": items, "next_cursor": cursor_of(items[-1]) if len(items) == limit else None}
