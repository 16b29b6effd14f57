"""The school admin's school settings: name, contact, terminology and retention."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import back, number_or_text, require_admin, say

router = APIRouter(prefix="/school-settings")
RETENTION = {"personal_data": ("Persoonsgegevens", "Personal data"), "results": ("Resultaten", "Results"),
             "evidence": ("Bewijsstukken", "Evidence"), "videos": ("Video's", "Videos"),
             "audit": ("Auditlog", "Audit log")}


async def _page(ctx: Ctx, *, status: int = 200, error: ApiError | None = None,
                form: dict[str, Any] | None = None) -> Response:
    school = await ctx.get("identity", f"/v1/schools/{ctx.school_id}")
    values = form or {"name": school["name"], **{f"contact_{k}": v or "" for k, v in (school["contact"] or {}).items()},
                      **{f"retention_{k}": v for k, v in (school["retention"] or {}).items()}}
    return render(ctx, "school_settings.html", status=status, error=error, form=values, school=school,
                  title=say(ctx, "Instellingen van de school", "School settings"), retention=RETENTION)


@router.get("", summary="The school's settings")
async def settings_page(ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    return await _page(ctx)


@router.post("", summary="Save the school's settings")
async def save(request: Request, ctx: Ctx = Depends(in_school)) -> Response:
    form = {k: v for k, v in request.state.form.items() if isinstance(v, str)}
    retention: dict[str, Any] = {}
    for key in RETENTION:
        raw = form.get(f"retention_{key}", "").strip()
        retention[key] = number_or_text(raw) if raw else ""
    body = {"name": form.get("name", "").strip(),
            "contact": {k: form.get(f"contact_{k}", "").strip() or None for k in ("name", "email", "phone")},
            "retention": retention}
    try:
        await ctx.call("identity", "PATCH", f"/v1/schools/{ctx.school_id}", json=body)
    except ApiError as exc:
        return await _page(ctx, status=exc.status, error=exc, form=form)
    ctx.session["school_name"] = body["name"]
    return back("/school-settings?saved=1")
