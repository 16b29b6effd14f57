"""HTTP routes of assessment: the form per scheduled part, drafts, the finalize overview, finalizing, the PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, StrictInt, StringConstraints

from contracts.values import PlainText
from exams.assessment import pdf, service
from exams.catalog.models import Code
from exams.common import Events, Session, Strict
from kit.auth import Principal, Role, require_roles
from kit.commands import execute
from kit.deps import Database
from kit.numbers import INT_MAX

router = APIRouter(prefix="/v1/schools/{school_id}", tags=["assessment"])
READERS = require_roles(Role.ASSESSOR, Role.EXAM_BOARD, Role.SCHOOL_ADMIN)
ASSESSORS = require_roles(Role.ASSESSOR)
PDF_READERS = require_roles(Role.ASSESSOR, Role.EXAM_BOARD, Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR, Role.STUDENT)
RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not an assessor of this part (`not_named`), or not the one who may finalize"},
    409: {"description": "Final already, cancelled, not started yet, or a stale form (`stale_form`)"},
    422: {"description": "Scores out of range or of the wrong kind, unknown criteria, an incomplete form"},
}

Score = (Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4)]
         | Annotated[StrictInt, Field(le=INT_MAX)])
Justification = Annotated[PlainText, StringConstraints(max_length=5000)]


class FormIn(Strict):
    """One assessor's draft: a score per criterion ("pass"/"fail" or 1-5) and justifications."""

    version: int = Field(ge=0, le=INT_MAX, description="The version of your form you edited (0 for a first save); "
                                           "a newer saved version is refused with 409 stale_form")
    scores: dict[Code, Score] = Field(default_factory=dict, max_length=200)
    justifications: dict[Code, Justification] = Field(default_factory=dict, max_length=200)


class FinalizeIn(Strict):
    """The explicit confirmation, and the note acknowledging the divergences (required when there are any)."""

    confirm: Literal[True] = Field(description="Must be true: I am sure I want to submit this assessment")
    divergence_note: Annotated[PlainText, StringConstraints(max_length=5000)] | None = None
    version: int | None = Field(default=None, ge=0, le=INT_MAX,
                                description="The assessment version the overview showed; "
                                            "when the forms changed since: 409 stale_form")


class CriterionOut(BaseModel):
    """A criterion as the form shows it."""

    code: str
    text: str
    work_process: str
    scoring: str
    allowed_scores: list[str]
    justification_required_for: list[str]


class FormOut(BaseModel):
    """One assessor's form."""

    assessor_id: str
    role: Literal["first", "second"]
    scores: dict[str, str]
    justifications: dict[str, str]
    attachment_ids: list[str]
    saved_at: datetime | None
    version: int


class Forms(BaseModel):
    """The two assessors' forms (None: not saved yet)."""

    first: FormOut | None
    second: FormOut | None


class Divergence(BaseModel):
    """A criterion the two assessors scored 2+ points apart, or pass against fail."""

    criterion: str
    first: str
    second: str


class FinalOut(BaseModel):
    """The final assessment: the finalizer's complete form and the acknowledgement."""

    scores: dict[str, str]
    justifications: dict[str, str]
    attachment_ids: list[str] = []
    finalized_by: str
    finalized_role: str
    finalized_at: datetime
    divergences: list[Divergence]
    divergence_note: str | None


class Accommodation(BaseModel):
    """An accommodation the exam board granted the student (e.g. extra time), shown to the assessors."""

    case_id: str
    measures: list[str]
    decided_at: datetime | None = None
    valid_until: datetime | None = None


class SiblingPart(BaseModel):
    """A scheduled part of the same attempt, to jump between parts."""

    schedule_id: str
    part_id: str
    part_name: str
    starts_at: datetime
    state: Literal["open", "final"]
    mine: bool = Field(description="The caller assesses this part")


class AssessmentOut(BaseModel):
    """The assessment form of one scheduled part."""

    schedule_id: str
    attempt_id: str
    attempt_number: int
    student_id: str
    student_code: str | None
    student_name: str | None
    exam_id: str
    exam_name: str
    exam_version: int
    part_id: str
    part_name: str
    starts_at: datetime
    ends_at: datetime | None
    first_assessor_id: str
    second_assessor_id: str | None
    second_assessor_may_submit: bool
    criteria: list[CriterionOut]
    my_role: Literal["first", "second"] | None = Field(description="None for the exam board and school admin")
    may_save: bool
    may_finalize: bool
    forms: Forms
    accommodations: list[Accommodation]
    state: Literal["open", "final"]
    final: FinalOut | None
    version: int
    parts: list[SiblingPart] = Field(description="The attempt's scheduled parts, to jump between them")


class Missing(BaseModel):
    """Something the finalizer's form lacks."""

    criterion: str
    field: str
    reason: str


class OverviewRow(BaseModel):
    """One criterion with both assessors' scores."""

    code: str
    text: str
    scoring: str
    first: str | None
    second: str | None


class Question(BaseModel):
    """The question the finalizer answers with `confirm: true`."""

    nl: str
    en: str


class OverviewOut(BaseModel):
    """Before finalizing: both assessors' scores, what is incomplete, the divergences."""

    schedule_id: str
    state: Literal["open", "final"]
    my_role: Literal["first", "second"] | None
    forms: Forms
    criteria: list[OverviewRow]
    incomplete: list[Missing] = Field(description="What your form lacks (finalizing needs none)")
    second_incomplete: list[str] = Field(description="Criteria the second assessor did not score (allowed)")
    divergences: list[Divergence]
    may_finalize: bool
    question: Question
    version: int
    final: FinalOut | None
    attempt_assessed: bool | None = Field(default=None, description="After finalizing: the attempt's last part")


@router.get("/schedules/{schedule_id}/assessment", response_model=AssessmentOut, responses=RESPONSES,
            summary="The assessment form of a scheduled part (its assessors; exam board and school admin read)")
async def get_form(db: Database, school_id: str, schedule_id: str,
                   principal: Principal = Depends(READERS)) -> Any:
    """Criteria, both assessors' forms, the student's granted accommodations, the state."""
    return await service.view(db, principal=principal, school_id=school_id, schedule_id=schedule_id)


@router.put("/schedules/{schedule_id}/assessment/forms/me", response_model=AssessmentOut, responses=RESPONSES,
            summary="Save your draft (any number of times, from the part's start on)")
async def save_form(request: Request, db: Database, school_id: str, schedule_id: str, body: FormIn,
                    principal: Principal = Depends(ASSESSORS)) -> Any:
    """Replaces your form with these scores; a second assessor need not score every criterion."""
    scores = {code: str(value).strip().lower() for code, value in body.scores.items()}

    async def work(session: Session) -> Any:
        return await service.save(db, session, principal=principal, school_id=school_id, schedule_id=schedule_id,
                                   expected_version=body.version, scores=scores,
                                   justifications=dict(body.justifications))

    return await execute(request, work)


@router.get("/schedules/{schedule_id}/assessment/finalize", response_model=OverviewOut, responses=RESPONSES,
            summary="The overview before finalizing: both assessors' scores, what is incomplete, divergences")
async def finalize_overview(db: Database, school_id: str, schedule_id: str,
                            principal: Principal = Depends(READERS)) -> Any:
    """Asks: are you sure you want to submit this assessment?"""
    return await service.overview(db, principal=principal, school_id=school_id, schedule_id=schedule_id)


@router.post("/schedules/{schedule_id}/assessment/finalize", response_model=OverviewOut, responses=RESPONSES,
             summary="Finalize the part's assessment (first assessor, or the second when allowed); irreversible")
async def finalize(request: Request, db: Database, outbox: Events, school_id: str, schedule_id: str,
                   body: FinalizeIn, principal: Principal = Depends(ASSESSORS)) -> Any:
    """Publishes exams.part_assessment_finalized, and exams.assessment_finalized after the attempt's last part."""
    async def work(session: Session) -> Any:
        return await service.finalize(db, session, outbox=outbox, principal=principal, school_id=school_id,
                                      schedule_id=schedule_id, divergence_note=body.divergence_note,
                                      seen_version=body.version)

    return await execute(request, work)


@router.get("/attempts/{attempt_id}/assessment.pdf", response_class=Response, response_model=None,
            responses={200: {"content": {"application/pdf": {}}, "description": "The assessment form as a PDF"}},
            summary="The attempt's assessment form as a PDF, with every score and the trail of signatures")
async def assessment_pdf(db: Database, school_id: str, attempt_id: str,
                         principal: Principal = Depends(PDF_READERS)) -> Response:
    """Assessors of the attempt, exam board, school admin, the student's supervisor; the student once adopted."""
    content, name = await pdf.for_attempt(db, principal=principal, school_id=school_id, attempt_id=attempt_id)
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Content-Type-Options": "nosniff"})
