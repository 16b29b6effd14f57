"""Typed route dependencies of the evidence service: its settings and S3 clients, declared in signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from minio import Minio

from evidence.settings import EvidenceSettings
from kit.auth import Principal, Role, require_roles
from kit.deps import app_state

Config = Annotated[EvidenceSettings, Depends(app_state("settings"))]
S3 = Annotated[Minio, Depends(app_state("s3"))]
PublicS3 = Annotated[Minio, Depends(app_state("public_s3"))]

Anyone = Annotated[Principal, Depends(require_roles(*Role))]
Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
Supervisor = Annotated[Principal, Depends(require_roles(Role.SCHOOL_SUPERVISOR))]
SchoolAdmin = Annotated[Principal, Depends(require_roles(Role.SCHOOL_ADMIN))]
Messenger = Annotated[Principal, Depends(require_roles(Role.STUDENT, Role.SCHOOL_SUPERVISOR))]
Uploader = Annotated[Principal, Depends(require_roles(Role.STUDENT, Role.SCHOOL_SUPERVISOR, Role.SCHOOL_ADMIN,
                                                     Role.ASSESSOR, Role.EXAM_BOARD))]
BankEditor = Annotated[Principal, Depends(require_roles(Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR))]
Assessor = Annotated[Principal, Depends(require_roles(Role.ASSESSOR))]
CaseParty = Annotated[Principal, Depends(require_roles(Role.STUDENT, Role.EXAM_BOARD))]
Auditor = Annotated[Principal, Depends(require_roles(Role.SCHOOL_ADMIN, Role.EXAM_BOARD))]
