"""Identity's HTTP API for running the platform: schools and their settings, the audit log, signing keys."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, field_validator
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.values import Line
from identity import repository as repo
from identity import schools
from identity.deps import IdentityConfig, Keys, Operator, SchoolManager, SchoolReader
from identity.problems import invalid
from identity.repository import Doc
from identity.schemas import Email, Language, Name
from kit.commands import execute
from kit.deps import CurrentPrincipal, Database, ServiceOutbox

router = APIRouter()
BRIN = re.compile(r"^[0-9]{2}[A-Z]{2}([0-9]{2})?$")
Years = Annotated[int, Field(ge=1, le=50, description="Years the records of this class are kept")]


class Contact(BaseModel):
    name: Line | None = Field(default=None, max_length=200)
    email: Email | None = None
    phone: Line | None = Field(default=None, max_length=40)

    @field_validator("email", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return value or None


class SchoolIn(BaseModel):
    name: Name
    brin: str | None = Field(default=None, max_length=6, description="BRIN code, e.g. 25PZ or 25PZ01")
    contact: Contact = Field(default_factory=Contact)
    admin_email: Email = Field(description="The school's first school admin")
    admin_name: Name
    language: Language = "nl"
    send_invitation: bool = Field(default=True, description="E-mail the admin a login code (or, when they "
                                  "already have an account, a notice that they now have access to this school)")

    @field_validator("brin")
    @classmethod
    def _brin(cls, value: str | None) -> str | None:
        if value is not None and not BRIN.match(value.upper()):
            raise ValueError("a BRIN code is 2 digits and 2 letters, optionally 2 more digits")
        return value.upper() if value else None


class Retention(BaseModel):
    personal_data: Years
    results: Years
    evidence: Years
    videos: Years
    audit: Years


class RetentionPatch(BaseModel):
    """Only the record classes sent change; each must be a whole number of years from 1 to 50."""

    model_config = {"extra": "forbid"}

    personal_data: Years | None = None
    results: Years | None = None
    evidence: Years | None = None
    videos: Years | None = None
    audit: Years | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("leave the field out to keep it; null is not a number of years")
        return value


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
    name: Name | None = None
    contact: Contact | None = None
    terminology: dict[Annotated[Line, Field(max_length=60)], Annotated[Line, Field(max_length=100)]] | None = Field(
        default=None, max_length=100,
        description="Labels schools use instead of ours, e.g. {'assessor': 'beoordelaar'}")
    retention: RetentionPatch | None = Field(default=None, description="Years each record class is kept; only "
                                             "the classes sent change")


def school_out(doc: Doc) -> dict[str, Any]:
    """A school as the API shows it."""
    return {"school_id": doc["_id"], **{k: doc.get(k) for k in ("name", "brin", "contact", "terminology",
                                                                 "retention", "active", "created_at")}}


@router.post("/v1/schools", tags=["schools"], status_code=201, response_model=SchoolOut)
async def create_school(body: SchoolIn, request: Request, db: Database, outbox: ServiceOutbox, operator: Operator,
                        settings: IdentityConfig) -> Any:
    """The operator creates a school and its first admin (who gets an invitation)."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        school = await schools.create_school(
            db, session, outbox, operator=operator, name=body.name, brin=body.brin, contact=body.contact.model_dump(),
            admin_email=body.admin_email, admin_name=body.admin_name, language=body.language,
            send_invitation=body.send_invitation, settings=settings)
        return school_out(school)

    return await execute(request, work, status_code=201)


@router.get("/v1/schools", tags=["schools"], response_model=list[SchoolOut])
async def list_schools(db: Database, principal: CurrentPrincipal) -> Any:
    """The operator sees every school; others the schools they belong to."""
    return [school_out(d) for d in await schools.visible_schools(db, principal=principal)]


@router.get("/v1/schools/{school_id}", tags=["schools"], response_model=SchoolOut)
async def get_school(school_id: str, db: Database, _: SchoolReader) -> Any:
    """One school with its settings."""
    return school_out(await schools.existing_school(db, school_id))


@router.patch("/v1/schools/{school_id}", tags=["schools"], response_model=SchoolOut)
async def update_school(school_id: str, body: SchoolPatch, request: Request, db: Database,
                        principal: SchoolManager) -> Any:
    """Change a school's name, contact, terminology or retention (only what is sent changes)."""
    changes = body.model_dump(exclude_none=True)

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        return school_out(await schools.update_school(db, session, actor=principal, school_id=school_id,
                                                      changes=changes))

    return await execute(request, work)


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


Action = Annotated[Line | None, Query(max_length=60)]
Cursor = Annotated[Line | None, Query(max_length=500)]
Limit = Annotated[int, Query(ge=1, le=200)]


async def _audit_page(db: Any, school_id: str | None, action: str | None, cursor: str | None,
                      limit: int) -> dict[str, Any]:
    try:
        docs, nxt = await repo.audit_page(db, school_id, action=action, cursor=cursor, limit=limit)
    except ValueError as exc:
        raise invalid("cursor", str(exc)) from exc
    return {"items": docs, "next_cursor": nxt}


@router.get("/v1/schools/{school_id}/audit", tags=["audit"], response_model=AuditPage)
async def school_audit(school_id: str, db: Database, _: SchoolManager, action: Action = None,
                       cursor: Cursor = None, limit: Limit = 50) -> Any:
    """Security-relevant actions in this school, newest first (school admin, operator)."""
    return await _audit_page(db, school_id, action, cursor, limit)


@router.get("/v1/audit", tags=["audit"], response_model=AuditPage)
async def platform_audit(db: Database, _: Operator, action: Action = None, cursor: Cursor = None,
                         limit: Limit = 50) -> Any:
    """Every security-relevant action on the platform, newest first (operator)."""
    return await _audit_page(db, None, action, cursor, limit)


class KeyOut(BaseModel):
    kid: str


@router.post("/v1/signing-keys/rotate", tags=["tokens"], status_code=202, response_model=KeyOut)
async def rotate_keys(db: Database, keys: Keys, principal: Operator) -> dict[str, str]:
    """Start signing with a new key; tokens of the old one stay valid until they expire."""
    kid = await keys.rotate()
    await repo.audit(db, None, "signing_key_rotated", actor=principal.subject, school_id=None, target=kid)
    return {"kid": kid}
