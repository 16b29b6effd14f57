"""Use cases of the programme catalog (published by the operator) and the programmes each school enables.

Each command runs inside the caller's transaction (kit.commands.execute) and stages its events.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.enrollment import ProgrammeEnabledV1, ProgrammePublishedV1
from enrollment import repository as repo
from enrollment.events import stage
from enrollment.service import not_found
from kit.auth import STAFF_ROLES
from kit.clock import now
from kit.errors import Problem, field_error
from kit.mongo import Db
from kit.outbox import Outbox

Doc = dict[str, Any]


def programme_id(crebo: str, cohort: int) -> str:
    """The catalog id of a programme: one per crebo and qualification-file cohort."""
    return f"prg-{crebo}-{cohort}"


def programme_out(doc: Doc) -> Doc:
    """The API view of a catalog programme."""
    return {"id": doc["_id"], **{k: doc[k] for k in ("crebo", "name", "level", "cohort", "kind")}}


async def list_catalog(db: Db, *, crebo: str | None) -> Doc:
    """Every published programme, optionally of one crebo."""
    return {"items": [programme_out(p) for p in await repo.list_programmes(db, crebo)]}


async def publish_programme(db: Db, session: AsyncClientSession, outbox: Outbox, *, values: Doc) -> Doc:
    """Publish (or correct) a catalog programme for every school."""
    doc = {"_id": programme_id(values["crebo"], values["cohort"]), **values, "updated_at": now()}
    await repo.save_programme(db, doc, session)
    event = ProgrammePublishedV1(programme_id=doc["_id"], crebo=doc["crebo"], name=doc["name"],
                                 level=doc["level"], cohort=doc["cohort"], kind=doc["kind"])
    await stage(outbox, session, [(event, doc["_id"], None)])
    return programme_out(doc)


async def school_programmes(db: Db, *, school_id: str) -> list[Doc]:
    """The programmes a school enabled, with their staff."""
    links = await repo.school_programmes(db, school_id, True)
    catalog = await repo.programmes_by_id(db, [p["programme_id"] for p in links])
    return [{**programme_out(catalog[p["programme_id"]]), "enabled": True, "staff_ids": p.get("staff_ids", [])}
            for p in links if p["programme_id"] in catalog]


async def set_school_programme(db: Db, session: AsyncClientSession, outbox: Outbox, *, school_id: str,
                               programme_id: str, enabled: bool, staff_ids: list[str]) -> Doc:
    """Enable (or disable) a catalog programme for a school and link its staff."""
    programme = await repo.get_programme(db, programme_id, session)
    if programme is None:
        raise not_found("programme")
    roles = await repo.roles_of(db, school_id, staff_ids, session)
    staff_values = {r.value for r in STAFF_ROLES}
    not_staff = [u for u in staff_ids if not roles.get(u, set()) & staff_values]
    if not_staff:
        raise Problem(422, "validation", errors=[field_error("staff_ids", f"not staff of the school: {u}")
                                                 for u in not_staff])
    staff = sorted(set(staff_ids))
    link = await repo.set_school_programme(db, school_id, programme_id, enabled, staff, session)
    await stage(outbox, session, [(ProgrammeEnabledV1(programme_id=programme_id, school_id=school_id, enabled=enabled,
                                                  staff_ids=staff), programme_id, school_id)])
    return {**programme_out(programme), "enabled": link["enabled"], "staff_ids": link["staff_ids"]}
