"""The library: manuals per role; the school admin publishes them with the resumable upload control."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from web.context import Ctx, in_school
from web.render import ROLE_NAMES, render
from web.routes.common import say

router = APIRouter(prefix="/library")
files = APIRouter(prefix="/files")


@router.get("", summary="The manuals for my roles (the admin sees all and publishes)")
async def library(ctx: Ctx = Depends(in_school)) -> Response:
    files = await ctx.get("evidence", f"/v1/schools/{ctx.school_id}/library")
    return render(ctx, "library.html", title=say(ctx, "Bibliotheek", "Library"), files=files,
                  admin=ctx.has("school_admin") and not ctx.view_as, all_roles=list(ROLE_NAMES),
                  max_bytes=ctx.settings.max_file_bytes)


@router.get("/{file_id}/download", summary="Download a manual (a short-lived link straight to storage)")
@files.get("/{file_id}/download", summary="Download a file the person may read (e.g. a message attachment)")
async def download(file_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    link = await ctx.get("evidence", f"/v1/schools/{ctx.school_id}/files/{file_id}/url")
    return RedirectResponse(link["url"], status_code=303)
