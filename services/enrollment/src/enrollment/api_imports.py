"""HTTP routes of the four-step student import (upload, columns, values, preview + commit)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from starlette.types import Scope

from enrollment import import_commit, imports
from enrollment.api import Admin
from enrollment.files import XLSX_MEDIA_TYPE, example_csv, example_xlsx
from enrollment.import_rules import IMPORT_FIELDS, render_reason
from enrollment.schemas import Gender, Strict
from enrollment.settings import EnrollmentSettings
from kit.deps import Database, Mongo, ServiceOutbox, app_state
from kit.errors import Problem, Text, wants_english
from kit.numbers import INT_MAX, whole_number

router = APIRouter(tags=["import"])
Doc = dict[str, Any]
Settings = Annotated[EnrollmentSettings, Depends(app_state("settings"))]
PATH = "/v1/schools/{school_id}/imports"
_UPLOAD_PATH = re.compile(r"^/v1/schools/[^/]+/imports/?$")


def is_upload(scope: Scope) -> bool:
    """The upload route has its own 20 MB limit, counted while streaming, instead of the 1 MiB JSON limit."""
    return scope.get("method") == "POST" and bool(_UPLOAD_PATH.match(scope.get("path", "")))


# --- bodies ---------------------------------------------------------------------------------------

class FieldOut(BaseModel):
    """A field a column can be mapped to."""

    name: str
    label: str
    required: bool
    synonyms: list[str]


class FieldList(BaseModel):
    """Every importable field."""

    items: list[FieldOut]


class JobOut(BaseModel):
    """An import job and the step it is at."""

    id: str
    school_id: str
    status: Literal["uploading", "failed", "uploaded", "mapped", "previewed", "committing", "committed"]
    created_by: str
    invite: bool
    language: str
    filename: str | None = None
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    size: int | None = None
    columns: list[str] = []
    row_count: int | None = None
    blocks: int | None = None
    suggested_mapping: dict[str, str] | None = None
    mapping: dict[str, str] = {}
    people: dict[str, dict[str, list[str]]] | None = Field(
        default=None, description="Per people column: e-mail addresses matched to users, and not")
    value_maps: dict[str, dict[str, str | None]] = {}
    preview: dict[str, int] | None = Field(default=None, description="valid, invalid, create, update, unchanged")
    result: dict[str, int] | None = Field(default=None, description="created, updated, unchanged, invalid")
    committed_blocks: int | None = None
    lease_until: datetime | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class JobList(BaseModel):
    """The school's latest imports."""

    items: list[JobOut]


class ValuesOut(BaseModel):
    """The file's own values per field and what each means now."""

    id: str
    value_maps: dict[str, dict[str, str | None]]
    genders: list[str]


class RowOut(BaseModel):
    """A checked row: its status, the reasons it is invalid, or what commit did with it."""

    row: int = Field(description="Row number in the file (the header is row 1)")
    status: Literal["valid", "invalid", "created", "updated", "unchanged"]
    action: Literal["create", "update", "unchanged"] | None = None
    reasons: list[dict[str, Any]] | None = None
    student_id: str | None = None
    cells: list[str]


class RowPage(BaseModel):
    """Checked rows; pass next_after as after for the next page."""

    status: str
    items: list[RowOut]
    next_after: int | None


class MappingIn(Strict):
    """Column index (as text, from 0) -> field name; unmapped columns are ignored."""

    columns: dict[Annotated[str, StringConstraints(max_length=4)], Annotated[str, StringConstraints(max_length=40)]]


class ValuesIn(Strict):
    """File value -> meaning, per field; a group value mapped to null creates a group of that name."""

    gender: dict[str, Gender | None] = Field(default_factory=dict)
    programme: dict[str, Annotated[str, StringConstraints(max_length=64)] | None] = Field(default_factory=dict)
    group: dict[str, Annotated[str, StringConstraints(max_length=64)] | None] = Field(default_factory=dict)


# --- the edge: receiving the file -----------------------------------------------------------------

async def received_file(request: Request, settings: Settings) -> AsyncIterator[IO[bytes]]:
    """The request body in a spooled file (memory first, then disk), refused past the limit; closed after."""
    limit = settings.max_import_bytes
    megabytes = limit // (1 << 20)
    too_large = Problem(413, "payload_too_large", max_bytes=limit,
                        detail=Text(f"Het bestand mag hoogstens {megabytes} MB zijn.",
                                    f"The file may be at most {megabytes} MB."))
    if (whole_number(request.headers.get("content-length")) or 0) > limit:
        raise too_large
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=4 << 20)
    try:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            spooled.write(chunk)
        yield spooled
    finally:
        spooled.close()


Upload = Annotated[IO[bytes], Depends(received_file)]


# --- routes ---------------------------------------------------------------------------------------

@router.get(f"{PATH}/example.{{fmt}}", summary="Download the example import file", response_class=Response,
            responses={200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}})
async def example(school_id: str, fmt: Literal["csv", "xlsx"], _: Admin) -> Response:
    """An example file with every field as a column (semicolon CSV or .xlsx)."""
    if fmt == "csv":
        return Response(example_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="voorbeeld-studenten.csv"'})
    return Response(example_xlsx(), media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="voorbeeld-studenten.xlsx"'})


@router.get(f"{PATH}/fields", summary="The fields columns can be mapped to", response_model=FieldList)
async def fields(school_id: str, _: Admin) -> Doc:
    """Every importable field, whether it is required, and its header names that are recognised."""
    return {"items": [{"name": f.name, "label": f.label, "required": f.required, "synonyms": list(f.synonyms)}
                      for f in IMPORT_FIELDS]}


@router.post(PATH, status_code=201, summary="Step 1: upload a CSV or .xlsx file", response_model=JobOut,
             responses={415: {"description": "The file is not a CSV or .xlsx spreadsheet"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string", "format": "binary"}},
                 XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
async def upload(school_id: str, who: Admin, db: Database, file: Upload,
                 invite: bool = Query(default=False, description="Invite imported students by e-mail"),
                 language: Literal["nl", "en"] = Query(default="nl", description="Language of the invitations"),
                 filename: Annotated[str, StringConstraints(max_length=200)] | None = Query(default=None)) -> Doc:
    """The file is the request body (at most 20 MB); answers the job with its columns and suggested mapping."""
    return await imports.upload(db, school_id=school_id, created_by=who.subject, file=file, invite=invite,
                                language=language, filename=filename)


@router.get(PATH, summary="Recent import jobs", response_model=JobList)
async def list_jobs(school_id: str, _: Admin, db: Database, limit: int = Query(default=20, ge=1, le=100)) -> Doc:
    """The school's latest imports, newest first (to resume one)."""
    return await imports.list_jobs(db, school_id=school_id, limit=limit)


@router.get(f"{PATH}/{{job_id}}", summary="An import job and the step it is at", response_model=JobOut)
async def get_job(school_id: str, job_id: str, _: Admin, db: Database) -> Doc:
    """The job's state: columns, mapping, value maps, preview counts, commit result."""
    return await imports.get_job(db, school_id=school_id, job_id=job_id)


@router.put(f"{PATH}/{{job_id}}/mapping", summary="Step 2: map columns to fields", response_model=JobOut)
async def set_mapping(school_id: str, job_id: str, body: MappingIn, _: Admin, db: Database) -> Doc:
    """Store the column mapping; people columns are matched to existing users by e-mail."""
    return await imports.set_mapping(db, school_id=school_id, job_id=job_id, columns=body.columns)


@router.get(f"{PATH}/{{job_id}}/values", summary="Step 3: the file's own values", response_model=ValuesOut)
async def get_values(school_id: str, job_id: str, _: Admin, db: Database) -> Doc:
    """Per field (gender, programme, group) the file's values and what each is mapped to."""
    return await imports.values(db, school_id=school_id, job_id=job_id)


@router.put(f"{PATH}/{{job_id}}/values", summary="Step 3: map the file's values", response_model=JobOut)
async def set_values(school_id: str, job_id: str, body: ValuesIn, _: Admin, db: Database) -> Doc:
    """Store what the file's own values mean."""
    maps = {k: v for k, v in body.model_dump().items() if v}
    return await imports.set_values(db, school_id=school_id, job_id=job_id, maps=maps)


@router.post(f"{PATH}/{{job_id}}/preview", summary="Step 4: check every row", response_model=JobOut)
async def preview(school_id: str, job_id: str, _: Admin, db: Database) -> Doc:
    """Check every row: invalid with its reasons, or valid with what commit will do (create, update, unchanged)."""
    return await imports.preview(db, school_id=school_id, job_id=job_id)


@router.get(f"{PATH}/{{job_id}}/rows", summary="Rows with their status and reasons", response_model=RowPage)
async def rows(school_id: str, job_id: str, request: Request, _: Admin, db: Database,
               status: Literal["valid", "invalid", "created", "updated", "unchanged"] | None = None,
               after: int = Query(default=0, ge=0, le=INT_MAX,
                                 description="Row number to continue after (next_after)"),
               limit: int = Query(default=100, ge=1, le=1000)) -> Doc:
    """The preview (or, after commit, the outcome) of each row, with reasons in the caller's language."""
    page = await imports.rows(db, school_id=school_id, job_id=job_id, status=status, after=after, limit=limit)
    english = wants_english(request)
    for item in page["items"]:
        if "reasons" in item:
            item["reasons"] = [render_reason(r, english) for r in item["reasons"]]
    return page


@router.post(f"{PATH}/{{job_id}}/commit", summary="Step 4: import the valid rows", response_model=JobOut)
async def commit(school_id: str, job_id: str, _: Admin, db: Database, mongo: Mongo, settings: Settings,
                 outbox: ServiceOutbox) -> Doc:
    """Import the valid rows (matched on student code: a repeat creates no duplicates); resumes a stopped one."""
    return await import_commit.commit(db, mongo, school_id=school_id, job_id=job_id,
                                      lease_s=settings.import_lease_s, outbox=outbox)
