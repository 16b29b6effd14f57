"""The four-step student import: upload, map columns, map values, preview with row errors and commit."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from kit.numbers import INT_MAX
from web.api import ApiError, Upstreams
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import back, items, require_admin, say

router = APIRouter(prefix="/imports")
log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VALUE_FIELDS = ("gender", "programme", "group")
COMMIT_TIMEOUT_S = 1800.0  # enrollment commits block by block; a large file takes minutes
COMMITS: set[asyncio.Task[None]] = set()  # running commits, kept referenced until they end

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


def progress_of(job: dict[str, Any]) -> tuple[int, int]:
    """Rows done (every outcome, errors included) and rows in all, from the job's running result."""
    preview, result = job.get("preview") or {}, job.get("result") or {}
    total = int(preview.get("valid", 0)) + int(preview.get("invalid", 0)) or int(job.get("row_count") or 0)
    done = sum(int(result.get(k, 0)) for k in ("created", "updated", "unchanged", "invalid"))
    return min(done, total), total


def stalled(job: dict[str, Any]) -> bool:
    """A commit that nobody is running now (its lease was given up or ran out): it can be resumed."""
    lease = job.get("lease_until")
    if job.get("status") != "committing":
        return False
    if not lease:
        return True
    until = datetime.fromisoformat(str(lease).replace("Z", "+00:00"))
    return until.timestamp() < time.time()


def _preview_page(ctx: Ctx, job: dict[str, Any], rows: Any, only: str, *, status: int = 200,
                  error: ApiError | None = None) -> Response:
    done, total = progress_of(job)
    return render(ctx, "import_preview.html", status=status, error=error, job=job, rows=rows, only=only, step=4,
                  done=done, total=total, stalled=stalled(job),
                  title=say(ctx, "Stap 4: controleren en importeren", "Step 4: check and import"))


@router.get("/{job_id}/preview", summary="Step 4: the checked rows, errors first (and the commit's progress)")
async def preview(job_id: str, ctx: Ctx = Depends(in_school), after: int = Query(default=0, ge=0, le=INT_MAX),
                  only: str = "invalid") -> Response:
    require_admin(ctx)
    wanted = only if only in ("invalid", "valid", "created", "updated", "unchanged") else None
    job, rows = await asyncio.gather(_job(ctx, job_id), ctx.get(
        "enrollment", f"/v1/schools/{ctx.school_id}/imports/{job_id}/rows", status=wanted, after=after, limit=100))
    return _preview_page(ctx, job, rows, only)


@router.get("/{job_id}/progress", summary="Step 4: the commit's progress (an htmx fragment, polled)")
async def progress(job_id: str, request: Request, ctx: Ctx = Depends(in_school),
                   seen: int = Query(default=-1, ge=-1, le=INT_MAX)) -> Response:
    require_admin(ctx)
    job = await _job(ctx, job_id)
    if job["status"] == "committed":
        if not request.headers.get("hx-request"):
            return back(f"/imports/{job_id}/preview?only=created")
        return Response(headers={"HX-Redirect": f"/imports/{job_id}/preview?only=created"})
    done, total = progress_of(job)
    if request.headers.get("hx-request") and done == seen and not stalled(job):
        return Response(status_code=204)  # nothing new: htmx keeps the fragment (and screen readers stay quiet)
    return render(ctx, "_import_progress.html", job=job, done=done, total=total, stalled=stalled(job))


async def _run_commit(upstreams: Upstreams, path: str, token: str, language: str) -> httpx.Response:
    """The commit call itself, as the admin, allowed to take as long as enrollment needs."""
    return await upstreams.request("enrollment", "POST", path, token=token, language=language,
                                   timeout=COMMIT_TIMEOUT_S)


async def _logged(call: Any, job_id: str) -> None:
    try:
        response = await call
        if response.status_code >= 400:
            log.warning("import commit refused", extra={"job_id": job_id, "status": response.status_code})
    except httpx.HTTPError as exc:  # the page shows the commit as stalled, with a button to resume it
        log.warning("import commit call failed", extra={"job_id": job_id, "error": type(exc).__name__})


@router.post("/{job_id}/commit", summary="Step 4: import the valid rows (the page follows the progress)")
async def commit(job_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    before = await _job(ctx, job_id)
    if before["status"] == "committed":
        return back(f"/imports/{job_id}/preview?only=created")
    path = f"/v1/schools/{ctx.school_id}/imports/{job_id}/commit"
    call = asyncio.ensure_future(_run_commit(ctx.upstreams, path, await ctx.token(), ctx.lang))
    # Wait until enrollment has taken the commit (or refused it), then show the progress while it runs.
    for _ in range(50):
        await asyncio.sleep(0.1)
        if call.done():
            break
        job = await _job(ctx, job_id)
        if job["status"] == "committing" and not stalled(job):
            break
    if call.done():
        response = call.result()
        if response.status_code >= 400:
            exc = ApiError.from_response(response)
            job = await _job(ctx, job_id)
            rows = await ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/imports/{job_id}/rows", status="invalid")
            return _preview_page(ctx, job, rows, "invalid", status=exc.status, error=exc)
        return back(f"/imports/{job_id}/preview?only=created")
    task = asyncio.ensure_future(_logged(call, job_id))
    COMMITS.add(task)
    task.add_done_callback(COMMITS.discard)
    return back(f"/imports/{job_id}/preview")
