"""Typed FastAPI dependencies: what a route needs from the app, declared in its signature.

    async def list_files(db: Database, principal: CurrentPrincipal, school_id: str) -> list[FileOut]:

A service adds its own the same way, e.g. `Settings = Annotated[EvidenceSettings, Depends(app_state("settings"))]`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from kit.auth import Principal, current_principal
from kit.mongo import Client, Db
from kit.outbox import Outbox
from kit.settings import KitSettings


def app_state(name: str) -> Callable[[Request], Any]:
    """A dependency that returns `app.state.<name>`, set by the app's lifespan or startup hooks."""

    def dependency(request: Request) -> Any:
        return getattr(request.app.state, name)

    dependency.__name__ = f"app_state_{name}"
    return dependency


Database = Annotated[Db, Depends(app_state("db"))]
Mongo = Annotated[Client, Depends(app_state("mongo"))]
Settings = Annotated[KitSettings, Depends(app_state("settings"))]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def service_outbox(request: Request) -> Outbox:
    """The service's outbox, built once per app (kit's lifespan builds it; an app without it, on first use)."""
    state = request.app.state
    outbox: Outbox | None = getattr(state, "outbox", None)
    if outbox is None:
        outbox = state.outbox = Outbox(state.db, state.settings.service)
    return outbox


ServiceOutbox = Annotated[Outbox, Depends(service_outbox)]
