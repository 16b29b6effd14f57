"""Identity's HTTP API: login and tokens, the caller's own account, schools, members, access."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field, field_validator
from pymongo.asynchronous.client_session import AsyncClientSession

from identity import access
from identity.models import normalise_email
from identity.repository import Doc
from identity.service import Identity
from kit.auth import Principal, Role, current_principal, require_operator, require_roles
from kit.commands import execute
from kit.errors import Problem
from kit.mongo import run_in_transaction

Language = Literal["nl", "en"]
BRIN = re.compile(r"^[0-9]{2}[A-Z]{2}([0-9]{2})?$")
STUDENT_CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")

router = APIRouter()
admin = require_roles(Role.SCHOOL_ADMIN)


def identity(request: Request) -> Identity:
    """The use cases of this app."""
    return request.app.state.identity  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    """The caller's address; behind our own proxy, the one it appended to X-Forwarded-For."""
    host = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and is_trusted_proxy(host, request.app.state.settings.trusted_proxies):
        return forwarded.split(",")[-1].strip()[:64]
    return host


def is_trusted_proxy(host: str, trusted: list[str]) -> bool:
    """True when host is one of the trusted addresses or inside a trusted range (CIDR, e.g. 10.0.0.0/8)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in trusted)


class EmailField(BaseModel):
    """Mixin validating and normalising `email`."""

    email: str = Field(max_length=254)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)


# ------------------------------------------------------------------ login and tokens
class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class ResetIn(BaseModel):
    email: str = Field(max_length=254)


class SetPasswordIn(BaseModel):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(max_length=256)


@router.get("/.well-known/jwks.json", tags=["tokens"], summary="Public keys that verify access tokens")
async def jwks(request: Request, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=60"
    return await identity(request).keys.jwks()


@router.post("/v1/auth/login", tags=["login"], response_model=TokenOut,
             responses={401: {"description": "Wrong e-mail or password (one answer for both)"},
                        429: {"description": "Account locked or too many attempts from this address"}})
async def login(body: LoginIn, request: Request) -> dict[str, Any]:
    """Log in with e-mail and password."""
    return await identity(request).login(body.email.strip().lower(), body.password, client_address(request))


@router.post("/v1/auth/refresh", tags=["login"], response_model=TokenOut)
async def refresh(body: RefreshIn, request: Request) -> dict[str, Any]:
    """Exchange a refresh token for new tokens; a reused refresh token ends the whole session."""
    return await identity(request).refresh(body.refresh_token, client_address(request))


@router.post("/v1/auth/logout", tags=["login"], status_code=204)
async def logout(body: RefreshIn, request: Request) -> Response:
    """End the session of a refresh token."""
    await identity(request).logout(body.refresh_token)
    return Response(status_code=204)


@router.post("/v1/auth/password-reset", tags=["login"], status_code=202)
async def request_reset(body: ResetIn, request: Request) -> dict[str, str]:
    """Forgot password: always the same answer, whether or not the address has an account."""
    try:
        email: str | None = normalise_email(body.email)
    except ValueError:
        email = None
    await identity(request).request_password_reset(email, client_address(request))
    return {"status": "Als dit adres bij ons bekend is, ontvang je een e-mail met een link."}


PAGE = (Path(__file__).parent / "pages" / "set-password.html").read_text()


@router.get("/set-password", tags=["login"], response_class=HTMLResponse, include_in_schema=False)
async def set_password_page() -> HTMLResponse:
    """The page an invitation or reset link opens: choose a password (the token stays in the browser)."""
    return HTMLResponse(PAGE, headers={
        "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                   "connect-src 'self'; form-action 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.post("/v1/auth/set-password", tags=["login"], status_code=204)
async def set_password(body: SetPasswordIn, request: Request) -> Response:
    """Choose a password with an invitation (login code) or reset link; the link works once."""
    await identity(request).set_password_with_link(body.token, body.password, client_address(request))
    return Response(status_code=204)


basic_auth = HTTPBasic(auto_error=False)


@router.post("/v1/oauth/token", tags=["api clients"], response_model=TokenOut)
async def oauth_token(
    request: Request,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    basic: HTTPBasicCredentials | None = Depends(basic_auth),
) -> dict[str, Any]:
    """OAuth2 client credentials for a school's own systems (form body or HTTP Basic)."""
    if grant_type != "client_credentials":
        raise Problem(400, "unsupported_grant_type", detail="Only grant_type=client_credentials is supported.")
    cid, secret = (basic.username, basic.password) if basic else (client_id, client_secret)
    if not cid or not secret:
        raise Problem(401, "invalid_client", detail="client_id and client_secret are required.")
    return await access.client_token(identity(request), cid, secret, client_address(request))


# ------------------------------------------------------------------ the caller's own account
class MembershipOut(BaseModel):
    school_id: str
    school_name: str
    roles: list[str]
    active: bool


class MeOut(BaseModel):
    user_id: str
    email: str
    display_name: str
    language: str
    operator: bool
    read_only: bool = False
    viewing_as_actor: str | None = None
    memberships: list[MembershipOut]


class MeIn(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    language: Language | None = None


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


@router.get("/v1/me", tags=["me"], response_model=MeOut)
async def me(request: Request, principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    """Who am I, and where do I have which roles (one login across schools)."""
    ident = identity(request)
    user = await ident.repo.user(principal.subject)
    if user is None:
        raise Problem(404, "not_found")
    memberships = await ident.repo.memberships_of(user["_id"])
    names = {s["_id"]: s["name"] for s in await ident.repo.schools_by_id([m["school_id"] for m in memberships])}
    return {"user_id": user["_id"], "email": user["email"], "display_name": user["display_name"],
            "language": user.get("language", "nl"), "operator": bool(user.get("operator")),
            "read_only": principal.read_only, "viewing_as_actor": principal.actor,
            "memberships": [{"school_id": m["school_id"], "school_name": names.get(m["school_id"], ""),
                             "roles": m["roles"], "active": m.get("active", True)} for m in memberships]}


@router.patch("/v1/me", tags=["me"], response_model=MeOut)
async def update_me(body: MeIn, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    """Change my display name or language."""
    ident = identity(request)
    changes = body.model_dump(exclude_none=True)
    if changes:
        async def work(session: AsyncClientSession) -> None:
            await ident.update_user(session, None, principal.subject, changes)

        await run_in_transaction(ident.client, work)
    return await me(request, principal)


@router.post("/v1/me/password", tags=["me"], status_code=204)
async def change_password(body: PasswordChangeIn, request: Request,
                          principal: Principal = Depends(current_principal)) -> Response:
    """Change my password."""
    await identity(request).change_password(principal, body.current_password, body.new_password)
    return Response(status_code=204)


# ------------------------------------------------------------------ schools
class Contact(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value else None


class SchoolIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    brin: str | None = Field(default=None, description="BRIN code, e.g. 25PZ or 25PZ01")
    contact: Contact = Field(default_factory=Contact)
    admin_email: str = Field(max_length=254, description="The school's first school admin")
    admin_name: str = Field(min_length=1, max_length=200)
    language: Language = "nl"
    send_invitation: bool = True

    @field_validator("brin")
    @classmethod
    def _brin(cls, value: str | None) -> str | None:
        if value is not None and not BRIN.match(value.upper()):
            raise ValueError("a BRIN code is 2 digits and 2 letters, optionally 2 more digits")
        return value.upper() if value else None

    @field_validator("admin_email")
    @classmethod
    def _admin_email(cls, value: str) -> str:
        return normalise_email(value)


class Retention(BaseModel):
    personal_data: int = Field(ge=1, le=50)
    results: int = Field(ge=1, le=50)
    evidence: int = Field(ge=1, le=50)
    videos: int = Field(ge=1, le=50)
    audit: int = Field(ge=1, le=50)


class SchoolOut(BaseModel):
    school_id: str
    name: str
    brin: str | None
    contact: Contact
    terminology: dict[str, str]
    retention: Retention
    active: bool
    created_at: datetime


class SchoolPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    contact: Contact | None = None
    terminology: dict[Annotated[str, Field(max_length=60)], Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=100,
        description="Labels schools use instead of ours, e.g. {'assessor': 'beoordelaar'}")
    retention: Retention | None = Field(default=None, description="Years each record class is kept")


def school_out(doc: Doc) -> dict[str, Any]:
    return {"school_id": doc["_id"], **{k: doc.get(k) for k in ("name", "brin", "contact", "terminology",
                                                                 "retention", "active", "created_at")}}


@router.post("/v1/schools", tags=["schools"], status_code=201, response_model=SchoolOut)
async def create_school(body: SchoolIn, request: Request, operator: Principal = Depends(require_operator)) -> Any:
    """The operator creates a school and its first admin (who gets an invitation)."""
    school = await identity(request).create_school(
        operator, name=body.name, brin=body.brin, contact=body.contact.model_dump(), admin_email=body.admin_email,
        admin_name=body.admin_name, language=body.language, send_invitation=body.send_invitation)
    return school_out(school)


@router.get("/v1/schools", tags=["schools"], response_model=list[SchoolOut])
async def list_schools(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    """The operator sees every school; others the schools they belong to."""
    repo = identity(request).repo
    docs = await (repo.all_schools() if principal.operator else repo.schools_by_id(list(principal.schools)))
    return [school_out(d) for d in docs]


def school_reader(school_id: str, principal: Principal = Depends(current_principal)) -> Principal:
    """Members of the school and the operator."""
    if not principal.operator and not principal.roles_in(school_id):
        raise Problem(403, "forbidden", detail="Je bent geen lid van deze school.")
    return principal


def school_manager(school_id: str, principal: Principal = Depends(current_principal)) -> Principal:
    """The school's admins and the operator."""
    if not principal.operator and Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
        raise Problem(403, "forbidden", detail="Alleen de beheerder van deze school mag dit.")
    return principal


@router.get("/v1/schools/{school_id}", tags=["schools"], response_model=SchoolOut)
async def get_school(school_id: str, request: Request, _: Principal = Depends(school_reader)) -> Any:
    """One school with its settings."""
    doc = await identity(request).repo.school(school_id)
    if doc is None:
        raise Problem(404, "not_found")
    return school_out(doc)


@router.patch("/v1/schools/{school_id}", tags=["schools"], response_model=SchoolOut)
async def update_school(school_id: str, body: SchoolPatch, request: Request,
                        principal: Principal = Depends(school_manager)) -> Any:
    """Change a school's name, contact, terminology or retention."""
    ident = identity(request)
    changes = body.model_dump(exclude_none=True)

    async def work(session: AsyncClientSession) -> Any:
        doc = await ident.repo.schools.find_one_and_update({"_id": school_id}, {"$set": changes},
                                                           return_document=True, session=session)
        if doc is None:
            raise Problem(404, "not_found")
        await ident.audit(session, "school_settings_changed", actor=principal.subject, school_id=school_id,
                          details={"fields": sorted(changes)})
        return school_out(doc)

    return await execute(request, work)
