"""School admins' API: the people of their school, their roles, view-as-student, API clients, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator, model_validator
from pymongo.asynchronous.client_session import AsyncClientSession

from identity import access
from identity.api import STUDENT_CODE, Language, identity, school_manager
from identity.models import account_key, normalise_email
from identity.repository import Doc
from kit.auth import Principal, Role, require_operator, require_roles
from kit.commands import execute
from kit.errors import Problem, field_error

router = APIRouter(tags=["school members"])
admin = require_roles(Role.SCHOOL_ADMIN)


class MemberIn(BaseModel):
    email: str = Field(max_length=254)
    display_name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1, max_length=6)
    student_code: str | None = Field(default=None, max_length=40)
    language: Language = "nl"
    send_invitation: bool = Field(default=False, description="E-mail a login code right away")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)

    @field_validator("student_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and not STUDENT_CODE.match(value):
            raise ValueError("letters, digits, dot, dash or underscore, at most 40")
        return value

    @model_validator(mode="after")
    def _student_needs_code(self) -> MemberIn:
        if (Role.STUDENT in self.roles) != (self.student_code is not None):
            raise ValueError("student_code is required with role student, and only then")
        return self


class MemberPatch(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    language: Language | None = None
    email: str | None = Field(default=None, max_length=254)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value is not None else None


class MemberOut(BaseModel):
    user_id: str
    school_id: str
    email: str
    display_name: str
    roles: list[str]
    student_code: str | None = None
    student_id: str | None = None
    active: bool
    created_at: datetime


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


def member_out(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in ("user_id", "school_id", "email", "display_name", "roles", "student_code",
                                    "student_id", "active", "created_at")}


async def existing_school(request: Request, school_id: str) -> Doc:
    school = await identity(request).repo.school(school_id)
    if school is None:
        raise Problem(404, "not_found")
    return school


@router.post("/v1/schools/{school_id}/users", status_code=201, response_model=MemberOut)
async def add_member(school_id: str, body: MemberIn, request: Request, principal: Principal = Depends(admin)) -> Any:
    """Add a person to the school with roles (their existing account is reused across schools)."""
    ident = identity(request)
    school = await existing_school(request, school_id)

    async def work(session: AsyncClientSession) -> Any:
        user, _ = await ident.find_or_create_user(session, email=body.email, display_name=body.display_name,
                                                  language=body.language)
        membership = await ident.add_membership(session, school_id=school_id, user=user, roles=body.roles,
                                                student_code=body.student_code)
        if body.send_invitation and not user.get("password_hash"):
            await ident.invite(session, user=user, school=school)
        await ident.audit(session, "user_added", actor=principal.subject, school_id=school_id, target=user["_id"],
                          details={"roles": membership["roles"]})
        return member_out(membership)

    return await execute(request, work, status_code=201)


@router.get("/v1/schools/{school_id}/users", response_model=MemberPage)
async def search_members(
    school_id: str, request: Request, _: Principal = Depends(admin),
    q: str | None = Query(default=None, max_length=100, description="Part of a name or e-mail address"),
    role: Role | None = None, active: bool | None = None,
    cursor: str | None = Query(default=None, max_length=500), limit: int = Query(default=50, ge=1, le=200),
) -> Any:
    """Search the school's people, sorted by name, a page at a time."""
    try:
        docs, next_cursor = await identity(request).repo.search_memberships(
            school_id, query=q, role=role.value if role else None, active=active, cursor=cursor, limit=limit)
    except ValueError as exc:
        raise Problem(422, "validation", errors=[field_error("cursor", str(exc))]) from exc
    return {"items": [member_out(d) for d in docs], "next_cursor": next_cursor}


@router.get("/v1/schools/{school_id}/users/{user_id}", response_model=MemberOut)
async def get_member(school_id: str, user_id: str, request: Request, _: Principal = Depends(admin)) -> Any:
    """One member of the school."""
    return member_out(await identity(request).member(school_id, user_id))


@router.patch("/v1/schools/{school_id}/users/{user_id}", response_model=MemberOut)
async def update_member(school_id: str, user_id: str, body: MemberPatch, request: Request,
                        principal: Principal = Depends(admin)) -> Any:
    """Change a member's name, language or e-mail address."""
    ident = identity(request)
    await ident.member(school_id, user_id)
    changes = body.model_dump(exclude_none=True)

    async def work(session: AsyncClientSession) -> Any:
        if changes:
            await ident.update_user(session, school_id, user_id, changes)
            await ident.audit(session, "user_changed", actor=principal.subject, school_id=school_id, target=user_id,
                              details={"fields": sorted(changes)})
        return member_out(await ident.repo.membership(school_id, user_id, session=session) or {})

    return await execute(request, work)


@router.post("/v1/schools/{school_id}/users/{user_id}/deactivate", response_model=MemberOut)
async def deactivate(school_id: str, user_id: str, request: Request, principal: Principal = Depends(admin)) -> Any:
    """Deactivate a member (never deleted): no more access to this school, running sessions end."""
    return await _set_active(request, principal, school_id, user_id, False)


@router.post("/v1/schools/{school_id}/users/{user_id}/reactivate", response_model=MemberOut)
async def reactivate(school_id: str, user_id: str, request: Request, principal: Principal = Depends(admin)) -> Any:
    """Give a deactivated member access again."""
    return await _set_active(request, principal, school_id, user_id, True)


async def _set_active(request: Request, principal: Principal, school_id: str, user_id: str, active: bool) -> Any:
    ident = identity(request)
    await ident.member(school_id, user_id)

    async def work(session: AsyncClientSession) -> Any:
        return member_out(await ident.set_active(session, principal, school_id, user_id, active))

    return await execute(request, work)


class RoleIn(BaseModel):
    student_code: str | None = Field(default=None, max_length=40, pattern=STUDENT_CODE.pattern)


@router.put("/v1/schools/{school_id}/users/{user_id}/roles/{role}", response_model=MemberOut)
async def grant_role(school_id: str, user_id: str, role: Role, request: Request,
                     body: RoleIn = Body(default_factory=RoleIn), principal: Principal = Depends(admin)) -> Any:
    """Grant a role (idempotent); role student needs a student code."""
    ident = identity(request)

    async def work(session: AsyncClientSession) -> Any:
        return member_out(await ident.grant_role(session, principal, school_id, user_id, role, body.student_code))

    return await execute(request, work)


@router.delete("/v1/schools/{school_id}/users/{user_id}/roles/{role}", response_model=MemberOut)
async def revoke_role(school_id: str, user_id: str, role: Role, request: Request,
                      principal: Principal = Depends(admin)) -> Any:
    """Revoke a role; the last active school admin cannot be removed."""
    ident = identity(request)

    async def work(session: AsyncClientSession) -> Any:
        return member_out(await ident.revoke_role(session, principal, school_id, user_id, role))

    return await execute(request, work)


@router.post("/v1/schools/{school_id}/users/{user_id}/unlock", status_code=200, response_model=MemberOut)
async def unlock(school_id: str, user_id: str, request: Request, principal: Principal = Depends(admin)) -> Any:
    """Lift a lockout after repeated failed logins."""
    ident = identity(request)
    membership = await ident.member(school_id, user_id)
    await ident.repo.throttle.delete_one({"_id": account_key(membership["email"])})
    await ident.audit(None, "account_unlocked", actor=principal.subject, school_id=school_id, target=user_id)
    return member_out(membership)


@router.post("/v1/schools/{school_id}/users/{user_id}/invitation", status_code=202)
async def send_invitation(school_id: str, user_id: str, request: Request,
                          principal: Principal = Depends(admin)) -> Any:
    """(Re)send a login code to a member."""
    ident = identity(request)
    await ident.member(school_id, user_id)
    school = await existing_school(request, school_id)
    user = await ident.repo.user(user_id)
    assert user is not None

    async def work(session: AsyncClientSession) -> dict[str, str]:
        await ident.invite(session, user=user, school=school)
        await ident.audit(session, "invitation_sent", actor=principal.subject, school_id=school_id, target=user_id)
        return {"status": "Uitnodiging verstuurd."}

    return await execute(request, work, status_code=202)


# ------------------------------------------------------------------ view as student
@router.post("/v1/schools/{school_id}/students/{student_id}/view-as", tags=["access"])
async def view_as(school_id: str, student_id: str, request: Request,
                  principal: Principal = Depends(require_roles(Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR))) -> Any:
    """A read-only token to look along with a linked student (meekijken); audited, shown to the admin."""
    return await access.view_as_student(identity(request), principal, school_id, student_id)


# ------------------------------------------------------------------ API clients
class ClientIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    roles: list[Role] = Field(min_length=1, max_length=4)

    @field_validator("roles")
    @classmethod
    def _staff(cls, value: list[Role]) -> list[Role]:
        if not set(value) <= access.CLIENT_ROLES:
            raise ValueError("an API client may only hold staff roles")
        return value


class ClientOut(BaseModel):
    client_id: str
    school_id: str
    name: str
    roles: list[str]
    created_at: datetime
    revoked_at: datetime | None = None
    client_secret: str | None = Field(default=None, description="Shown once, when the client is created")


@router.post("/v1/schools/{school_id}/api-clients", tags=["api clients"], status_code=201, response_model=ClientOut)
async def create_client(school_id: str, body: ClientIn, request: Request, principal: Principal = Depends(admin)) -> Any:
    """A client-credentials client for the school's own systems, limited to this school and these roles."""
    await existing_school(request, school_id)
    return await access.create_client(identity(request), principal, school_id, body.name, body.roles)


@router.get("/v1/schools/{school_id}/api-clients", tags=["api clients"], response_model=list[ClientOut])
async def list_clients(school_id: str, request: Request, _: Principal = Depends(admin)) -> Any:
    """The school's API clients (never their secrets)."""
    docs = await identity(request).repo.clients.find({"school_id": school_id}).sort("created_at", 1).to_list()
    return [access.public_client(d) for d in docs]


@router.delete("/v1/schools/{school_id}/api-clients/{client_id}", tags=["api clients"], response_model=ClientOut)
async def revoke_client(school_id: str, client_id: str, request: Request, principal: Principal = Depends(admin)) -> Any:
    """Revoke a client; it can get no new tokens."""
    return await access.revoke_client(identity(request), principal, school_id, client_id)


# ------------------------------------------------------------------ audit
class AuditOut(BaseModel):
    at: datetime
    action: str
    actor: str | None
    school_id: str | None
    target: str | None
    outcome: str
    address: str | None
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


async def _audit_page(request: Request, school_id: str | None, action: str | None, cursor: str | None,
                      limit: int) -> dict[str, Any]:
    try:
        docs, nxt = await identity(request).repo.audit_page(school_id, action=action, cursor=cursor, limit=limit)
    except ValueError as exc:
        raise Problem(422, "validation", errors=[field_error("cursor", str(exc))]) from exc
    return {"items": docs, "next_cursor": nxt}


@router.get("/v1/schools/{school_id}/audit", tags=["audit"], response_model=AuditPage)
async def school_audit(school_id: str, request: Request, _: Principal = Depends(school_manager),
                       action: str | None = Query(default=None, max_length=60),
                       cursor: str | None = Query(default=None, max_length=500),
                       limit: int = Query(default=50, ge=1, le=200)) -> Any:
    """Security-relevant actions in this school, newest first (school admin, operator)."""
    return await _audit_page(request, school_id, action, cursor, limit)


@router.get("/v1/audit", tags=["audit"], response_model=AuditPage)
async def platform_audit(request: Request, _: Principal = Depends(require_operator),
                         action: str | None = Query(default=None, max_length=60),
                         cursor: str | None = Query(default=None, max_length=500),
                         limit: int = Query(default=50, ge=1, le=200)) -> Any:
    """Every security-relevant action on the platform, newest first (operator)."""
    return await _audit_page(request, None, action, cursor, limit)


@router.post("/v1/signing-keys/rotate", tags=["tokens"], status_code=202)
async def rotate_keys(request: Request, principal: Principal = Depends(require_operator)) -> dict[str, str]:
    """Start signing with a new key; tokens of the old one stay valid until they expire."""
    ident = identity(request)
    kid = await ident.keys.rotate()
    await ident.audit(None, "signing_key_rotated", actor=principal.subject, school_id=None, target=kid)
    return {"kid": kid}


