"""Documents of exam-board cases (e.g. for an exemption): uploaded by the case's student or the board while the
case is open, read only by them, announced to exams with the case id."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from contracts.enrollment import PersonLinkedV1
from contracts.exams import ExamBoardCaseDecidedV1, ExamBoardCaseOpenedV1
from evidence.settings import EvidenceSettings
from kit.auth import Role
from kit.mongo import Client

from .conftest import World
from .test_bank_attachments import uploaded_events

PDF = b"%PDF-1.4 diploma Verzorgende-IG niveau 3" * 20


async def opened(world: World, student_id: str, case_id: str = "case-1") -> None:
    await world.feed(ExamBoardCaseOpenedV1(
        case_id=case_id, school_id=world.school, student_id=student_id, kind="exemption", exam_id="exm-1",
        opened_by="someone", opened_at=datetime.now(UTC), deadline=datetime.now(UTC)))


async def test_the_student_and_the_board_add_documents_only_they_read(
        client: httpx.AsyncClient, world: World, mongo_client: Client, settings: EvidenceSettings) -> None:
    student = await world.student()
    await opened(world, student.student_id)
    url = f"/v1/schools/{world.school}/cases/case-1/documents?filename=diploma.pdf"
    r = await client.post(url, content=PDF, headers=student.headers)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert (doc["kind"], doc["case_id"], doc["student_id"]) == ("case_document", "case-1", student.student_id)
    assert doc["retention_class"] == "exam_documentation" and doc["content_type"] == "application/pdf"
    board = world.headers([Role.EXAM_BOARD])
    assert (await client.post(url, content=b"verklaring", headers=board)).status_code == 201

    other = await world.student()
    assert (await client.post(url, content=PDF, headers=other.headers)).status_code == 404
    supervisor = world.headers([Role.SCHOOL_SUPERVISOR], user_id="sup-1")
    await world.feed(PersonLinkedV1(student_id=student.student_id, school_id=world.school, user_id="sup-1",
                                    relation="school_supervisor"))
    assert (await client.post(url, content=PDF, headers=supervisor)).status_code == 403
    file_url = f"/v1/schools/{world.school}/files/{doc['id']}"
    assert (await client.get(file_url, headers=student.headers)).status_code == 200
    assert (await client.get(file_url, headers=board)).status_code == 200
    for outsider in (other.headers, supervisor, world.headers([Role.ASSESSOR])):
        assert (await client.get(file_url, headers=outsider)).status_code == 404
    elsewhere = world.headers([Role.EXAM_BOARD, Role.STUDENT], school="another-school")
    assert (await client.post(url, content=PDF, headers=elsewhere)).status_code == 403
    assert (await client.post("/v1/schools/another-school/cases/case-1/documents?filename=x.pdf", content=PDF,
                              headers=elsewhere)).status_code == 404  # the case is not that school's

    events = await uploaded_events(mongo_client, settings)
    assert [(e["kind"], e["case_id"]) for e in events] == [("case_document", "case-1")] * 2

    await world.feed(ExamBoardCaseDecidedV1(case_id="case-1", school_id=world.school, student_id=student.student_id,
                                            kind="exemption", decided_at=datetime.now(UTC)))
    await opened(world, student.student_id)  # a replayed opening does not reopen it
    r = await client.post(url, content=PDF, headers={**student.headers, "Accept-Language": "en"})
    assert r.status_code == 409 and "decided" in r.json()["detail"]
