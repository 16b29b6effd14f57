"""The results handler in the exams worker: exams' own AssessmentFinalizedV1 -> the attempt's result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts import Envelope, Event
from contracts.exams import AssessmentFinalizedV1
from exams.common import Session
from exams.results import service
from kit.consumer import Handler
from kit.mongo import Db
from kit.outbox import Outbox


def build_handlers(db: Db, outbox: Outbox) -> Mapping[type[Event], Handler]:
    """The handler per consumed event class."""

    async def finalized(env: Envelope, data: AssessmentFinalizedV1, session: Session) -> None:
        await service.compute(db, session, outbox=outbox, school_id=data.school_id, attempt_id=data.attempt_id)

    table: dict[type[Event], Any] = {AssessmentFinalizedV1: finalized}
    return table
