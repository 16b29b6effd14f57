"""HTTP routes of the programme catalog (the operator's) and the programmes each school enables."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from enrollment import catalog
from enrollment.api import Admin, AnyRole
from enrollment.schemas import (
    ProgrammeIn,
    ProgrammeList,
    ProgrammeOut,
    SchoolProgrammeIn,
    SchoolProgrammeList,
    SchoolProgrammeOut,
)
from kit.auth import Principal, require_operator
from kit.commands import execute
from kit.deps import CurrentPrincipal, Database, ServiceOutbox

router = APIRouter(tags=["programmes"])
Operator = Annotated[Principal, Depends(require_operator)]


@router.post("/v1/programmes", status_code=201, summary="Publish a catalog programme", response_model=ProgrammeOut)
async def publish_programme(body: ProgrammeIn, request: Request, _: Operator, db: Database,
                            outbox: ServiceOutbox) -> JSONResponse:
    """Operator: publish (or correct) a programme for all schools."""
    return await execute(request, lambda s: catalog.publish_programme(db, s, outbox, values=body.model_dump()),
                         status_code=201)


@router.get("/v1/programmes", summary="The programme catalog", response_model=ProgrammeList)
async def list_catalog(_: CurrentPrincipal, db: Database,
                       crebo: str | None = Query(default=None, max_length=10)) -> dict[str, Any]:
    """Every published programme (optionally of one crebo)."""
    return await catalog.list_catalog(db, crebo=crebo)


@router.put("/v1/schools/{school_id}/programmes/{programme_id}", response_model=SchoolProgrammeOut,
            summary="Enable a programme for the school and link its staff")
async def set_school_programme(school_id: str, programme_id: str, body: SchoolProgrammeIn, request: Request,
                               _: Admin, db: Database, outbox: ServiceOutbox) -> JSONResponse:
    """School admin: enable or disable a catalog programme, with the staff linked to it."""
    return await execute(request, lambda s: catalog.set_school_programme(
        db, s, outbox, school_id=school_id, programme_id=programme_id, enabled=body.enabled, staff_ids=body.staff_ids))


@router.get("/v1/schools/{school_id}/programmes", summary="The school's programmes",
            response_model=SchoolProgrammeList)
async def school_programmes(school_id: str, _: AnyRole, db: Database) -> dict[str, Any]:
    """The programmes the school enabled, with their staff."""
    return {"items": await catalog.school_programmes(db, school_id=school_id)}
