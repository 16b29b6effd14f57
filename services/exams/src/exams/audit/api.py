"""HTTP routes of the audit trail: verifying a school's chain, and a student's trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from exams.access import reader, require_readable
from exams.audit import repository as repo
from exams.audit import service
from exams.common import Id
from exams.projections import repository as people
from kit.auth import Principal, Role, require_roles
from kit.clock import now
from kit.deps import Database
from kit.numbers import INT_MAX

router = APIRouter(prefix="/v1/schools/{school_id}", tags=["audit"])
AUDITORS = require_roles(Role.EXAM_BOARD, Role.SCHOOL_ADMIN)


class BrokenLink(BaseModel):
    """The first record whose link does not hold."""

    seq: int = Field(description="Its place in the chain (1 = first)")
    record_id: str | None = Field(description="The record (its event id); None when records are missing at the end")
    reason: str


class VerifyOut(BaseModel):
    """The outcome of walking the school's chain from the first record."""

    school_id: str
    valid: bool
    records_checked: int
    last_valid_seq: int
    head_seq: int
    first_broken: BrokenLink | None
    verified_at: datetime


class RecordOut(BaseModel):
    """One record of the trail."""

    seq: int
    event_id: str
    type: str
    occurred_at: str
    subject: str
    student_id: str | None
    actor: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


class TrailOut(BaseModel):
    """A page of a student's records, in chain order."""

    items: list[RecordOut]
    next_cursor: int | None


@router.get("/audit/verify", response_model=VerifyOut,
            summary="Walk the school's hash chain and name the first broken link (exam board, school admin)")
async def verify(db: Database, school_id: str, _: Principal = Depends(AUDITORS)) -> VerifyOut:
    """Checks numbering, each record's link to the hash before it, each record's own hash, and the head."""
    found = await service.verify(db, school_id)
    broken = found.broken
    return VerifyOut(school_id=school_id, valid=broken is None, records_checked=found.records,
                     last_valid_seq=found.last_valid_seq, head_seq=found.head_seq,
                     first_broken=BrokenLink(seq=broken.seq, record_id=broken.record_id, reason=broken.reason)
                     if broken else None, verified_at=now())


@router.get("/students/{student_id}/audit", response_model=TrailOut,
            summary="A student's audit trail: signatures, adoptions, finalizations, decisions (board, admin)")
async def student_trail(db: Database, school_id: str, student_id: Id, cursor: int = Query(default=0, ge=0, le=INT_MAX),
                        limit: int = Query(default=100, ge=1, le=500),
                        principal: Principal = Depends(AUDITORS)) -> TrailOut:
    """Records in chain order; `cursor` is the last sequence number seen."""
    require_readable(reader(principal, school_id), await people.get_student(db, school_id, student_id))
    records = await repo.student_trail(db, school_id, student_id, cursor, limit)
    items = [RecordOut(**{k: v for k, v in r.items() if k in RecordOut.model_fields}) for r in records]
    return TrailOut(items=items, next_cursor=items[-1].seq if len(items) == limit else None)
