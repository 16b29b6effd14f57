"""The exams worker's audit consumer: every signature, adoption, finalization, result adoption and board case
on exams' own topic is appended to its school's hash chain, once per event id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts import Envelope, Event
from contracts.exams import (
    AssessmentFinalizedV1,
    AssignmentAdoptedV1,
    AssignmentApprovedV1,
    ExamBoardCaseDecidedV1,
    ExamBoardCaseOpenedV1,
    PartAssessmentFinalizedV1,
    ResultAdoptedV1,
    RetakeOpenedV1,
)
from exams.audit import chain
from exams.audit import repository as repo
from exams.common import Session
from kit.clock import now
from kit.consumer import Handler
from kit.mongo import Db

AUDITED: tuple[type[Event], ...] = (
    AssignmentApprovedV1, AssignmentAdoptedV1, PartAssessmentFinalizedV1, AssessmentFinalizedV1, ResultAdoptedV1,
    ExamBoardCaseOpenedV1, ExamBoardCaseDecidedV1, RetakeOpenedV1,
)


async def record(db: Db, session: Session, envelope: Envelope, school_id: str) -> None:
    """Append one event to its school's chain, after the head read in this transaction (a replay adds nothing)."""
    event_id = str(envelope.event_id)
    if await repo.recorded(db, session, event_id):
        return
    previous = await repo.head(db, school_id, session)
    entry = chain.new_record(
        school_id=school_id, seq=(previous["seq"] if previous else 0) + 1,
        prev_hash=previous["hash"] if previous else chain.GENESIS, event_id=event_id, event_type=envelope.type,
        occurred_at=envelope.occurred_at.isoformat(), subject=envelope.subject, data=envelope.data,
        recorded_at=now().isoformat())
    await repo.append(db, session, record=entry, previous=previous)


def build_handlers(db: Db) -> Mapping[type[Event], Handler]:
    """The audit handler for every audited event class."""

    async def append(env: Envelope, data: Any, session: Session) -> None:
        await record(db, session, env, data.school_id)

    return {cls: append for cls in AUDITED}
