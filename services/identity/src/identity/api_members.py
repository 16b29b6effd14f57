"""Identity's HTTP API for school admins: the people of their school, their roles, and viewing as a student."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field, model_validator
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.values import Line
from identity import access, accounts, members
from identity import repository as repo
from identity.deps import IdentityConfig, Keys, SchoolAdmin
from identity.problems import invalid
from identity.repository import Doc
from identity.schemas import STUDENT_CODE, Email, Language, Name, StatusOut
from kit.auth import Principal, Role, require_roles
from kit.commands import execute
from kit.deps import Database, ServiceOutbox

router = APIRouter(tags=["school members"])
StudentCode = Annotated[str, Field(max_length=40, pattern=STUDENT_CODE,
                                   description="Letters, digits, dot, dash or underscore, at most 40")]


class MemberIn(BaseModel):
    email: Email
    display_name: Name
    roles: list[Role] = Field(min_length=1, max_length=6)
    student_code: StudentCode | None = None
    language: Language = "nl"
    send_invitation: bool = Field(default=False, description="E-mail a login code right away (or, when the person "
                                  "already has an account, a notice that they now have access to this school)")

    @model_validator(mode="after")
    def _student_needs_code(self) -> MemberIn:
        if (Role.STUDENT in self.roles) != (self.student_code is not None):
            raise ValueError("student_code is required with role student, and only then")
        return self


class MemberPatch(BaseModel):
    display_name: Name | None = None
    language: Language | None = None
    email: Email | None = None


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


class RoleIn(BaseModel):
    student_code: StudentCode | None = None


class ViewAsOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int
    read_only: bool
    student_id: str


def member_out(doc: Doc) -> dict[str, Any]:
    """A membership as the API shows it."""
    return {k: doc.get(k) for k in ("user_id", "school_id", "email", "display_name", "roles", "student_code",
                                    "student_id", "active", "created_at")}


async def _member_command(request: Request, use_case: Callable[[AsyncClientSession], Awaitable[Doc]],
                          status_code: int = 200) -> Any:
    """Run a use case that changes a membership in one transaction (kit.commands.execute) and show the result."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        return member_out(await use_case(session))

    return await execute(request, work, status_code=status_code)


@router.post("/v1/schools/{school_id}/users", status_code=201, response_model=MemberOut)
async def add_member(school_id: str, body: MemberIn, request: Request, db: Database, outbox: ServiceOutbox,
                     principal: SchoolAdmin,
                     settings: IdentityConfig) -> Any:
    """Add a person to the school with roles (their existing account is reused across schools)."""
    return await _member_command(request, lambda session: members.add_member(
        db, session, outbox, actor=principal, school_id=school_id, email=body.email, display_name=body.display_name,
        roles=body.roles, student_code=body.student_code, language=body.language,
        send_invitation=body.send_invitation, settings=settings), status_code=201)


@router.get("/v1/schools/{school_id}/users", response_model=MemberPage)
async def search_members(
    school_id: str, db: Database, _: SchoolAdmin,
    q: Annotated[Line | None, Query(max_length=100, description="Part of a name or e-mail address")] = None,
    role: Role | None = None, active: bool | None = None,
    cursor: Annotated[Line | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """Search the school's people, sorted by name, a page at a time."""
    try:
        docs, next_cursor = await repo.search_memberships(
            db, school_id, query=q, role=role.value if role else None, active=active, cursor=cursor, limit=limit)
    except ValueError as exc:
        raise invalid("cursor", str(exc)) from exc
    return {"items": [member_out(d) for d in docs], "next_cursor": next_cursor}


@router.get("/v1/schools/{school_id}/users/{user_id}", response_model=MemberOut)
async def get_member(school_id: str, user_id: str, db: Database, _: SchoolAdmin) -> Any:
    """One member of the school."""
    return member_out(await accounts.member(db, school_id, user_id))


@router.patch("/v1/schools/{school_id}/users/{user_id}", response_model=MemberOut)
async def update_member(school_id: str, user_id: str, body: MemberPatch, request: Request, db: Database,
                        outbox: ServiceOutbox,
                        principal: SchoolAdmin) -> Any:
    """Change a member's name, language or e-mail address."""
    changes = body.model_dump(exclude_none=True)
    return await _member_command(request, lambda session: members.change_member(
        db, session, outbox, actor=principal, school_id=school_id, user_id=user_id, changes=changes))


@router.post("/v1/schools/{school_id}/users/{user_id}/deactivate", response_model=MemberOut)
async def deactivate(school_id: str, user_id: str, request: Request, db: Database, outbox: ServiceOutbox,
                     principal: SchoolAdmin) -> Any:
    """Deactivate a member (never deleted): no more access to this school, running sessions end."""
    return await _member_command(request, lambda session: members.set_active(
        db, session, outbox, actor=principal, school_id=school_id, user_id=user_id, active=False))


@router.post("/v1/schools/{school_id}/users/{user_id}/reactivate", response_model=MemberOut)
async def reactivate(school_id: str, user_id: str, request: Request, db: Database, outbox: ServiceOutbox,
                     principal: SchoolAdmin) -> Any:
    """Give a deactivated member access again."""
    return await _member_command(request, lambda session: members.set_active(
        db, session, outbox, actor=principal, school_id=school_id, user_id=user_id, active=True))


@router.put("/v1/schools/{school_id}/users/{user_id}/roles/{role}", response_model=MemberOut)
async def grant_role(school_id: str, user_id: str, role: Role, request: Request, db: Database, outbox: ServiceOutbox,
                     principal: SchoolAdmin, body: RoleIn = Body(default_factory=RoleIn)) -> Any:
    """Grant a role (idempotent); role student needs a student code."""
    return await _member_command(request, lambda session: members.grant_role(
        db, session, outbox, actor=principal, school_id=school_id, user_id=user_id, role=role,
            student_code=body.student_code))


@router.delete("/v1/schools/{school_id}/users/{user_id}/roles/{role}", response_model=MemberOut)
async def revoke_role(school_id: str, user_id: str, role: Role, request: Request, db: Database, outbox: ServiceOutbox,
                      principal: SchoolAdmin) -> Any:
    """Revoke a role; the last active school admin cannot be removed."""
    return await _member_command(request, lambda session: members.revoke_role(
        db, session, outbox, actor=principal, school_id=school_id, user_id=user_id, role=role))


@router.post("/v1/schools/{school_id}/users/{user_id}/unlock", status_code=200, response_model=MemberOut)
async def unlock(school_id: str, user_id: str, request: Request, db: Database, principal: SchoolAdmin) -> Any:
    """Lift a lockout after repeated failed logins."""
    return await _member_command(request, lambda session: members.unlock(
        db, session, actor=principal, school_id=school_id, user_id=user_id))


@router.post("/v1/schools/{school_id}/users/{user_id}/invitation", status_code=202, response_model=StatusOut)
async def send_invitation(school_id: str, user_id: str, request: Request, db: Database, outbox: ServiceOutbox,
                          principal: SchoolAdmin,
                          settings: IdentityConfig) -> Any:
    """(Re)send a login code to a member."""

    async def work(session: AsyncClientSession) -> dict[str, str]:
        await members.send_invitation(db, session, outbox, actor=principal, school_id=school_id, user_id=user_id,
                                      settings=settings)
        return {"status": "Uitnodiging verstuurd."}

    return await execute(request, work, status_code=202)


StaffViewer = Annotated[Principal, Depends(require_roles(Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR))]


@router.post("/v1/schools/{school_id}/students/{student_id}/view-as", tags=["access"], response_model=ViewAsOut)
async def view_as(school_id: str, student_id: str, db: Database, principal: StaffViewer, settings: IdentityConfig,
                  keys: Keys) -> Any:
    """A read-only token to look along with a linked student (meekijken); audited, shown to the admin."""
    return await access.view_as_student(db, caller=principal, school_id=school_id, student_id=student_id,
                                        settings=settings, keys=keys)
