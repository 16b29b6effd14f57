"""What a decision does beyond recording it: a superseding result, a new assessment by a new assessor, the
validity of an exemption or accommodation. Each returns the decision's kind-specific fields. Never commits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from contracts import Event
from exams import readmodel
from exams.cases import models, workdays
from exams.cases import repository as repo
from exams.catalog import repository as catalog
from exams.common import Doc, Session, refuse
from exams.projections import repository as people
from exams.scheduling import models as scheduling_models
from exams.scheduling import repository as scheduling
from kit.auth import Principal, Role
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db


def _invalid(field: str, nl: str, en: str) -> Problem:
    return Problem(422, "validation", detail=Text(nl, en), errors=[field_error(field, en)])


async def apply(db: Db, session: Session, *, case: Doc, outcome: str, given: Doc, principal: Principal,
                at: datetime, note: str) -> Doc:
    """The decision's own fields (and `_events` to publish) after carrying out its effects."""
    kind = case["kind"]
    if kind == "objection" and outcome == "new_assessment":
        return await _new_assessment(db, session, case, given, at)
    if (kind, outcome) == ("objection", "amended"):
        return await _supersede_result(db, session, case, given["result"], principal, at, note)
    if (kind, outcome) == ("fraud", "fraud"):
        exclusion = _exclusion(given, at)
        return {**await _supersede_result(db, session, case, {"outcome": "fraud", "grade": None}, principal, at,
                                          note), **exclusion}
    if kind == "inspection" and outcome == "granted":
        if given["inspection_at"] <= at:
            raise _invalid("inspection_at", "De inzage moet in de toekomst liggen.", "The inspection must be ahead.")
        return {"inspection_at": given["inspection_at"], "location": given.get("location")}
    if kind in ("exemption", "accommodation") and outcome == "granted":
        return await _valid_for(db, session, case, given, at)
    if kind == "extra_attempt" and outcome == "granted":
        return {"used_by_attempt_id": None}
    return {}


def _exclusion(given: Doc, at: datetime) -> Doc:
    """The exclusion from exams a fraud decision may add: until a day within twelve months, one exam or all."""
    until: date | None = given.get("excluded_until")
    if until is None:
        if "exclusion_scope" in given:
            raise _invalid("excluded_until", "Noem tot wanneer de uitsluiting geldt.",
                           "Say until when the exclusion applies.")
        return {}
    today = workdays.local_date(at)
    latest = models.latest_exclusion_day(today)
    if not today < until <= latest:
        raise _invalid("excluded_until", f"Een uitsluiting eindigt na vandaag en uiterlijk op {latest:%d-%m-%Y} "
                       "(twaalf maanden).", f"An exclusion ends after today and by {latest.isoformat()} at the "
                       "latest (twelve months).")
    # stored as the last moment of that school day, like every validity, to compare with a moment
    return {"excluded_until": workdays.end_of_day(until), "exclusion_scope": given.get("exclusion_scope", "exam")}


async def _valid_for(db: Db, session: Session, case: Doc, given: Doc, at: datetime) -> Doc:
    """An exemption of core tasks (with documents) or accommodation measures, valid until a date."""
    until: date | None = given.get("valid_until") or models.default_valid_until(case["kind"], at)
    if until is not None and until <= workdays.local_date(at):
        raise _invalid("valid_until", "De geldigheid moet na vandaag eindigen.", "The validity must end after today.")
    # stored as the last moment of that school day, as results and assessment compare it with a moment
    fields: Doc = {"valid_until": workdays.end_of_day(until) if until else None}
    if case["kind"] == "accommodation":
        return {**fields, "measures": list(dict.fromkeys(given["measures"]))}
    exam = await catalog.current(db, case["exam_id"], session) or {"core_tasks": []}
    codes = {c["code"] for c in exam["core_tasks"]}
    if unknown := [c for c in given["core_tasks"] if c not in codes]:
        raise _invalid("core_tasks", "Dit examen heeft deze kerntaken niet: " + ", ".join(unknown),
                       "This exam has no such core tasks: " + ", ".join(unknown))
    if not case["documents"]:
        raise refuse(Text("Een vrijstelling wordt verleend op grond van documenten; er is er nog geen geüpload.",
                          "An exemption is granted on documents; none has been uploaded yet."))
    return {**fields, "core_tasks": list(dict.fromkeys(given["core_tasks"]))}


async def _supersede_result(db: Db, session: Session, case: Doc, amend: Doc, principal: Principal, at: datetime,
                            note: str) -> Doc:
    """Insert a result superseding the attempt's current one; the original is kept and shown as superseded."""
    old = await repo.current_result(db, case["school_id"], case["attempt_id"], session)
    if old is None:
        raise refuse(Text("Deze poging heeft nog geen resultaat om te herzien.",
                          "This attempt has no result yet to amend."))
    version = await catalog.version_by_id(db, old.get("exam_version_id", ""), session) or {"rules": {}}
    new = models.amended_result(old, outcome=amend["outcome"], grade=amend.get("grade"),
                                pass_mark=float(version["rules"].get("pass_mark", 5.5)), at=at, by=principal.subject,
                                case_id=case["_id"], reason=note, new_id=new_id("res"))
    if not await repo.insert_superseding_result(db, session, old=old, new=new):
        raise refuse(Text("Dit resultaat is intussen al vervangen; laad opnieuw.",
                          "This result was superseded in the meantime; reload."))
    return {"result_id": new["_id"], "supersedes": old["_id"],
            "result": {"outcome": new["outcome"], "grade": new["grade"], "final_grade": new["final_grade"]}}


async def _new_assessment(db: Db, session: Session, case: Doc, given: Doc, at: datetime) -> Doc:
    """Appoint a new assessor: the finalized assessments concerned are superseded, their parts scheduled anew."""
    school_id, assessor = case["school_id"], given["new_assessor_id"]
    if Role.ASSESSOR not in await people.roles_of(db, school_id, assessor, session):
        raise _invalid("new_assessor_id", "Deze persoon is geen examinator in deze school.",
                       "This person is not an assessor in this school.")
    finals = await repo.final_assessments(db, session, attempt_id=case["attempt_id"])
    if not finals:
        raise refuse(Text("Deze poging heeft geen definitieve beoordeling om opnieuw te laten doen.",
                          "This attempt has no final assessment to have redone."))
    wanted: list[Any] = given.get("part_ids") or [a["part_id"] for a in finals]
    by_part = {a["part_id"]: a for a in finals}
    if unknown := [p for p in wanted if p not in by_part]:
        raise _invalid("part_ids", "Geen definitief beoordeeld onderdeel van deze poging: " + ", ".join(unknown),
                       "Not a finally assessed part of this attempt: " + ", ".join(unknown))
    attempt = await scheduling.get_attempt(db, school_id, case["attempt_id"], session) or {"number": 1}
    created: list[Doc] = []
    events: list[Event] = []
    for part_id in dict.fromkeys(wanted):
        assessment = by_part[part_id]
        old = await scheduling.get_schedule(db, school_id, assessment["_id"], session)
        if old is None:
            raise refuse(Text("Het ingeplande onderdeel van deze beoordeling ontbreekt.",
                              "The scheduled part of this assessment is missing."))
        if assessor in (old["first_assessor_id"], old.get("second_assessor_id")):
            raise _invalid("new_assessor_id", "Wijs een andere examinator aan dan wie dit onderdeel beoordeelde.",
                           "Appoint another assessor than those who assessed this part.")
        new = {**old, "_id": new_id("sch"), "starts_at": given.get("starts_at") or at, "ends_at": None,
               "first_assessor_id": assessor, "second_assessor_id": None, "second_assessor_may_submit": False,
               "assessor_ids": [assessor], "state": scheduling_models.SCHEDULED,
               "attempt_state": scheduling_models.IN_EXECUTION, "version": 1, "created_at": at, "updated_at": at,
               "reassessment_of": old["_id"], "case_id": case["_id"]}
        if not await repo.supersede_schedule(db, session, schedule=old, by=new["_id"], at=at):
            raise refuse(Text("Dit onderdeel is intussen gewijzigd; laad opnieuw.",
                              "This part changed in the meantime; reload."))
        await repo.supersede_assessment(db, session, assessment_id=assessment["_id"], by=new["_id"])
        created.append(new)
        events.append(scheduling_models.scheduled_event(new, attempt["number"]))
    await scheduling.insert_schedules(db, session, created)
    await repo.reopen_attempt_for_assessment(db, session, attempt_id=case["attempt_id"], case_id=case["_id"])
    await people.mark_assessing(db, session, student_id=case["student_id"], user_ids=[assessor])
    await readmodel.refresh(db, session, school_id=school_id, student_id=case["student_id"], exam_id=case["exam_id"])
    return {"new_assessor_id": assessor, "schedule_ids": [d["_id"] for d in created],
            "superseded_assessment_ids": [by_part[p]["_id"] for p in dict.fromkeys(wanted)], "_events": events}
