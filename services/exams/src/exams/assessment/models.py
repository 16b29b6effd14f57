"""Assessment rules as pure functions: valid scores, what a form lacks, divergences, who finalizes. No I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts import Event
from contracts.exams import AssessmentFinalizedV1, PartAssessmentFinalizedV1
from exams.catalog.models import Criterion
from kit.errors import Problem, Text, field_error

Doc = dict[str, Any]
OPEN, FINAL = "open", "final"
FIRST, SECOND = "first", "second"
PASS_FAIL = ("pass", "fail")
SCALE_1_5 = ("1", "2", "3", "4", "5")


def criteria_of(exam: Doc, part_id: str) -> list[Criterion]:
    """The criteria of one part of an exam version, in the exam's order."""
    part = next((p for p in exam["parts"] if p["code"] == part_id), None)
    return [Criterion(**c) for c in part["criteria"]] if part else []


def allowed(criterion: Criterion) -> tuple[str, ...]:
    """The scores a criterion takes."""
    return PASS_FAIL if criterion.scoring == "pass_fail" else SCALE_1_5


def normalize(value: str | int) -> str:
    """A score as stored: scale scores as text ("3"); pass/fail as given."""
    return str(value).strip().lower() if isinstance(value, str) else str(value)


def needs_justification(criterion: Criterion, score: str) -> bool:
    """True when this score of this criterion requires a justification (fail, and the exam's listed scores)."""
    return score in criterion.needs_justification()


def check_form(criteria: list[Criterion], scores: dict[str, str], justifications: dict[str, str]) -> None:
    """Refuse (422 naming each field) unknown criteria and scores out of range or of the wrong kind."""
    known = {c.code: c for c in criteria}
    errors: list[dict[str, str]] = []
    for code, score in scores.items():
        criterion = known.get(code)
        if criterion is None:
            errors.append(field_error(f"scores.{code}", "not a criterion of this part"))
        elif score not in allowed(criterion):
            errors.append(field_error(f"scores.{code}", f"must be one of {', '.join(allowed(criterion))}"))
    errors += [field_error(f"justifications.{code}", "not a criterion of this part")
               for code in justifications if code not in known]
    if errors:
        raise Problem(422, "validation", errors=errors, detail=Text(
            "Deze beoordeling klopt niet met de criteria van het onderdeel: "
            + "; ".join(e["field"] for e in errors),
            "This assessment does not match the part's criteria: " + "; ".join(e["field"] for e in errors)))


def incomplete(criteria: list[Criterion], form: Doc | None) -> list[Doc]:
    """What a form lacks to be finalized: unscored criteria and required justifications that are missing."""
    scores = (form or {}).get("scores", {})
    justifications = (form or {}).get("justifications", {})
    missing: list[Doc] = []
    for c in criteria:
        score = scores.get(c.code)
        if score is None:
            missing.append({"criterion": c.code, "field": f"scores.{c.code}", "reason": "not scored"})
        elif needs_justification(c, score) and not str(justifications.get(c.code) or "").strip():
            missing.append({"criterion": c.code, "field": f"justifications.{c.code}",
                            "reason": f"a justification is required for the score {score}"})
    return missing


def diverges(criterion: Criterion, first: str, second: str) -> bool:
    """Two scores of one criterion diverge: pass against fail, or 2 or more points apart on 1-5."""
    if criterion.scoring == "pass_fail":
        return first != second
    return abs(int(first) - int(second)) >= 2


def divergences(criteria: list[Criterion], first: Doc | None, second: Doc | None) -> list[Doc]:
    """The criteria both assessors scored on which they diverge, in the exam's order."""
    a, b = (first or {}).get("scores", {}), (second or {}).get("scores", {})
    return [{"criterion": c.code, "first": a[c.code], "second": b[c.code]} for c in criteria
            if c.code in a and c.code in b and diverges(c, a[c.code], b[c.code])]


def role_on(schedule: Doc, user_id: str) -> str | None:
    """The caller's role on a scheduled part: first or second assessor, or None."""
    if schedule.get("first_assessor_id") == user_id:
        return FIRST
    if schedule.get("second_assessor_id") == user_id:
        return SECOND
    return None


def forms_by_role(doc: Doc | None, schedule: Doc) -> dict[str, tuple[str, Doc]]:
    """The current assessors' saved forms keyed by role: {"first": (user id, form), ...}. A replaced assessor's
    form stays stored but no longer counts."""
    forms = (doc or {}).get("forms") or {}
    found = {}
    for role in (FIRST, SECOND):
        uid = schedule.get(f"{role}_assessor_id")
        if uid and uid in forms:
            found[role] = (uid, {**forms[uid], "role": role})
    return found


def save_refusal(schedule: Doc, attempt: Doc | None, doc: Doc | None, at: datetime) -> Text | None:
    """Why nobody may write this part's assessment now (cancelled, forfeited, not started, final), or None."""
    if doc is not None and doc.get("state") == FINAL:
        return Text("Deze beoordeling is definitief: niemand kan er nog iets aan veranderen. Een fout herstelt "
                    "alleen de examencommissie (bezwaar).",
                    "This assessment is final: nobody can change it any more. Only the exam board can repair "
                    "a mistake (objection).")
    if schedule["state"] != "scheduled":
        return Text("Dit onderdeel is afgemeld.", "This part was cancelled.")
    if attempt is not None and attempt.get("state") != "in_execution":
        return Text("Deze examenpoging wordt niet (meer) uitgevoerd.", "This exam attempt is not in execution.")
    if at < schedule["starts_at"]:
        start = schedule["starts_at"].isoformat()
        return Text(f"Beoordelen kan vanaf het begin van het onderdeel ({start}).",
                    f"Assessing is possible from the part's start ({start}).")
    return None


def finalize_refusal(schedule: Doc, role: str | None) -> Text | None:
    """Why this assessor may not finalize: only the first, or the second when the schedule allows it."""
    if role == FIRST or (role == SECOND and schedule.get("second_assessor_may_submit")):
        return None
    if role == SECOND:
        return Text("Alleen de eerste examinator mag dit onderdeel definitief maken: bij het inplannen is niet "
                    "gekozen voor 'tweede examinator mag indienen'.",
                    "Only the first assessor may finalize this part: it was not scheduled with "
                    "'second assessor may submit'.")
    return Text("U bent geen examinator van dit onderdeel.", "You are not an assessor of this part.")


def finalize_problems(criteria: list[Criterion], form: Doc | None, found: list[Doc],
                      note: str | None) -> list[dict[str, str]]:
    """Field errors that stop a finalization: the finalizer's form incomplete, divergences not acknowledged."""
    errors = [field_error(m["field"], m["reason"]) for m in incomplete(criteria, form)]
    if found and not (note or "").strip():
        errors.append(field_error("divergence_note", f"{len(found)} divergence(s) between the assessors must be "
                                                     "acknowledged with a note"))
    return errors


def final_record(form: Doc, *, by: str, role: str, at: datetime, found: list[Doc], note: str | None) -> Doc:
    """What is kept as the part's final assessment: the finalizer's complete form and the acknowledgement."""
    return {"scores": dict(form["scores"]), "justifications": dict(form.get("justifications") or {}),
            "attachment_ids": list(form.get("attachment_ids") or []), "finalized_by": by, "finalized_role": role,
            "finalized_at": at, "divergences": found, "divergence_note": (note or "").strip() or None}


def finalized_events(doc: Doc, *, last: bool) -> list[Event]:
    """The part's finalization, and the attempt's when it was the last scheduled part."""
    final = doc["final"]
    events: list[Event] = [PartAssessmentFinalizedV1(
        schedule_id=doc["_id"], attempt_id=doc["attempt_id"], school_id=doc["school_id"],
        student_id=doc["student_id"], exam_id=doc["exam_id"], part_id=doc["part_id"],
        finalized_by=final["finalized_by"], finalized_at=final["finalized_at"],
        divergences=len(final["divergences"]))]
    if last:
        events.append(AssessmentFinalizedV1(attempt_id=doc["attempt_id"], school_id=doc["school_id"],
                                            student_id=doc["student_id"], exam_id=doc["exam_id"],
                                            finalized_by=final["finalized_by"], finalized_at=final["finalized_at"]))
    return events
