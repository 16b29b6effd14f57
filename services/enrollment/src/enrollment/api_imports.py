"""HTTP routes of the four-step student import (upload, columns, values, preview + commit)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import Field, StringConstraints
from starlette.types import Scope

from enrollment import imports
from enrollment import repository as repo
from enrollment.api import ADMIN, Strict
from enrollment.files import XLSX_MEDIA_TYPE, example_csv, example_xlsx
from enrollment.models import IMPORT_FIELDS, render_reason
from enrollment.settings import EnrollmentSettings
from kit.auth import Principal
from kit.errors import Problem, wants_english

router = APIRouter(tags=["import"])
Doc = dict[str, Any]
_UPLOAD_PATH = re.compile(r"^/v1/schools/[^/]+/imports/?$")


def is_upload(scope: Scope) -> bool:
    """The upload route has its own 20 MB limit, counted while streaming, instead of the 1 MiB JSON limit."""
    return scope.get("method") == "POST" and bool(_UPLOAD_PATH.match(scope.get("path", "")))


def _settings(request: Request) -> EnrollmentSettings:
    settings: EnrollmentSettings = request.app.state.settings
    return settings


@router.get("/v1/schools/{school_id}/imports/example.{fmt}", summary="Download the example import file",
            response_class=Response)
async def example(school_id: str, fmt: Literal["csv", "xlsx"], _: Principal = Depends(ADMIN)) -> Response:
    """An example file with every field as a column (semicolon CSV or .xlsx)."""
    if fmt == "csv":
        return Response(example_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="voorbeeld-studenten.csv"'})
    return Response(example_xlsx(), media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="voorbeeld-studenten.xlsx"'})


@router.get("/v1/schools/{school_id}/imports/fields", summary="The fields columns can be mapped to")
async def fields(school_id: str, _: Principal = Depends(ADMIN)) -> Doc:
    """Every importable field, whether it is required, and its header names that are recognised."""
    return {"items": [{"name": f.name, "label": f.label, "required": f.required, "synonyms": list(f.synonyms)}
                      for f in IMPORT_FIELDS]}


@router.post("/v1/schools/{school_id}/imports", status_code=201, summary="Step 1: upload a CSV or .xlsx file",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string", "format": "binary"}},
                 XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
async def upload(school_id: str, request: Request,
                 invite: bool = Query(default=False, description="Invite imported students by e-mail"),
                 language: Literal["nl", "en"] = Query(default="nl", description="Language of the invitations"),
                 filename: Annotated[str, StringConstraints(max_length=200)] | None = Query(default=None),
                 who: Principal = Depends(ADMIN)) -> Doc:
    """The file is the request body (at most 20 MB); answers the job with its columns and suggested mapping."""
    limit = _settings(request).max_import_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "payload_too_large", detail=f"The file may be at most {limit // (1 << 20)} MB.",
                      max_bytes=limit)
    return await imports.upload(request.app.state.db, school_id, who.subject, request.stream(), max_bytes=limit,
                                invite=invite, language=language, filename=filename)


@router.get("/v1/schools/{school_id}/imports", summary="Recent import jobs")
async def list_jobs(school_id: str, request: Request, limit: int = Query(default=20, ge=1, le=100),
                    _: Principal = Depends(ADMIN)) -> Doc:
    """The school's latest imports, newest first (to resume one)."""
    return {"items": [imports.job_out(j) for j in await repo.list_jobs(request.app.state.db, school_id, limit)]}


@router.get("/v1/schools/{school_id}/imports/{job_id}", summary="An import job and the step it is at")
async def get_job(school_id: str, job_id: str, request: Request, _: Principal = Depends(ADMIN)) -> Doc:
    """The job's state: columns, mapping, value maps, preview counts, commit result."""
    job = await repo.get_job(request.app.state.db, school_id, job_id)
    if job is None:
        raise Problem(404, "not_found", detail="This import does not exist.")
    return imports.job_out(job)


class MappingIn(Strict):
    """Column index (as text, from 0) -> field name; unmapped columns are ignored."""

    columns: dict[Annotated[str, StringConstraints(max_length=4)], Annotated[str, StringConstraints(max_length=40)]]


@router.put("/v1/schools/{school_id}/imports/{job_id}/mapping", summary="Step 2: map columns to fields")
async def set_mapping(school_id: str, job_id: str, body: MappingIn, request: Request,
                      _: Principal = Depends(ADMIN)) -> Doc:
    """Store the column mapping; people columns are matched to existing users by e-mail."""
    return await imports.set_mapping(request.app.state.db, school_id, job_id, body.columns)


@router.get("/v1/schools/{school_id}/imports/{job_id}/values", summary="Step 3: the file's own values")
async def get_values(school_id: str, job_id: str, request: Request, _: Principal = Depends(ADMIN)) -> Doc:
    """Per field (gender, programme, group) the file's values and what each is mapped to."""
    return await imports.values(request.app.state.db, school_id, job_id)


class ValuesIn(Strict):
    """File value -> meaning, per field; a group value mapped to null creates a group of that name."""

    gender: dict[str, Literal["male", "female", "other"] | None] = Field(default_factory=dict)
    programme: dict[str, Annotated[str, StringConstraints(max_length=64)] | None] = Field(default_factory=dict)
    group: dict[str, Annotated[str, StringConstraints(max_length=64)] | None] = Field(default_factory=dict)


@router.put("/v1/schools/{school_id}/imports/{job_id}/values", summary="Step 3: map the file's values")
async def set_values(school_id: str, job_id: str, body: ValuesIn, request: Request,
                     _: Principal = Depends(ADMIN)) -> Doc:
    """Store what the file's own values mean."""
    maps = {k: v for k, v in body.model_dump().items() if v}
    return await imports.set_values(request.app.state.db, school_id, job_id, maps)


@router.post("/v1/schools/{school_id}/imports/{job_id}/preview", summary="Step 4: check every row")
async def preview(school_id: str, job_id: str, request: Request, _: Principal = Depends(ADMIN)) -> Doc:
    """Check every row: valid (create or update) or invalid with its reasons; counts in `preview`."""
    return await imports.preview(request.app.state.db, school_id, job_id)


@router.get("/v1/schools/{school_id}/imports/{job_id}/rows", summary="Rows with their status and reasons")
async def rows(school_id: str, job_id: str, request: Request,
               status: Literal["valid", "invalid", "created", "updated", "unchanged"] | None = None,
               after: int = Query(default=0, ge=0, description="Row number to continue after (next_after)"),
               limit: int = Query(default=100, ge=1, le=1000), _: Principal = Depends(ADMIN)) -> Doc:
    """The preview (or, after commit, the outcome) of each row, with reasons in the caller's language."""
    page = await imports.rows(request.app.state.db, school_id, job_id, status, after, limit)
    english = wants_english(request)
    for item in page["items"]:
        if "reasons" in item:
            item["reasons"] = [render_reason(r, english) for r in item["reasons"]]
    return page


@router.post("/v1/schools/{school_id}/imports/{job_id}/commit", summary="Step 4: import the valid rows")
async def commit(school_id: str, job_id: str, request: Request, _: Principal = Depends(ADMIN)) -> Doc:
    """Import the valid rows (matched on student code: a repeat creates no duplicates); resumes a stopped one."""
    app = request.app
    return await imports.commit(app.state.db, app.state.mongo, school_id, job_id, _settings(request).import_lease_s)
