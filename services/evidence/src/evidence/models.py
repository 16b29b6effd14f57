"""Domain rules of evidence: file names, content types, retention, who may see and change what. No I/O."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import quote

import filetype

from kit.auth import Principal, Role
from kit.errors import Text

Kind = Literal["evidence", "assignment_attachment", "library", "message_attachment", "bank_attachment",
               "assessment_attachment", "case_document"]

# An attempt is "in execution" from the moment the first of its parts is scheduled (exams.part_scheduled)
# until its assessment is finalized (exams.assessment_finalized). Only then may its student add evidence;
# before finalization the student may withdraw an item; after it the evidence is locked for good.
IN_EXECUTION = "in_execution"
FINALIZED = "finalized"
# Exams finalizes first and evidence learns of it from the event, so an upload may complete in between: such a
# file is kept but flagged "late" when the event arrives, and never counts (never locked as the attempt's evidence).
LATE = "late"

# Retention class per kind of file, and how long S3 object lock (governance) keeps locked evidence.
RETENTION_CLASS: dict[str, str] = {
    "evidence": "exam_evidence",
    "assignment_attachment": "exam_documentation",
    "bank_attachment": "exam_documentation",
    "assessment_attachment": "exam_documentation",
    "library": "reference",
    "message_attachment": "correspondence",
    "case_document": "exam_documentation",
}
LOCK_PERIOD = {"exam_evidence": timedelta(days=2 * 365)}

MAX_FILENAME_CHARS = 255
SNIFF_BYTES = 8192
_UNSAFE = re.compile(r"[\\/\x00-\x1f\x7f\"<>:|?*]")


def safe_filename(raw: str | None) -> str:
    """The name to keep: no path, no control or reserved characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # only the last path segment
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        return "bestand"
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name


def content_disposition(filename: str, inline: bool = False) -> str:
    """A header value naming the file: ASCII fallback plus RFC 5987 UTF-8 form (no injection possible)."""
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def detect_content_type(head: bytes) -> str:
    """The content type of a file from its first bytes; the client's claim is never trusted."""
    kind = filetype.guess(head[:SNIFF_BYTES]) if head else None
    if kind is not None:
        return str(kind.mime)
    try:
        head[:SNIFF_BYTES].decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multibyte character cut at the sniff boundary is still text.
        if exc.start < len(head[:SNIFF_BYTES]) - 4:
            return "application/octet-stream"
    if head and b"\x00" not in head[:SNIFF_BYTES]:
        return "text/plain"
    return "application/octet-stream"


def storage_key(school_id: str, kind: str, file_id: str) -> str:
    """Where the bytes live: a per-school prefix, then the kind; never the client's file name."""
    return f"schools/{school_id}/{kind}/{file_id}"


class Interrupted(Exception):
    """The client went away in the middle of the body."""


@dataclass(frozen=True)
class IncomingFile:
    """An upload as it reaches the service: its kept name, what the client declared, and the body."""

    filename: str
    declared_length: int | None
    sha256: bytes | None
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True)
class Target:
    """What a file is uploaded for, after every rule was checked."""

    kind: str
    school_id: str
    student_id: str | None = None
    attempt_id: str | None = None
    assignment_id: str | None = None
    bank_assignment_id: str | None = None
    part_id: str | None = None
    case_id: str | None = None
    roles: list[str] = field(default_factory=list)
    replaces: str | None = None


@dataclass(frozen=True)
class Stored:
    """Bytes in the bucket, not yet registered as a file."""

    file_id: str
    key: str
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class StudentAccess:
    """What the local projections say about one student and one caller."""

    is_student_self: bool
    linked: bool
    assesses: bool


def may_see_student(principal: Principal, school_id: str, access: StudentAccess) -> bool:
    """Admins and the exam board see every student; others only their own or linked students."""
    roles = principal.roles_in(school_id)
    if roles & {Role.SCHOOL_ADMIN, Role.EXAM_BOARD}:
        return True
    if Role.STUDENT in roles and access.is_student_self:
        return True
    staff = roles & {Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.WORKPLACE_TRAINER}
    return bool(staff) and (access.linked or access.assesses)


def may_see_library_file(principal: Principal, school_id: str, file: dict[str, Any]) -> bool:
    """A manual is for the roles it was published to; the school admin sees every one."""
    roles = principal.roles_in(school_id)
    return Role.SCHOOL_ADMIN in roles or bool({r.value for r in roles} & set(file.get("roles", [])))


# The school's assignment bank (exams): who may change it there may upload its attachments; the school's staff
# who may see the bank may read them.
BANK_EDITORS = frozenset({Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR})
BANK_READERS = frozenset({Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.EXAM_BOARD})


def may_edit_bank(principal: Principal, school_id: str) -> bool:
    """A school admin or supervisor of this school may attach files to its bank assignments."""
    return bool(principal.roles_in(school_id) & BANK_EDITORS)


def may_see_bank_file(principal: Principal, school_id: str) -> bool:
    """The school's staff who see its bank (admin, supervisor, assessor, exam board) read its attachments."""
    return bool(principal.roles_in(school_id) & BANK_READERS)


def may_see_assessment_file(principal: Principal, school_id: str, file: dict[str, Any],
                            attempt: dict[str, Any] | None) -> bool:
    """An assessor's file for a part: the attempt's assessors, the exam board and the school admin."""
    roles = principal.roles_in(school_id)
    if roles & {Role.SCHOOL_ADMIN, Role.EXAM_BOARD} or principal.subject == file.get("uploaded_by"):
        return True
    return Role.ASSESSOR in roles and principal.subject in (attempt or {}).get("assessor_ids", [])


def evidence_change_refusal(attempt: dict[str, Any] | None) -> Text | None:
    """Why evidence of this attempt cannot change now, or None when it can."""
    if attempt is None:
        return Text("Deze examenpoging wordt niet uitgevoerd (er is nog geen onderdeel ingepland).",
                    "This exam attempt is not in execution (no part has been scheduled).")
    if attempt.get("state") == FINALIZED:
        at = attempt.get("finalized_at")
        when = f" sinds {at.isoformat()}" if at else ""
        when_en = f" since {at.isoformat()}" if at else ""
        return Text(f"De beoordeling van deze examenpoging is definitief{when}: de bewijsstukken zijn vergrendeld en "
                    "dit bestand telt niet mee.", f"The assessment of this exam attempt is finalized{when_en}: its "
                    "evidence is locked and this file does not count.")
    return None


def parse_tus_metadata(header: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64value` pairs; raises ValueError when malformed."""
    import base64
    import binascii

    result: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        if not key or not key.isascii() or " " in value.strip():
            raise ValueError("malformed pair")
        try:
            result[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError("value is not base64 UTF-8") from exc
    return result
