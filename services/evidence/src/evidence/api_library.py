"""HTTP routes of the library: manuals the school admin publishes per role, replaces and withdraws."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from evidence import service
from evidence.api import UPLOAD_DOC, UPLOAD_RESPONSES, FileOut, Replaces, file_out, withdrawal
from evidence.deps import S3, Anyone, Config, SchoolAdmin
from evidence.edge import Upload, receive
from kit.deps import Database, Mongo, ServiceOutbox

router = APIRouter(prefix="/v1/schools/{school_id}/library", tags=["library"])

Roles = Annotated[list[str], Query(description="Roles that see the manual (a replacement keeps the old "
                                               "manual's roles when none are given)")]


@router.post("", status_code=201, response_model=FileOut,
             summary="Publish a manual to the library for chosen roles, or a new version of one (school admin)",
             description=UPLOAD_DOC + " With `replaces`, the old manual is withdrawn in the same step: kept, "
                                      "hidden from readers, audited as replaced and linked to its successor.",
             responses=UPLOAD_RESPONSES)
async def publish_manual(principal: SchoolAdmin, upload: Upload, school_id: str, db: Database, mongo: Mongo,
                         s3: S3, settings: Config, outbox: ServiceOutbox, roles: Roles = [],  # noqa: B006
                         replaces: Replaces = None) -> FileOut:
    """Stream a manual into the library."""
    target = await service.library_target(db, school_id, roles, replaces)
    return file_out(await receive(mongo, db, s3, settings, outbox, target=target, upload=upload,
                                  by=principal.subject))


@router.get("", response_model=list[FileOut],
            summary="The manuals for the caller's roles (the school admin: all, withdrawn ones on request)")
async def list_manuals(principal: Anyone, school_id: str, db: Database,
                       include_withdrawn: bool = False) -> list[FileOut]:
    """The library as the caller may see it."""
    files = await service.library(db, principal, school_id=school_id, include_withdrawn=include_withdrawn)
    return [file_out(d) for d in files]


@router.post("/{file_id}/withdraw", response_model=FileOut,
             summary="Withdraw a manual (school admin): kept and audited, no longer shown to readers",
             responses={409: {"description": "The manual was already withdrawn"}})
async def withdraw_manual(principal: SchoolAdmin, request: Request, school_id: str, file_id: str, db: Database,
                          outbox: ServiceOutbox) -> Any:
    """Hide a manual from its readers; nothing is deleted."""
    return await withdrawal(request, db, outbox, principal, school_id=school_id, file_id=file_id, kind="library")
