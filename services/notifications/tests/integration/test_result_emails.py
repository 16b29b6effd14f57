"""The results e-mails: a result adopted and a retake opened, to the student in their language, never the grade."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from contracts.exams import ResultAdoptedV1, RetakeOpenedV1


async def test_adopted_result_and_retake_mails_in_dutch_and_english_without_the_result(worker, sink) -> None:
    nl_student, en_student = uuid.uuid4().hex, uuid.uuid4().hex
    nl_address, en_address = f"r-{nl_student[:6]}@example.nl", f"r-{en_student[:6]}@example.com"
    users = [await worker.person(email_address=nl_address, student_id=nl_student),
             await worker.person(email_address=en_address, student_id=en_student, language="en", name="Alex Smith")]
    await worker.wait_people(*users)
    now = datetime.now(UTC)
    await worker.publish(
        ResultAdoptedV1(result_id="res-1", attempt_id="att-1", school_id=worker.school_id, student_id=nl_student,
                        exam_id="exam-1", exam_name="PvB Kerntaak 1", adopted_by="board", adopted_at=now),
        RetakeOpenedV1(attempt_id="att-2", attempt_number=2, previous_attempt_id="att-1", school_id=worker.school_id,
                       student_id=nl_student, exam_id="exam-1", exam_name="PvB Kerntaak 1", opened_by="sup",
                       opened_at=now),
        ResultAdoptedV1(result_id="res-3", attempt_id="att-3", school_id=worker.school_id, student_id=en_student,
                        exam_id="exam-1", exam_name="PvB Kerntaak 1", adopted_by="board", adopted_at=now),
        RetakeOpenedV1(attempt_id="att-4", attempt_number=3, previous_attempt_id="att-3", school_id=worker.school_id,
                       student_id=en_student, exam_id="exam-1", exam_name="PvB Kerntaak 1", opened_by="sup",
                       opened_at=now, case_id="case-1"))
    # A fresh worker first reads every earlier test's events on the shared topics: allow it time on a busy machine.
    dutch = {m["Subject"]: m for m in await sink.wait_for(nl_address, 2, timeout_s=120)}
    english = {m["Subject"]: m for m in await sink.wait_for(en_address, 2, timeout_s=120)}
    assert set(dutch) == {"Je resultaat is vastgesteld: PvB Kerntaak 1",
                          "Herkansing geopend: PvB Kerntaak 1 (examenkans 2)"}
    assert set(english) == {"Your result has been adopted: PvB Kerntaak 1",
                            "Retake opened: PvB Kerntaak 1 (attempt 3)"}
    adopted = dutch["Je resultaat is vastgesteld: PvB Kerntaak 1"].get_body(("plain",)).get_content()
    assert "Voor je privacy staat het niet in deze e-mail" in adopted
    assert f"/schools/{worker.school_id}/attempts/att-1/result" in adopted
    retake = english["Retake opened: PvB Kerntaak 1 (attempt 3)"].get_body(("plain",)).get_content()
    assert "Dear Alex Smith" in retake and "scheduled anew" in retake
    for mail in [*dutch.values(), *english.values()]:
        text = mail.get_body(("plain",)).get_content() + mail.get_body(("html",)).get_content()
        assert "res-" not in text and "cijfer" not in text.lower() and "grade" not in text.lower()
