"""The exams service's HTTP API application."""

from fastapi import FastAPI

from exams import readmodel
from exams.assessment import repository as assessment_repo
from exams.assessment.api import router as assessment_router
from exams.assignments import repository as assignments_repo
from exams.assignments.api import router as assignments_router
from exams.audit import repository as audit_repo
from exams.audit.api import router as audit_router
from exams.cases import repository as cases_repo
from exams.cases.api import router as cases_router
from exams.catalog import repository as catalog_repo
from exams.catalog.api import router as catalog_router
from exams.projections import people as people_repo
from exams.projections import repository as projections_repo
from exams.results import repository as results_repo
from exams.results.api import router as results_router
from exams.scheduling import repository as scheduling_repo
from exams.scheduling.api import router as scheduling_router
from exams.settings import ExamsSettings
from exams.views.api import router as views_router
from kit.app import create_service_app
from kit.mongo import Db

DESCRIPTION = """\
The practical-exam workflow (DOMAIN.md phases 1 to 4):

* **Catalog**: the operator publishes exams per catalog programme (core tasks, work processes, parts with
  criteria and their scoring, the exam's rules) in immutable versions; a school sees the exams of the
  programmes it enabled and can make an exam unavailable for particular students.
* **Assignment bank** per school, with a preview listing the attachments uploaded for an entry to the evidence
  service; the school admin may mark bank assignments adopted.
* **Assignments** for one student, a selection or a group: approval by the student, the supervisor and the
  workplace trainer (each a signature with who, role, when and the hash of the version signed), then the lock;
  adoption by the named adopter (one by one or per group); deletion before execution; people changes after
  adoption by the school admin only, recorded.
* **Scheduling** per part or all parts for one or many assignments, rescheduling, cancelling (a cancellation
  after the deregistration deadline forfeits the attempt), attempt numbers and the attempt window.
* **Assessment** per scheduled part: each assessor on the schedule scores the part's criteria (pass/fail or
  1-5, justifications where the exam requires them) and saves drafts from the part's start on (a stale save from
  another tab is refused with 409); the form shows the exam board's granted accommodations. Finalizing (first
  assessor, or the second when the schedule allows it) shows both assessors' scores, what is incomplete and the
  divergences (2+ points apart, or pass against fail), needs `confirm: true` and a note acknowledging any
  divergence, and is irreversible; the attempt's last part publishes `exams.assessment_finalized`. The attempt's
  assessment form downloads as a PDF with every score, justification and the trail of signatures.
* **Results** (computed by the worker when an attempt's assessment is finalized): per part, core task and exam
  from the final scores and the exam's rules (truncation to one decimal, final grade rounded half up or one
  decimal, pass mark, every core task must pass; scales 1-10, whole 1-10, pass/fail, O/V/G; exempt core tasks by
  the exam board's exemptions); adoption by the exam board one by one or per group; the student sees adopted
  results only; a student's results say which one counts (last or highest).
* **Retakes** after a failed (adopted) or forfeited attempt: a new attempt within the exam's maximum and window,
  beyond them only with the exam board's granted extra attempt; its parts are scheduled anew.
* **Views**: the overview matrix (students x exams, seven states, attempt numbers), the assessor dashboard,
  a student's own exams, a workplace trainer's students across schools.
* **Exam board**: cases (inspection, objection, exemption, accommodation, extra attempt, fraud) with deadlines in
  working days (weekends and the school's holidays, `PUT /calendar`, excluded); students file inspection, objection
  and exemption requests for themselves; the board's list by deadline, overdue first; one decision per case, whose
  effects (a superseding result, a new assessment by a new assessor) happen in the same step.
* **Audit trail**: every signature, adoption, finalization, result adoption and board decision in a hash-chained
  log per school; `GET /audit/verify` names the first broken link; a student's trail for the board and the admin.

Writes to one document take `If-Match` with its version (`ETag`); a stale one gets 412. Every POST honours
`Idempotency-Key`. Refusals are problem+json saying why, in Dutch (default) or English (`Accept-Language`).
"""


async def ensure_indexes(db: Db) -> None:
    """Every index the exams service's queries use."""
    for module in (projections_repo, catalog_repo, assignments_repo, scheduling_repo, readmodel,
                   assessment_repo):
        await module.ensure_indexes(db)
    await results_repo.ensure_indexes(db)
    await people_repo.ensure_indexes(db)
    for board_module in (cases_repo, audit_repo):
        await board_module.ensure_indexes(db)


def create_app(settings: ExamsSettings | None = None) -> FastAPI:
    """Build the exams API (uvicorn --factory exams.app:create_app)."""
    settings = settings or ExamsSettings()

    async def indexes(app: FastAPI) -> None:
        await ensure_indexes(app.state.db)

    return create_service_app(
        settings,
        title="Exams",
        description=DESCRIPTION,
        routers=[catalog_router, assignments_router, scheduling_router, views_router,
                 assessment_router, results_router, cases_router, audit_router],
        startup=[indexes],
    )
