"""Events published by the evidence service (topic evidence.events)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.registry import register

FileKind = Literal["evidence", "assignment_attachment", "library", "message_attachment", "bank_attachment",
                   "assessment_attachment", "case_document"]


@register
class FileUploadedV1(Event):
    """A file was stored completely (its SHA-256 checked); the bytes live in S3, never in the event."""

    TYPE = "evidence.file_uploaded"
    VERSION = 1
    SUBJECT = "file_id"
    file_id: str
    school_id: str
    kind: FileKind
    uploaded_by: str
    student_id: str | None = None
    attempt_id: str | None = None
    assignment_id: str | None = None
    bank_assignment_id: str | None = Field(default=None, description="The bank entry of a bank_attachment")
    part_id: str | None = Field(default=None, description="The attempt's part of an assessment_attachment")
    case_id: str | None = Field(default=None, description="The exam-board case of a case_document")
    filename: str = Field(max_length=255)
    content_type: str
    size: int = Field(ge=0)
    sha256: str = Field(min_length=64, max_length=64)


@register
class FileWithdrawnV1(Event):
    """The uploader withdrew a file before the assessment was finalized: hidden and kept, never deleted."""

    TYPE = "evidence.file_withdrawn"
    VERSION = 1
    SUBJECT = "file_id"
    file_id: str
    school_id: str
    withdrawn_by: str


@register
class EvidenceLockedV1(Event):
    """The assessment of an attempt was finalized: its evidence can no longer be added, replaced or withdrawn."""

    TYPE = "evidence.evidence_locked"
    VERSION = 1
    SUBJECT = "attempt_id"
    attempt_id: str
    school_id: str
    student_id: str
    file_ids: list[str]
    locked_at: datetime
