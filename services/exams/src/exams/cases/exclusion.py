"""An exclusion after fraud: while it runs, the student cannot be scheduled for the exam(s) or get a retake."""

from __future__ import annotations

from datetime import datetime

from exams.cases import models
from exams.cases import repository as repo
from exams.common import Session, refuse
from kit.errors import Text
from kit.mongo import Db


async def exclusion(db: Db, session: Session | None, *, school_id: str, student_id: str, exam_id: str,
                    at: datetime) -> Text | None:
    """Why the student is excluded from this exam now (with the date it ends), or None."""
    found = await repo.exclusions(db, session, school_id=school_id, student_id=student_id, at=at)
    return models.exclusion_refusal(found, exam_id)


async def require_not_excluded(db: Db, session: Session | None, *, school_id: str, student_id: str, exam_id: str,
                               at: datetime) -> None:
    """Refuse (409, with the date it ends) while an exam-board exclusion covers this student and exam."""
    if reason := await exclusion(db, session, school_id=school_id, student_id=student_id, exam_id=exam_id, at=at):
        raise refuse(reason)
