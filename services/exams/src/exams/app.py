"""The exams service's HTTP API application."""

from fastapi import FastAPI

from exams import readmodel
from exams.assignments import repository as assignments_repo
from exams.assignments.api import router as assignments_router
from exams.catalog import repository as catalog_repo
from exams.catalog.api import router as catalog_router
from exams.projections import repository as projections_repo
from exams.scheduling import repository as scheduling_repo
from exams.scheduling.api import router as scheduling_router
from exams.settings import ExamsSettings
from exams.views.api import router as views_router
from kit.app import create_service_app
from kit.mongo import Db

DESCRIPTION = """\
The first half of the practical-exam workflow (DOMAIN.md phases 1 and 2):

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
* **Views**: the overview matrix (students x exams, seven states, attempt numbers), the assessor dashboard,
  a student's own exams, a workplace trainer's students across schools.

Writes to one document take `If-Match` with its version (`ETag`); a stale one gets 412. Every POST honours
`Idempotency-Key`. Refusals are problem+json saying why, in Dutch (default) or English (`Accept-Language`).
Assessment, results, retakes after a result and exam-board cases are not part of this API yet.
"""


async def ensure_indexes(db: Db) -> None:
    """Every index the exams service's queries use."""
    for module in (projections_repo, catalog_repo, assignments_repo, scheduling_repo, readmodel):
        await module.ensure_indexes(db)


def create_app(settings: ExamsSettings | None = None) -> FastAPI:
    """Build the exams API (uvicorn --factory exams.app:create_app)."""
    settings = settings or ExamsSettings()

    async def indexes(app: FastAPI) -> None:
        await ensure_indexes(app.state.db)

    return create_service_app(
        settings,
        title="Exams",
        description=DESCRIPTION,
        routers=[catalog_router, assignments_router, scheduling_router, views_router],
        startup=[indexes],
    )
