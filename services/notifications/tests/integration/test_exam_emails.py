"""E-mails and in-app notifications from other services' events, through the real worker and SMTP sink."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from contracts import Envelope, dead_letter_topic
from contracts.exams import AssignmentPreparedV1, ExamPartScheduledV1, ResultAvailableV1
from contracts.identity import PasswordResetRequestedV1
from kit.auth import Role
from kit.testing.kafka import read_topic
from kit.testing.tokens import TestIssuer


def scheduled(school_id: str, student_id: str, first: str, second: str | None = None,
              exam_name: str = "PvB Kerntaak 1") -> ExamPartScheduledV1:
    return ExamPartScheduledV1(
        attempt_id=uuid.uuid4().hex, attempt_number=1, school_id=school_id, student_id=student_id,
        exam_id="exam-1", exam_name=exam_name, part_id="part-1", part_name="Observatie",
        starts_at=datetime(2026, 12, 1, 8, 30, tzinfo=UTC), location="Bakkerij Jansen",
        first_assessor_id=first, second_assessor_id=second)


async def test_scheduling_mails_the_student_and_assessors_each_in_their_language(
    worker, sink, api: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    student_id = uuid.uuid4().hex
    student = await worker.person(email_address=f"s-{student_id[:6]}@example.nl", student_id=student_id)
    first = await worker.person(email_address=f"a-{student_id[:6]}@example.nl", roles=["assessor"])
    second = await worker.person(email_address=f"b-{student_id[:6]}@bedrijf.example", roles=["assessor"],
                                 language="en", name="Alex Smith")
    await worker.wait_people(student, first, second)
    await worker.publish(scheduled(worker.school_id, student_id, first, second))

    [to_student] = await sink.wait_for(f"s-{student_id[:6]}@example.nl")
    [to_first] = await sink.wait_for(f"a-{student_id[:6]}@example.nl")
    [to_second] = await sink.wait_for(f"b-{student_id[:6]}@bedrijf.example")
    assert to_student["Subject"] == "Ingepland: PvB Kerntaak 1 - Observatie op 01-12-2026 09:30"
    assert to_second["Subject"] == "Scheduled: PvB Kerntaak 1 - Observatie on 2026-12-01 09:30"
    text = to_student.get_body(("plain",)).get_content()
    html = to_student.get_body(("html",)).get_content()
    assert "Beste Sam de Vries" in text and "Locatie: Bakkerij Jansen" in text and "Examenkans: 1" in text
    assert "Je bent examinator" in to_first.get_body(("plain",)).get_content()
    assert "https://exam.example/schools/" in html and "<li>Onderdeel: Observatie</li>" in html
    assert "Dear Alex Smith" in to_second.get_body(("plain",)).get_content()

    # The same people see it in the platform.
    listing = await api.get(f"/v1/schools/{worker.school_id}/notifications",
                            headers=issuer.headers(student, {worker.school_id: [Role.STUDENT]}))
    assert listing.status_code == 200
    body = listing.json()
    assert body["unread_count"] == 1
    assert body["items"][0]["title"] == "PvB Kerntaak 1 - Observatie is ingepland op 01-12-2026 09:30"
    english = await api.get(f"/v1/schools/{worker.school_id}/notifications",
                            headers={**issuer.headers(second, {worker.school_id: [Role.ASSESSOR]})})
    assert english.json()["items"][0]["title"] == "PvB Kerntaak 1 - Observatie is scheduled on 2026-12-01 09:30"


async def test_the_same_event_twice_sends_one_email(worker, sink) -> None:
    student_id = uuid.uuid4().hex
    address = f"dup-{student_id[:6]}@example.nl"
    student = await worker.person(email_address=address, student_id=student_id)
    await worker.wait_people(student)
    event = ResultAvailableV1(attempt_id="att-1", school_id=worker.school_id, student_id=student_id,
                              exam_id="exam-1", exam_name="PvB Kerntaak 2")
    env = Envelope.wrap(event, producer="exams", subject="att-1", school_id=worker.school_id)
    await worker.publish(env, env)
    # A later event for the same person proves the duplicate was consumed before we count.
    await worker.publish(ResultAvailableV1(attempt_id="att-2", school_id=worker.school_id, student_id=student_id,
                                           exam_id="exam-2", exam_name="PvB Kerntaak 3"))
    mails = await sink.wait_for(address, 2)
    assert sorted(m["Subject"] for m in mails) == ["Er is een resultaat beschikbaar: PvB Kerntaak 2",
                                                   "Er is een resultaat beschikbaar: PvB Kerntaak 3"]
    body = mails[0].get_body(("plain",)).get_content()
    assert "Voor je privacy staat het niet in deze e-mail" in body


async def test_events_about_unknown_people_go_to_the_dead_letter_topic_with_the_reason(worker, sink) -> None:
    known = await worker.person(roles=["school_supervisor"])
    await worker.wait_people(known)
    ghost_student, ghost_user = uuid.uuid4().hex, uuid.uuid4().hex
    bad_schedule, bad_prepare = await worker.publish(
        scheduled(worker.school_id, ghost_student, known),
        AssignmentPreparedV1(assignment_id="as-1", school_id=worker.school_id, student_id=ghost_student,
                             exam_id="e", exam_name="PvB", approver_ids=[known, ghost_user]))
    # Other tests' events about people this worker never heard of are parked here too (shared topics).
    reasons: dict = {}
    for _ in range(20):
        parked = await read_topic(worker.settings.kafka_bootstrap, dead_letter_topic(worker.settings.service),
                                  count=1000, timeout_s=1.0)
        reasons = {Envelope.from_bytes(r.value).event_id: dict(r.headers)["dlt.error"].decode() for r in parked}
        if {bad_schedule.event_id, bad_prepare.event_id} <= set(reasons):
            break
    assert reasons[bad_schedule.event_id] == f"unprocessable: unknown student: {ghost_student}"
    assert reasons[bad_prepare.event_id] == f"unprocessable: unknown person: {ghost_user}"


async def test_password_reset_is_a_security_email_that_always_goes(
    worker, sink, api: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    user = await worker.person(roles=["student"])
    await worker.wait_people(user)
    everything_off = {"assignments": False, "scheduling": False, "results": False, "exam_board": False,
                      "messages": False}
    saved = await api.put("/v1/me/preferences", json={"language": "en", "email": everything_off},
                          headers=issuer.headers(user, {worker.school_id: [Role.STUDENT]}))
    assert saved.status_code == 200
    address = f"reset-{user[:6]}@example.nl"
    await worker.publish(PasswordResetRequestedV1(
        user_id=user, email=address, display_name="Sam", language="nl",
        link="https://exam.example/reset?token=abc", expires_at=datetime.now(UTC) + timedelta(hours=1)))
    [mail] = await sink.wait_for(address)
    assert mail["Subject"] == "Choose a new password"  # the preferred language wins over the account's
    assert "https://exam.example/reset?token=abc" in mail.get_body(("plain",)).get_content()
