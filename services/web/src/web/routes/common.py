"""Small helpers the page routers share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import RedirectResponse

from kit.numbers import whole_number
from web.api import ApiError
from web.context import Ctx

Field = Annotated[str, Form(max_length=20_000)]
Many = Annotated[list[str], Form()]


def say(ctx: Ctx, nl: str, en: str) -> str:
    """The text in the page's language."""
    return en if ctx.lang == "en" else nl


def number_or_text(raw: str) -> int | str | None:
    """A typed whole number as a number; other text is sent on as typed, so the API names the field."""
    found = whole_number(raw)
    return found if found is not None else (raw.strip() or None)


def back(url: str) -> RedirectResponse:
    """After a change: see the result (POST → redirect → GET, so a reload sends nothing twice)."""
    return RedirectResponse(url, status_code=303)


def items(page: Any) -> list[Any]:
    """The items of a list answer."""
    return list(page.get("items", [])) if isinstance(page, dict) else list(page or [])


def require_admin(ctx: Ctx) -> None:
    """Only this school's admin may use the page (the API checks again)."""
    if not ctx.has("school_admin") or ctx.view_as:
        raise ApiError(403, detail=say(ctx, "Alleen de beheerder van deze school mag dit.",
                                       "Only this school's admin may do this."))
