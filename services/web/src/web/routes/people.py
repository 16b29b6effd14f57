"""The school admin's people: members, their roles, invitations, unlocking."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import ROLE_NAMES, render
from web.routes.common import Field, Many, back, require_admin, say

router = APIRouter(prefix="/people")



async def _list(ctx: Ctx, q: str | None, role: str | None, cursor: str | None) -> Any:
    return await ctx.get("identity", f"/v1/schools/{ctx.school_id}/users", q=q, role=role, cursor=cursor, limit=50)


@router.get("", summary="The people of the school")
async def people(ctx: Ctx = Depends(in_school), q: str | None = Query(default=None, max_length=100),
                 role: str | None = Query(default=None, max_length=40),
                 cursor: str | None = Query(default=None, max_length=500)) -> Response:
    require_admin(ctx)
    page = await _list(ctx, q, role if role in ROLE_NAMES else None, cursor)
    return render(ctx, "people.html", title=say(ctx, "Mensen en rollen", "People and roles"), page=page, q=q or "",
                  role=role or "", all_roles=list(ROLE_NAMES), key=ctx.form_key())


@router.post("", summary="Add a person with roles (optionally e-mail a login code)")
async def add(ctx: Ctx = Depends(in_school), email: Field = "", display_name: Field = "", roles: Many = [],  # noqa: B006
              student_code: Field = "", send_invitation: Field = "", idempotency_key: Field = "") -> Response:
    require_admin(ctx)
    body = {"email": email.strip(), "display_name": display_name.strip(), "roles": roles,
            "student_code": student_code.strip() or None, "language": ctx.lang,
            "send_invitation": bool(send_invitation)}
    try:
        await ctx.call("identity", "POST", f"/v1/schools/{ctx.school_id}/users", json=body,
                       idem=idempotency_key or None)
    except ApiError as exc:
        page = await _list(ctx, None, None, None)
        return render(ctx, "people.html", status=exc.status, title=say(ctx, "Mensen en rollen", "People and roles"),
                      page=page, q="", role="", all_roles=list(ROLE_NAMES), key=idempotency_key, error=exc,
                      form={"email": email, "display_name": display_name, "student_code": student_code,
                            "roles": roles, "send_invitation": send_invitation})
    return back("/people?added=1")


@router.get("/{user_id}", summary="One person")
async def person(user_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    member = await ctx.get("identity", f"/v1/schools/{ctx.school_id}/users/{user_id}")
    return render(ctx, "person.html", title=member["display_name"], member=member, all_roles=list(ROLE_NAMES))


@router.post("/{user_id}/roles", summary="Grant a role")
async def grant(user_id: str, ctx: Ctx = Depends(in_school), role: Field = "", student_code: Field = "") -> Response:
    require_admin(ctx)
    body = {"student_code": student_code.strip()} if student_code.strip() else {}
    try:
        await ctx.call("identity", "PUT", f"/v1/schools/{ctx.school_id}/users/{user_id}/roles/{role}", json=body)
    except ApiError as exc:
        member = await ctx.get("identity", f"/v1/schools/{ctx.school_id}/users/{user_id}")
        return render(ctx, "person.html", status=exc.status, title=member["display_name"], member=member,
                      all_roles=list(ROLE_NAMES), error=exc, form={"role": role, "student_code": student_code})
    return back(f"/people/{user_id}?done=1")


@router.post("/{user_id}/roles/{role}/revoke", summary="Take a role away")
async def revoke(user_id: str, role: str, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    return await _act(ctx, user_id, "DELETE", f"/roles/{role}") or back(f"/people/{user_id}?done=1")


@router.post("/{user_id}/{action}", summary="Resend the invitation, unlock, deactivate or reactivate")
async def act(user_id: str, action: str, ctx: Ctx = Depends(in_school)) -> Response:
    require_admin(ctx)
    if action not in ("invitation", "unlock", "deactivate", "reactivate"):
        raise ApiError(404, detail=say(ctx, "Onbekende actie.", "Unknown action."))
    return await _act(ctx, user_id, "POST", f"/{action}") or back(f"/people/{user_id}?done={action}")


async def _act(ctx: Ctx, user_id: str, method: str, suffix: str) -> Response | None:
    """Do an action on a person; a refusal is shown on the person's page."""
    try:
        await ctx.call("identity", method, f"/v1/schools/{ctx.school_id}/users/{user_id}{suffix}")
    except ApiError as exc:
        member = await ctx.get("identity", f"/v1/schools/{ctx.school_id}/users/{user_id}")
        return render(ctx, "person.html", status=exc.status, title=member["display_name"], member=member,
                      all_roles=list(ROLE_NAMES), error=exc)
    return None
