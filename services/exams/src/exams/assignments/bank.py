"""The school's assignment bank: reusable assignments per exam, which the school admin may mark adopted.

Attachments are uploaded to the evidence service for a bank entry (it learns of the entry from
`exams.bank_assignment_saved`); its `evidence.file_uploaded` adds the file to the entry here. So a bank
entry lists only files that evidence really stored for it; an edit may drop some of them, never name others.
"""

from __future__ import annotations

from contracts.exams import BankAssignmentSavedV1
from exams.assignments import repository as repo
from exams.catalog.service import exam_for_school
from exams.common import Doc, Session, check_version, forbidden, not_found
from exams.events import stage
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox

ONLY_ADMIN_ADOPTS = Text("Alleen de beheerder mag een bankopdracht als vastgesteld markeren.",
                         "Only the school admin may mark a bank assignment as adopted.")


def foreign_attachments(requested: list[str], uploaded: list[str]) -> list[str]:
    """The requested attachment ids that were not uploaded for this bank entry (all must be)."""
    return [file_id for file_id in requested if file_id not in uploaded]


def check_attachments(requested: list[str], uploaded: list[str]) -> None:
    """Refuse (422 naming attachment_ids) attachments that are not files uploaded for this entry."""
    foreign = foreign_attachments(requested, uploaded)
    if foreign:
        raise Problem(422, "validation", detail=Text(
            "Bijlagen voeg je toe door ze bij deze bankopdracht te uploaden; niet geüpload: " + ", ".join(foreign),
            "Attachments are added by uploading them to this bank assignment; not uploaded: " + ", ".join(foreign)),
            errors=[field_error("attachment_ids", "not files uploaded for this bank assignment")])


async def _saved(outbox: Outbox, session: Session, doc: Doc, by: str) -> None:
    await stage(outbox, session, [BankAssignmentSavedV1(
        bank_assignment_id=doc["_id"], school_id=doc["school_id"], exam_id=doc["exam_id"], version=doc["version"],
        saved_by=by, saved_at=doc["updated_at"])])


async def create(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str, exam_id: str,
                 title: str, text: str, attachment_ids: list[str], adopted: bool) -> Doc:
    """Add an assignment to the bank of an exam the school offers (attachments are uploaded afterwards)."""
    if adopted and Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
        raise forbidden(ONLY_ADMIN_ADOPTS)
    check_attachments(list(dict.fromkeys(attachment_ids)), [])
    exam = await exam_for_school(db, school_id=school_id, exam_id=exam_id, session=session)
    at = now()
    doc = {"_id": new_id("bnk"), "school_id": school_id, "exam_id": exam_id, "exam_name": exam["name"],
           "title": title, "text": text, "attachment_ids": [], "uploaded_attachment_ids": [], "adopted": adopted,
           "adopted_by": principal.subject if adopted else None, "created_by": principal.subject, "created_at": at,
           "updated_at": at, "version": 1}
    await repo.insert_bank(db, session, doc)
    await _saved(outbox, session, doc, principal.subject)
    return doc


async def get(db: Db, *, school_id: str, bank_id: str, session: Session | None = None) -> Doc:
    """One bank assignment (the preview before selecting it)."""
    doc = await repo.get_bank(db, school_id, bank_id, session)
    if doc is None:
        raise not_found("Deze bankopdracht", "bank assignment")
    return doc


async def update(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str, bank_id: str,
                 expected_version: int | None, changes: Doc) -> Doc:
    """Change a bank assignment (If-Match required); prepared assignments keep the text they copied."""
    doc = await get(db, school_id=school_id, bank_id=bank_id, session=session)
    check_version(doc, expected_version, required=True)
    if "adopted" in changes and changes["adopted"] != doc["adopted"] and \
            Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
        raise forbidden(ONLY_ADMIN_ADOPTS)
    if "attachment_ids" in changes:
        changes["attachment_ids"] = list(dict.fromkeys(changes["attachment_ids"]))
        check_attachments(changes["attachment_ids"], doc.get("uploaded_attachment_ids", []))
    if not changes:
        return doc
    new = {**doc, **changes, "version": doc["version"] + 1, "updated_at": now()}
    if changes.get("adopted"):
        new["adopted_by"] = principal.subject
    if not await repo.replace_bank(db, session, before=doc, after=new):
        check_version(new, doc["version"])
    await _saved(outbox, session, new, principal.subject)
    return new


async def attachment_uploaded(db: Db, session: Session, *, school_id: str, bank_id: str, file_id: str) -> None:
    """Evidence stored a file for a bank entry: list it there (a replayed event changes nothing)."""
    await repo.add_bank_attachment(db, session, school_id=school_id, bank_id=bank_id, file_id=file_id, at=now())
