"""An exclusion after fraud: while it runs, the student cannot be scheduled for the exam(s) or get a retake."""

from __future__ import annotations

from datetime import datetime

from exams.cases import models
from exams.cases import repository as repo
from exams.common import Session, refuse
from kit.mongo import Db


async def require_not_excluded(db: Db, session: Session | None, *, school_id: str, student_id: str, exam_id: str,
                               at: datetime) -> None:
    """Refuse (409, with the date it ends) while an exam-board exclusion covers this student and exam."""
    found = await repo.exclusions(db, session, school_id=school_id, student_id=student_id, at=at)
    if reason := models.exclusion_refusal(found, exam_id):
        raise refuse(reason)
