"""Typed route dependencies of the notifications service: its settings and who may call what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query

from kit.auth import Principal, Role, current_principal, require_roles
from kit.deps import app_state
from kit.errors import Problem, Text, field_error
from notifications import repository as repo
from notifications.settings import NotificationsSettings

Config = Annotated[NotificationsSettings, Depends(app_state("settings"))]


def person_in_school(*roles: Role, private: bool = False) -> Callable[..., Any]:
    """A person with one of the roles in the path's school; private: not while viewing as the student."""
    in_school = require_roles(*roles)

    async def dependency(principal: Principal = Depends(in_school)) -> Principal:
        if principal.kind != "user":
            raise Problem(403, "forbidden", detail=Text(
                "Alleen personen hebben meldingen en berichten.",
                "Only people have notifications and messages."))
        if private and (principal.read_only or principal.actor):
            raise Problem(403, "forbidden", detail=Text(
                "Berichten worden niet getoond wanneer u meekijkt als de student.",
                "Messages are not shown when viewing as the student."))
        return principal

    return dependency


async def a_person(principal: Principal = Depends(current_principal)) -> Principal:
    """Any signed-in person (not an API client)."""
    if principal.kind != "user":
        raise Problem(403, "forbidden", detail=Text(
            "Alleen personen hebben voorkeuren.",
            "Only people have preferences."))
    return principal


AnyMember = Annotated[Principal, Depends(person_in_school(*Role))]
Messenger = Annotated[Principal, Depends(person_in_school(Role.STUDENT, Role.SCHOOL_SUPERVISOR, private=True))]
Person = Annotated[Principal, Depends(a_person)]
SchoolAdmin = Annotated[Principal, Depends(require_roles(Role.SCHOOL_ADMIN))]


def page_cursor(cursor: Annotated[str | None, Query(max_length=24, description="next_cursor of the previous page")]
                = None) -> Any:
    """The position a list continues after, from the previous page's next_cursor."""
    try:
        return repo.parse_cursor(cursor)
    except ValueError as exc:
        raise Problem(422, "validation", errors=[{**field_error("cursor", "not a cursor of this list"),
                                                  "in": "query"}]) from exc


Cursor = Annotated[Any, Depends(page_cursor)]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
