"""Every query of the evidence service, and the indexes they use."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from evidence.models import FINALIZED, IN_EXECUTION, LATE
from kit.mongo import Db

Doc = dict[str, Any]
Session = AsyncClientSession | None


async def ensure_indexes(db: Db) -> None:
    """Create the indexes every query below relies on."""
    await db.files.create_index([("school_id", ASCENDING), ("attempt_id", ASCENDING), ("status", ASCENDING)])
    await db.files.create_index([("school_id", ASCENDING), ("kind", ASCENDING), ("roles", ASCENDING)])
    await db.files.create_index([("attempt_id", ASCENDING), ("locked", ASCENDING)])
    await db.attempts.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("assessor_ids", ASCENDING)])
    await db.links.create_index([("school_id", ASCENDING), ("user_id", ASCENDING), ("student_id", ASCENDING)])
    await db.student_users.create_index([("school_id", ASCENDING), ("user_id", ASCENDING)])
    await db.uploads.create_index([("expires_at", ASCENDING)])
    await db.inflight.create_index([("alive_until", ASCENDING)])
    await db.audit.create_index([("file_id", ASCENDING), ("at", ASCENDING)])
    await db.assignments.create_index([("school_id", ASCENDING), ("attachment_ids", ASCENDING)])


# --- files -------------------------------------------------------------------------------------------

async def insert_file(db: Db, file: Doc, session: Session) -> None:
    """Store a file's metadata."""
    await db.files.insert_one(file, session=session)


async def get_file(db: Db, school_id: str, file_id: str, session: Session = None) -> Doc | None:
    """One file of a school."""
    return await db.files.find_one({"_id": file_id, "school_id": school_id}, session=session)


async def list_attempt_files(db: Db, school_id: str, attempt_id: str, include_withdrawn: bool) -> list[Doc]:
    """The evidence of an attempt, oldest first (files flagged late are listed, marked, so the student sees it)."""
    query: Doc = {"school_id": school_id, "attempt_id": attempt_id, "kind": "evidence"}
    if not include_withdrawn:
        query["status"] = {"$in": ["active", LATE]}
    return await db.files.find(query).sort("created_at", ASCENDING).to_list()


async def list_library(db: Db, school_id: str, roles: list[str] | None, include_withdrawn: bool = False) -> list[Doc]:
    """Library files of a school, for the given roles (None: all), oldest first."""
    query: Doc = {"school_id": school_id, "kind": "library"}
    if not include_withdrawn:
        query["status"] = "active"
    if roles is not None:
        query["roles"] = {"$in": roles}
    return await db.files.find(query).sort("created_at", ASCENDING).to_list()


async def withdraw_file(db: Db, file_id: str, by: str, at: datetime, session: Session,
                        replaced_by: str | None = None) -> bool:
    """Hide an active, unlocked file (it is kept); False when it was not in that state."""
    change: Doc = {"status": "withdrawn", "withdrawn_by": by, "withdrawn_at": at}
    if replaced_by is not None:
        change["replaced_by"] = replaced_by
    result = await db.files.update_one(
        {"_id": file_id, "status": "active", "locked": False},
        {"$set": change},
        session=session,
    )
    return result.modified_count == 1


async def lock_attempt_files(db: Db, attempt_id: str, at: datetime, session: Session) -> list[Doc]:
    """Lock every file of an attempt; returns the files (withdrawn ones too, they are kept as well)."""
    await db.files.update_many({"attempt_id": attempt_id, "locked": False},
                               {"$set": {"locked": True, "locked_at": at}}, session=session)
    return await db.files.find({"attempt_id": attempt_id}, session=session).to_list()


async def flag_late_files(db: Db, attempt_id: str, finalized_at: datetime, session: Session) -> list[str]:
    """Flag the attempt's evidence that completed after its finalization: kept, never counted, never locked in."""
    query = {"attempt_id": attempt_id, "kind": "evidence", "status": "active", "created_at": {"$gt": finalized_at}}
    late = [d["_id"] for d in await db.files.find(query, {"_id": 1}, session=session).to_list()]
    if late:
        await db.files.update_many({"_id": {"$in": late}}, {"$set": {
            "status": LATE, "flag": "completed_after_finalization", "finalized_at": finalized_at}}, session=session)
    return late


async def part_finalized(db: Db, attempt_id: str, part_id: str, session: Session) -> None:
    """A part's assessment was finalized in exams."""
    await db.attempts.update_one({"_id": attempt_id}, {"$addToSet": {"final_part_ids": part_id}}, session=session)


async def touch_attempt(db: Db, attempt_id: str, session: Session) -> None:
    """Count a registration on the attempt (a write, so it conflicts with a concurrent finalization)."""
    await db.attempts.update_one({"_id": attempt_id}, {"$inc": {"registrations": 1}}, session=session)


async def mark_object_locked(db: Db, file_id: str, until: datetime, session: Session) -> None:
    """Remember that S3 object lock protects a file until a date."""
    await db.files.update_one({"_id": file_id}, {"$set": {"object_lock_until": until}}, session=session)


async def audit(db: Db, file_id: str, action: str, by: str, at: datetime, session: Session) -> None:
    """Keep a trail of what happened to a file."""
    await db.audit.insert_one({"file_id": file_id, "action": action, "by": by, "at": at}, session=session)


async def audit_trail(db: Db, file_id: str) -> list[Doc]:
    """What happened to a file, oldest first."""
    return await db.audit.find({"file_id": file_id}, {"_id": 0}).sort("at", ASCENDING).to_list()


# --- projections from other services' events ---------------------------------------------------------

async def get_attempt(db: Db, school_id: str, attempt_id: str, session: Session = None) -> Doc | None:
    """The local view of an exam attempt."""
    return await db.attempts.find_one({"_id": attempt_id, "school_id": school_id}, session=session)


async def attempt_scheduled(db: Db, data: Any, session: Session) -> None:
    """A part was scheduled: the attempt is in execution (unless already finalized)."""
    assessors = [a for a in (data.first_assessor_id, data.second_assessor_id) if a]
    await db.attempts.update_one(
        {"_id": data.attempt_id},
        {"$setOnInsert": {"state": IN_EXECUTION, "school_id": data.school_id, "student_id": data.student_id},
         "$addToSet": {"assessor_ids": {"$each": assessors}, "part_ids": data.part_id}},
        upsert=True, session=session,
    )


async def attempt_finalized(db: Db, data: Any, session: Session) -> bool:
    """The assessment was finalized; True the first time (False on a replay)."""
    before = await db.attempts.find_one_and_update(
        {"_id": data.attempt_id},
        {"$set": {"state": FINALIZED, "finalized_at": data.finalized_at},
         "$setOnInsert": {"school_id": data.school_id, "student_id": data.student_id, "assessor_ids": []}},
        upsert=True, session=session,
    )
    return before is None or before.get("state") != FINALIZED


async def grant_attachments(db: Db, school_id: str, sender_id: str, file_ids: list[str], user_ids: list[str],
                            session: Session) -> int:
    """Let message recipients read the sender's message attachments; returns the files granted."""
    granted = await db.files.update_many(
        {"_id": {"$in": file_ids}, "school_id": school_id, "kind": "message_attachment", "uploaded_by": sender_id},
        {"$addToSet": {"reader_ids": {"$each": user_ids}}}, session=session)
    return granted.matched_count


async def link(db: Db, school_id: str, student_id: str, user_id: str, relation: str, session: Session) -> None:
    """A person is linked to a student."""
    key = f"{school_id}:{student_id}:{user_id}:{relation}"
    await db.links.update_one({"_id": key}, {"$set": {"school_id": school_id, "student_id": student_id,
                                                      "user_id": user_id, "relation": relation}},
                              upsert=True, session=session)


async def unlink(db: Db, school_id: str, student_id: str, user_id: str, relation: str, session: Session) -> None:
    """A person's link to a student ended."""
    await db.links.delete_one({"_id": f"{school_id}:{student_id}:{user_id}:{relation}"}, session=session)


async def is_linked(db: Db, school_id: str, user_id: str, student_id: str) -> bool:
    """True when the user is linked to the student in any relation."""
    return await db.links.find_one({"school_id": school_id, "user_id": user_id, "student_id": student_id}) is not None


async def assesses(db: Db, school_id: str, user_id: str, student_id: str) -> bool:
    """True when the user is an assessor of one of the student's attempts."""
    query = {"school_id": school_id, "student_id": student_id, "assessor_ids": user_id}
    return await db.attempts.find_one(query) is not None


async def set_student_user(db: Db, school_id: str, user_id: str, student_id: str | None, session: Session) -> None:
    """Which student record a user is in a school (None: no longer a student there)."""
    key = f"{school_id}:{user_id}"
    if student_id is None:
        await db.student_users.delete_one({"_id": key}, session=session)
    else:
        await db.student_users.update_one(
            {"_id": key}, {"$set": {"school_id": school_id, "user_id": user_id, "student_id": student_id}},
            upsert=True, session=session,
        )


async def student_of_user(db: Db, school_id: str, user_id: str) -> str | None:
    """The student record of a user in a school."""
    doc = await db.student_users.find_one({"_id": f"{school_id}:{user_id}"})
    return str(doc["student_id"]) if doc else None


async def set_assignment(db: Db, data: Any, session: Session) -> None:
    """An assignment was prepared for a student."""
    await db.assignments.update_one(
        {"_id": data.assignment_id},
        {"$set": {"school_id": data.school_id, "student_id": data.student_id,
                  "attachment_ids": list(data.attachment_ids)}}, upsert=True, session=session,
    )


async def students_attached_to(db: Db, school_id: str, file_id: str) -> list[str]:
    """The students of the assignments that carry this file among their attachments (e.g. from the bank)."""
    docs = await db.assignments.find({"school_id": school_id, "attachment_ids": file_id}).to_list()
    return list(dict.fromkeys(str(d["student_id"]) for d in docs))


async def get_assignment(db: Db, school_id: str, assignment_id: str) -> Doc | None:
    """The local view of an assignment."""
    return await db.assignments.find_one({"_id": assignment_id, "school_id": school_id})


async def set_bank_assignment(db: Db, data: Any, session: Session) -> None:
    """A bank assignment of a school was saved in exams (its editors may attach files to it)."""
    await db.bank_assignments.update_one(
        {"_id": data.bank_assignment_id},
        {"$set": {"school_id": data.school_id, "exam_id": data.exam_id}}, upsert=True, session=session,
    )


async def set_case(db: Db, data: Any, session: Session, *, decided: bool) -> None:
    """An exam-board case exists in exams (its student and the board may add documents until it is decided)."""
    fields: Doc = {"school_id": data.school_id, "student_id": data.student_id}
    update: Doc = {"$set": {**fields, "decided": True}} if decided else {"$set": fields,
                                                                         "$setOnInsert": {"decided": False}}
    await db.cases.update_one({"_id": data.case_id}, update, upsert=True, session=session)


async def get_case(db: Db, school_id: str, case_id: str, session: Session = None) -> Doc | None:
    """The local view of an exam-board case."""
    return await db.cases.find_one({"_id": case_id, "school_id": school_id}, session=session)


async def touch_case(db: Db, case_id: str, session: Session) -> None:
    """Count a document on the case (a write, so it conflicts with a concurrent decision)."""
    await db.cases.update_one({"_id": case_id}, {"$inc": {"documents": 1}}, session=session)


async def get_bank_assignment(db: Db, school_id: str, bank_id: str) -> Doc | None:
    """The local view of a bank assignment."""
    return await db.bank_assignments.find_one({"_id": bank_id, "school_id": school_id})


# --- resumable (tus) uploads ---------------------------------------------------------------------------

async def insert_upload(db: Db, upload: Doc) -> None:
    """Register a resumable upload."""
    await db.uploads.insert_one(upload)


async def get_upload(db: Db, school_id: str, upload_id: str) -> Doc | None:
    """One resumable upload of a school."""
    return await db.uploads.find_one({"_id": upload_id, "school_id": school_id})


async def claim_upload(db: Db, upload_id: str, offset: int, holder: str, until: datetime, now: datetime) -> Doc | None:
    """Take the upload for one PATCH at the expected offset; None when another request holds it."""
    return await db.uploads.find_one_and_update(
        {"_id": upload_id, "offset": offset, "state": "open",
         "$or": [{"holder": None}, {"held_until": {"$lt": now}}]},
        {"$set": {"holder": holder, "held_until": until}},
        return_document=True,
    )


async def advance_upload(db: Db, upload_id: str, holder: str, changes: Doc) -> bool:
    """Record the parts and tail of a PATCH and release the upload; False if the claim was lost."""
    result = await db.uploads.update_one({"_id": upload_id, "holder": holder},
                                         {"$set": {**changes, "holder": None, "held_until": None}})
    return result.modified_count == 1


async def release_upload(db: Db, upload_id: str, holder: str) -> None:
    """Let go of a claim without changing anything (the PATCH failed)."""
    await db.uploads.update_one({"_id": upload_id, "holder": holder}, {"$set": {"holder": None, "held_until": None}})


async def renew_upload(db: Db, upload_id: str, holder: str, until: datetime) -> bool:
    """Extend a PATCH's claim while it streams; False once another request took the upload over."""
    result = await db.uploads.update_one({"_id": upload_id, "holder": holder}, {"$set": {"held_until": until}})
    return result.matched_count == 1


async def record_multipart(db: Db, upload_id: str, holder: str, multipart_id: str) -> None:
    """Remember a PATCH's new multipart upload at once, so a PATCH that dies leaves none unrecorded."""
    await db.uploads.update_one({"_id": upload_id, "holder": holder, "multipart_id": None},
                                {"$set": {"multipart_id": multipart_id}})


async def forget_multipart(db: Db, upload_id: str, holder: str, multipart_id: str) -> None:
    """A failed PATCH aborts the multipart upload it began: the upload no longer names it."""
    await db.uploads.update_one({"_id": upload_id, "holder": holder, "multipart_id": multipart_id},
                                {"$set": {"multipart_id": None}})


# --- plain uploads in flight (uploads_inflight) --------------------------------------------------------

async def insert_inflight(db: Db, record: Doc) -> None:
    """Record a plain upload before its first byte goes to S3."""
    await db.inflight.insert_one(record)


async def renew_inflight(db: Db, file_id: str, until: datetime) -> bool:
    """Extend (or, with now, end) the lease of an upload in flight; False once a sweeper took it."""
    result = await db.inflight.update_one({"_id": file_id, "swept": {"$ne": True}}, {"$set": {"alive_until": until}})
    return result.matched_count == 1


async def delete_inflight(db: Db, file_id: str, session: Session) -> bool:
    """The upload was registered (in that transaction) or cleaned up; False when a sweeper had taken it."""
    result = await db.inflight.delete_one({"_id": file_id, "swept": {"$ne": True}}, session=session)
    return result.deleted_count == 1


async def forget_inflight(db: Db, file_id: str) -> None:
    """A sweeper cleaned up after an abandoned upload: its record goes."""
    await db.inflight.delete_one({"_id": file_id})


async def abandoned_inflight(db: Db, now: datetime, limit: int = 100) -> list[Doc]:
    """Uploads in flight whose lease ran out (their process died), or whose sweeper died."""
    return await db.inflight.find({"alive_until": {"$lt": now}}).limit(limit).to_list()


async def claim_abandoned_inflight(db: Db, file_id: str, now: datetime) -> Doc | None:
    """Take an abandoned upload for cleanup: one sweeper does it, and its request can no longer register it."""
    return await db.inflight.find_one_and_update(
        {"_id": file_id, "alive_until": {"$lt": now}},
        {"$set": {"swept": True, "alive_until": now + timedelta(minutes=10)}},
        return_document=True,
    )


async def set_upload_state(db: Db, upload_id: str, state: str, extra: Doc | None = None,
                           session: Session = None) -> None:
    """Mark an upload completed, refused, terminated or expired."""
    await db.uploads.update_one({"_id": upload_id}, {"$set": {"state": state, **(extra or {})}}, session=session)


async def expired_uploads(db: Db, now: datetime, limit: int = 100) -> list[Doc]:
    """Open uploads past their expiry."""
    return await db.uploads.find({"expires_at": {"$lt": now}, "state": "open"}).limit(limit).to_list()


async def claim_expired(db: Db, upload_id: str, now: datetime) -> Doc | None:
    """Take an expired upload for cleanup (one instance does it)."""
    return await db.uploads.find_one_and_update(
        {"_id": upload_id, "state": "open", "expires_at": {"$lt": now}},
        {"$set": {"state": "expired"}},
    )
