"""Exam-board case e-mails through the real worker and SMTP sink: the board hears of a new case (never who it
is about), the student that it is handled and, later, decided — each in their own language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from contracts.exams import ExamBoardCaseDecidedV1, ExamBoardCaseOpenedV1


async def test_a_students_request_mails_the_board_and_the_student_then_the_decision(worker, sink) -> None:
    tag = uuid.uuid4().hex[:6]
    student_id = uuid.uuid4().hex
    student = await worker.person(email_address=f"stu-{tag}@example.nl", student_id=student_id,
                                  name="Jan Jansen")
    member = await worker.person(email_address=f"ec1-{tag}@example.nl", roles=["exam_board"])
    english = await worker.person(email_address=f"ec2-{tag}@example.nl", roles=["exam_board", "assessor"],
                                  language="en")
    await worker.person(email_address=f"adm-{tag}@example.nl", roles=["school_admin"])
    await worker.wait_people(student, member, english)
    deadline = datetime(2026, 12, 28, 22, 59, 59, 999000, tzinfo=UTC)
    await worker.publish(ExamBoardCaseOpenedV1(
        case_id="case_1", school_id=worker.school_id, student_id=student_id, kind="objection", exam_id="exm_1",
        opened_by=student, opened_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC), deadline=deadline))

    [to_member] = await sink.wait_for(f"ec1-{tag}@example.nl")
    [to_english] = await sink.wait_for(f"ec2-{tag}@example.nl")
    [to_student] = await sink.wait_for(f"stu-{tag}@example.nl")
    assert to_member["Subject"] == "Nieuwe zaak voor de examencommissie: bezwaar"
    assert "Besluit uiterlijk 28-12-2026 23:59" in to_member.get_body(("plain",)).get_content()
    assert to_english["Subject"] == "New case for the exam board: objection"
    for mail in (to_member, to_english):
        body = mail.get_body(("plain",)).get_content()
        assert "Jan Jansen" not in body and student_id not in body
        assert f"https://exam.example/schools/{worker.school_id}/exam-board/cases/case_1" in body
    assert to_student["Subject"] == "De examencommissie behandelt je zaak: bezwaar"
    assert "heeft je verzoek (bezwaar) ontvangen" in to_student.get_body(("plain",)).get_content()
    assert sink.to(f"adm-{tag}@example.nl") == []

    await worker.publish(ExamBoardCaseDecidedV1(
        case_id="case_1", school_id=worker.school_id, student_id=student_id, kind="objection",
        decided_at=datetime(2026, 12, 10, 9, 0, tzinfo=UTC), outcome="amended", decided_by=member))
    [_, decided] = await sink.wait_for(f"stu-{tag}@example.nl", count=2)
    text = decided.get_body(("plain",)).get_content()
    assert decided["Subject"] == "De examencommissie heeft een besluit genomen"
    assert "besluit genomen over je bezwaar" in text and "amended" not in text


async def test_a_case_the_board_opens_tells_the_student_but_not_the_member_who_opened_it(worker, sink) -> None:
    tag = uuid.uuid4().hex[:6]
    student_id = uuid.uuid4().hex
    student = await worker.person(email_address=f"stu-{tag}@example.nl", student_id=student_id, language="en")
    opener = await worker.person(email_address=f"ec1-{tag}@example.nl", roles=["exam_board"])
    other = await worker.person(email_address=f"ec2-{tag}@example.nl", roles=["exam_board"])
    await worker.wait_people(student, opener, other)
    await worker.publish(ExamBoardCaseOpenedV1(
        case_id="case_2", school_id=worker.school_id, student_id=student_id, kind="fraud", exam_id="exm_1",
        opened_by=opener, opened_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
        deadline=datetime(2026, 12, 28, 22, 59, 59, tzinfo=UTC)))
    [to_student] = await sink.wait_for(f"stu-{tag}@example.nl")
    await sink.wait_for(f"ec2-{tag}@example.nl")
    assert "opened a case about you (irregularity or fraud)" in to_student.get_body(("plain",)).get_content()
    assert sink.to(f"ec1-{tag}@example.nl") == []


async def test_board_members_from_before_the_role_index_are_found_once_migrated(settings) -> None:
    from kit.mongo import create_client
    from notifications import repository as repo
    from notifications.migrations import backfill_school_roles

    client = create_client(settings)
    try:
        db = client[settings.database]
        await repo.ensure_indexes(db)
        await db.people.insert_many([
            {"_id": "old-board", "email": "b@example.nl", "schools": {"sch-a": ["exam_board"], "sch-b": ["assessor"]}},
            {"_id": "old-admin", "email": "a@example.nl", "schools": {"sch-a": ["school_admin"]}}])
        assert await repo.holders_of_role(db, "sch-a", "exam_board") == []
        assert await backfill_school_roles(db) == 3
        assert await repo.holders_of_role(db, "sch-a", "exam_board") == ["old-board"]
        assert await repo.holders_of_role(db, "sch-b", "exam_board") == []
        assert await backfill_school_roles(db) == 0  # done once
    finally:
        await client.close()
