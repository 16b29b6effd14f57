"""The school admin's programmes: which catalog programmes the school enables."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, back, items, require_admin, say

router = APIRouter(prefix="/programmes")


async def _page(ctx: Ctx, status: int = 200, error: ApiError | None = None) -> Response:
    enabled, catalog = await asyncio.gather(ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/programmes"),
                                            ctx.get("enrollment", "/v1/programmes"))
    on = {p["id"]: p for p in items(enabled)}
    return render(ctx, "programmes.html", status=status, error=error,
                  title=say(ctx, "Opleidingen", "Programmes"), enabled=list(on.values()),
                  catalog=[p for p in items(catalog) if p["id"] not in on])


@router.get("", summary="The school's programmes and the catalog")
async def programmes(ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    return await _page(ctx)


@router.post("/{programme_id}", summary="Enable or disable a programme")
async def toggle(programme_id: str, ctx: Ctx = Depends(in_school), enabled: Field = "1") -> Response:
    try:
        await ctx.call("enrollment", "PUT", f"/v1/schools/{ctx.school_id}/programmes/{programme_id}",
                       json={"enabled": enabled == "1"})
    except ApiError as exc:
        return await _page(ctx, exc.status, exc)
    return back("/programmes")
