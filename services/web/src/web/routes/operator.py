"""The operator's pages: the schools and each school's first admin."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, signed_in
from web.render import render
from web.routes.common import Field, back, say

router = APIRouter(prefix="/operator")


def _operator(ctx: Ctx) -> None:
    if not ctx.operator:
        raise ApiError(403, detail=say(ctx, "Alleen de hostingpartij mag dit.", "Only the operator may do this."))


@router.get("/schools", summary="Every school on the platform")
async def schools(ctx: Ctx = Depends(signed_in)) -> Response:
    _operator(ctx)
    found = await ctx.get("identity", "/v1/schools")
    return render(ctx, "operator_schools.html", title=say(ctx, "Scholen", "Schools"), schools=found,
                  key=ctx.form_key())


@router.post("/schools", summary="Create a school and its first admin")
async def create(ctx: Ctx = Depends(signed_in), name: Field = "", brin: Field = "", admin_name: Field = "",
                 admin_email: Field = "", idempotency_key: Field = "") -> Response:
    _operator(ctx)
    form = {"name": name, "brin": brin, "admin_name": admin_name, "admin_email": admin_email}
    body = {"name": name.strip(), "brin": brin.strip() or None, "admin_name": admin_name.strip(),
            "admin_email": admin_email.strip(), "language": ctx.lang, "send_invitation": True}
    try:
        await ctx.call("identity", "POST", "/v1/schools", json=body, idem=idempotency_key or None)
    except ApiError as exc:
        found = await ctx.get("identity", "/v1/schools")
        return render(ctx, "operator_schools.html", status=exc.status, title=say(ctx, "Scholen", "Schools"),
                      schools=found, key=idempotency_key, form=form, error=exc)
    return back("/operator/schools?created=1")
