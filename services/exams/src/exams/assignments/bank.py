"""The school's assignment bank: reusable assignments per exam, which the school admin may mark adopted."""

from __future__ import annotations

from exams.assignments import repository as repo
from exams.catalog.service import exam_for_school
from exams.common import Doc, Session, check_version, forbidden, not_found
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Text
from kit.ids import new_id
from kit.mongo import Db

ONLY_ADMIN_ADOPTS = Text("Alleen de beheerder mag een bankopdracht als vastgesteld markeren.",
                         "Only the school admin may mark a bank assignment as adopted.")


async def create(db: Db, session: Session, *, principal: Principal, school_id: str, exam_id: str, title: str,
                 text: str, attachment_ids: list[str], adopted: bool) -> Doc:
    """Add an assignment to the bank of an exam the school offers."""
    if adopted and Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
        raise forbidden(ONLY_ADMIN_ADOPTS)
    exam = await exam_for_school(db, school_id=school_id, exam_id=exam_id, session=session)
    at = now()
    doc = {"_id": new_id("bnk"), "school_id": school_id, "exam_id": exam_id, "exam_name": exam["name"],
           "title": title, "text": text, "attachment_ids": attachment_ids, "adopted": adopted,
           "adopted_by": principal.subject if adopted else None, "created_by": principal.subject, "created_at": at,
           "updated_at": at, "version": 1}
    await repo.insert_bank(db, session, doc)
    return doc


async def get(db: Db, *, school_id: str, bank_id: str, session: Session | None = None) -> Doc:
    """One bank assignment (the preview before selecting it)."""
    doc = await repo.get_bank(db, school_id, bank_id, session)
    if doc is None:
        raise not_found("Deze bankopdracht", "bank assignment")
    return doc


async def update(db: Db, session: Session, *, principal: Principal, school_id: str, bank_id: str,
                 expected_version: int | None, changes: Doc) -> Doc:
    """Change a bank assignment (If-Match required); prepared assignments keep the text they copied."""
    doc = await get(db, school_id=school_id, bank_id=bank_id, session=session)
    check_version(doc, expected_version, required=True)
    if "adopted" in changes and changes["adopted"] != doc["adopted"] and \
            Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
        raise forbidden(ONLY_ADMIN_ADOPTS)
    if not changes:
        return doc
    new = {**doc, **changes, "version": doc["version"] + 1, "updated_at": now()}
    if changes.get("adopted"):
        new["adopted_by"] = principal.subject
    if not await repo.replace_bank(db, session, before=doc, after=new):
        check_version(new, doc["version"])
    return new
