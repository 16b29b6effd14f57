"""Catalog use cases: publishing exams and their versions, what a school sees, unavailability."""

from __future__ import annotations

from exams.catalog import repository as repo
from exams.catalog.models import ExamSpec, version_id
from exams.common import Doc, Session, not_found, refuse
from exams.projections import repository as people
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db


async def publish(db: Db, session: Session, *, spec: ExamSpec, by: str, exam_id: str | None = None) -> Doc:
    """Publish a new exam (exam_id None) or a new version of one; older versions stay as they were."""
    if await people.get_programme(db, spec.programme_id) is None:
        raise Problem(422, "validation", detail=Text("Deze opleiding staat niet in de catalogus.",
                                                     "This programme is not in the catalog."),
                      errors=[field_error("programme_id", "unknown programme")])
    number = 1
    if exam_id is None:
        if await repo.by_code(db, session, programme_id=spec.programme_id, code=spec.code):
            raise refuse(Text("Deze opleiding heeft al een examen met deze code; publiceer een nieuwe versie.",
                              "This programme already has an exam with this code; publish a new version."))
        exam_id = new_id("exm")
    else:
        previous = await repo.current(db, exam_id, session)
        if previous is None:
            raise not_found("Dit examen", "exam")
        if previous["programme_id"] != spec.programme_id:
            raise Problem(422, "validation", errors=[field_error("programme_id", "an exam stays with its programme")])
        number = previous["version"] + 1
        await repo.retire_current(db, session, exam_id=exam_id)
    doc = {"_id": version_id(exam_id, number), "exam_id": exam_id, "version": number, "current": True,
           **spec.model_dump(mode="json"), "published_at": now(), "published_by": by}
    await repo.insert_version(db, session, doc)
    return doc


async def exam_for_school(db: Db, *, school_id: str, exam_id: str, session: Session | None = None) -> Doc:
    """The current version of an exam of a programme the school enabled; 404 otherwise."""
    doc = await repo.current(db, exam_id, session)
    if doc is None or not await people.programme_enabled(db, school_id, doc["programme_id"]):
        raise not_found("Dit examen", "exam")
    return doc


async def exams_for_school(db: Db, *, school_id: str, programme_id: str | None) -> list[Doc]:
    """The current exams of the programmes a school enabled (optionally one programme)."""
    enabled = await people.enabled_programme_ids(db, school_id)
    if programme_id is not None:
        enabled = [p for p in enabled if p == programme_id]
    return await repo.current_for_programmes(db, enabled)


async def set_unavailable(db: Db, session: Session, *, school_id: str, exam_id: str, student_ids: list[str],
                          unavailable: bool) -> Doc:
    """Make an exam unavailable (or available again) for students of the school."""
    await exam_for_school(db, school_id=school_id, exam_id=exam_id, session=session)
    found = {d["_id"] for d in await people.get_students(db, school_id, student_ids, session)}
    if unknown := [s for s in student_ids if s not in found]:
        raise Problem(422, "validation", detail=Text("Onbekende studenten in deze school.",
                                                     "Unknown students in this school."),
                      errors=[field_error("student_ids", f"unknown: {', '.join(unknown[:10])}")])
    await people.mark_unavailable(db, session, school_id=school_id, exam_id=exam_id, student_ids=student_ids,
                                  unavailable=unavailable)
    return {"exam_id": exam_id, "student_ids": student_ids, "unavailable": unavailable}
