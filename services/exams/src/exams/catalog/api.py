"""HTTP routes of the catalog: the operator publishes exams; a school reads the exams of its programmes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from exams.catalog import repository as repo
from exams.catalog import service
from exams.catalog.models import CoreTask, ExamSpec, Part, ProviderAssignment, Rules
from exams.common import Id, Strict, not_found
from kit.auth import Principal, Role, require_operator, require_roles
from kit.commands import execute
from kit.deps import Database
from kit.numbers import INT_MAX

router = APIRouter(tags=["catalog"])
ANY_ROLE = require_roles(*Role)


class ExamOut(BaseModel):
    """One published version of an exam."""

    id: str = Field(description="The exam's id, the same for every version")
    version: int
    current: bool
    programme_id: str
    code: str
    name: str
    core_tasks: list[CoreTask]
    parts: list[Part]
    rules: Rules
    provider_assignments: list[ProviderAssignment]
    published_at: datetime


class UnavailableIn(Strict):
    """Students for whom an exam is (or is no longer) unavailable."""

    student_ids: list[Id] = Field(min_length=1, max_length=1000)
    unavailable: bool = True


class UnavailableOut(BaseModel):
    """What was set."""

    exam_id: str
    student_ids: list[str]
    unavailable: bool


def exam_out(doc: dict[str, Any]) -> ExamOut:
    """The API view of an exam version."""
    return ExamOut(id=doc["exam_id"], **{k: v for k, v in doc.items() if k in ExamOut.model_fields and k != "id"})


@router.post("/v1/catalog/exams", status_code=201, response_model=ExamOut,
             summary="Publish a new exam for a catalog programme (operator)")
async def publish_exam(request: Request, db: Database, body: ExamSpec,
                       principal: Principal = Depends(require_operator)) -> Any:
    """Version 1 of a new exam; the programme must be in the catalog (enrollment publishes it)."""
    return await execute(request, lambda s: _out(service.publish(db, s, spec=body, by=principal.subject)),
                         status_code=201)


@router.post("/v1/catalog/exams/{exam_id}/versions", status_code=201, response_model=ExamOut,
             summary="Publish a new version of an exam (operator); earlier versions stay unchanged")
async def publish_version(request: Request, db: Database, exam_id: str, body: ExamSpec,
                          principal: Principal = Depends(require_operator)) -> Any:
    """The next version; assignments prepared earlier keep the version they were prepared with."""
    return await execute(request, lambda s: _out(service.publish(db, s, spec=body, by=principal.subject,
                                                                 exam_id=exam_id)), status_code=201)


async def _out(doc: Any) -> ExamOut:
    return exam_out(await doc)


@router.get("/v1/catalog/exams", response_model=list[ExamOut], summary="The current exams of a programme (operator)")
async def catalog_exams(db: Database, programme_id: Id = Query(),
                        _: Principal = Depends(require_operator)) -> list[ExamOut]:
    """Every current exam of a catalog programme."""
    return [exam_out(d) for d in await repo.current_for_programmes(db, [programme_id])]


@router.get("/v1/catalog/exams/{exam_id}", response_model=ExamOut, summary="An exam, current or a given version")
async def catalog_exam(db: Database, exam_id: str, version: int | None = Query(default=None, ge=1, le=INT_MAX),
                       _: Principal = Depends(require_operator)) -> ExamOut:
    """One exam version (the current one unless `version` is given)."""
    doc = await (repo.current(db, exam_id) if version is None else repo.version(db, exam_id, version))
    if doc is None:
        raise not_found("Dit examen", "exam")
    return exam_out(doc)


@router.get("/v1/schools/{school_id}/exams", response_model=list[ExamOut],
            summary="The exams of the programmes the school enabled")
async def school_exams(db: Database, school_id: str, programme_id: Id | None = None,
                       _: Principal = Depends(ANY_ROLE)) -> list[ExamOut]:
    """Current exams, with parts, criteria, rules and the provider's fixed assignments (a preview)."""
    return [exam_out(d) for d in await service.exams_for_school(db, school_id=school_id, programme_id=programme_id)]


@router.get("/v1/schools/{school_id}/exams/{exam_id}", response_model=ExamOut, summary="One exam of the school")
async def school_exam(db: Database, school_id: str, exam_id: str, _: Principal = Depends(ANY_ROLE)) -> ExamOut:
    """The current version of an exam of an enabled programme; 404 otherwise."""
    return exam_out(await service.exam_for_school(db, school_id=school_id, exam_id=exam_id))


@router.put("/v1/schools/{school_id}/exams/{exam_id}/unavailable", response_model=UnavailableOut,
            summary="Make an exam unavailable (or available again) for particular students (school admin)")
async def set_unavailable(request: Request, db: Database, school_id: str, exam_id: str, body: UnavailableIn,
                          _: Principal = Depends(require_roles(Role.SCHOOL_ADMIN))) -> Any:
    """Unknown exam: 404; unknown students: 422 naming them."""
    return await execute(request, lambda s: service.set_unavailable(
        db, s, school_id=school_id, exam_id=exam_id, student_ids=body.student_ids, unavailable=body.unavailable))
