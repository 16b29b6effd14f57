"""The four-step student import: upload, map columns, map values, preview with row errors and commit."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import back, items, require_admin, say

router = APIRouter(prefix="/imports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VALUE_FIELDS = ("gender", "programme", "group")



def _file_error(ctx: Ctx, nl: str, en: str) -> ApiError:
    return ApiError(422, errors=[{"field": "file", "reason": say(ctx, nl, en)}])


async def _start(ctx: Ctx, *, status: int = 200, error: ApiError | None = None) -> Response:
    jobs = await ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/imports", limit=10)
    return render(ctx, "import_upload.html", status=status, error=error,
                  title=say(ctx, "Studenten importeren", "Import students"), jobs=items(jobs),
                  max_bytes=ctx.settings.max_import_bytes)


@router.get("", summary="Step 1: choose a file (and recent imports)")
async def start(ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    return await _start(ctx)


@router.post("", summary="Step 1: upload the file")
async def upload(request: Request, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    form = request.state.form
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _start(ctx, status=422, error=_file_error(ctx, "Kies een bestand.", "Choose a file."))
    if (file.size or 0) > ctx.settings.max_import_bytes:
        return await _start(ctx, status=413, error=_file_error(
            ctx, f"Het bestand mag hoogstens {ctx.settings.max_import_bytes // 2**20} MB zijn.",
            f"The file may be at most {ctx.settings.max_import_bytes // 2**20} MB."))
    data = await file.read()
    name = file.filename.lower()
    is_xlsx = name.endswith(".xlsx") and data.startswith(b"PK\x03\x04")
    is_csv = name.endswith(".csv") and b"\x00" not in data[:4096] and bool(data.strip())
    if not (is_xlsx or is_csv):
        return await _start(ctx, status=415, error=_file_error(
            ctx, "Dit is geen spreadsheet. Kies een Excel-bestand (.xlsx) of een CSV-bestand.",
            "This is not a spreadsheet. Choose an Excel file (.xlsx) or a CSV file."))
    params = {"filename": file.filename[:200], "invite": "true" if form.get("invite") else "false",
              "language": ctx.lang}
    try:
        job = await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/imports", params=params,
                             content=data, headers={"Content-Type": XLSX if is_xlsx else "text/csv"})
    except ApiError as exc:
        if exc.status == 415:
            exc = _file_error(ctx, "Dit bestand kan niet gelezen worden als spreadsheet.",
                              "This file cannot be read as a spreadsheet.")
        return await _start(ctx, status=exc.status, error=exc)
    return back(f"/imports/{job['id']}/columns")


@router.get("/example.xlsx", summary="The example import file")
async def example(ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    response = await ctx.call("enrollment", "GET", f"/v1/schools/{ctx.school_id}/imports/example.xlsx", raw=True)
    return Response(response.content, media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="voorbeeld-studenten.xlsx"'})


async def _job(ctx: Ctx, job_id: str) -> Any:
    return await ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/imports/{job_id}")


async def _columns(ctx: Ctx, job_id: str, *, status: int = 200, error: ApiError | None = None) -> Response:
    job, fields = await asyncio.gather(_job(ctx, job_id),
                                       ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/imports/fields"))
    return render(ctx, "import_columns.html", status=status, error=error,
                  title=say(ctx, "Stap 2: kolommen koppelen", "Step 2: map the columns"), job=job,
                  fields=items(fields), step=2)


@router.get("/{job_id}/columns", summary="Step 2: map columns to fields")
async def columns(job_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    return await _columns(ctx, job_id)


@router.post("/{job_id}/columns", summary="Step 2: save the column mapping")
async def save_columns(job_id: str, request: Request, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    form = request.state.form
    mapping = {key.removeprefix("col-"): str(value) for key, value in form.multi_items()
               if key.startswith("col-") and isinstance(value, str) and value}
    try:
        await ctx.call("enrollment", "PUT", f"/v1/schools/{ctx.school_id}/imports/{job_id}/mapping",
                       json={"columns": mapping})
    except ApiError as exc:
        return await _columns(ctx, job_id, status=exc.status, error=exc)
    return back(f"/imports/{job_id}/values")


async def _values(ctx: Ctx, job_id: str, *, status: int = 200, error: ApiError | None = None) -> Response:
    sid = ctx.school_id
    values, programmes, groups = await asyncio.gather(
        ctx.get("enrollment", f"/v1/schools/{sid}/imports/{job_id}/values"),
        ctx.get("enrollment", f"/v1/schools/{sid}/programmes"),
        ctx.get("enrollment", f"/v1/schools/{sid}/groups", limit=500))
    return render(ctx, "import_values.html", status=status, error=error,
                  title=say(ctx, "Stap 3: waarden koppelen", "Step 3: map the values"), job_id=job_id,
                  value_maps=values.get("value_maps", {}), genders=values.get("genders", []),
                  programmes=items(programmes), groups=items(groups), step=3)


@router.get("/{job_id}/values", summary="Step 3: what the file's own values mean")
async def values(job_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    return await _values(ctx, job_id)


@router.post("/{job_id}/values", summary="Step 3: save the value mapping and check every row")
async def save_values(job_id: str, request: Request, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    maps: dict[str, dict[str, str | None]] = {name: {} for name in VALUE_FIELDS}
    for key, value in request.state.form.multi_items():
        field, _, original = key.partition(":")
        if field in maps and isinstance(value, str):
            maps[field][original] = value or None
    try:
        await ctx.call("enrollment", "PUT", f"/v1/schools/{ctx.school_id}/imports/{job_id}/values",
                       json={k: v for k, v in maps.items() if v})
        await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/imports/{job_id}/preview")
    except ApiError as exc:
        return await _values(ctx, job_id, status=exc.status, error=exc)
    return back(f"/imports/{job_id}/preview")


@router.get("/{job_id}/preview", summary="Step 4: the checked rows, errors first")
async def preview(job_id: str, ctx: Ctx = Depends(in_school), after: int = 0, only: str = "invalid") -> Response:
    require_admin(ctx)
    wanted = only if only in ("invalid", "valid", "created", "updated", "unchanged") else None
    job, rows = await asyncio.gather(_job(ctx, job_id), ctx.get(
        "enrollment", f"/v1/schools/{ctx.school_id}/imports/{job_id}/rows", status=wanted, after=after, limit=100))
    return render(ctx, "import_preview.html", title=say(ctx, "Stap 4: controleren en importeren",
                                                        "Step 4: check and import"),
                  job=job, rows=rows, only=only, step=4)


@router.post("/{job_id}/commit", summary="Step 4: import the valid rows")
async def commit(job_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    try:
        await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/imports/{job_id}/commit")
    except ApiError as exc:
        job = await _job(ctx, job_id)
        rows = await ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/imports/{job_id}/rows", status="invalid")
        return render(ctx, "import_preview.html", status=exc.status, error=exc, job=job, rows=rows, only="invalid",
                      step=4, title=say(ctx, "Stap 4: controleren en importeren", "Step 4: check and import"))
    return back(f"/imports/{job_id}/preview?only=created")
