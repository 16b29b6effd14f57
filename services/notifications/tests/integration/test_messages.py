"""Messages between a student and their linked supervisors, with the e-mail and in-app notice they cause."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

import httpx
import pytest

from contracts.enrollment import PersonLinkedV1, PersonUnlinkedV1, StudentArchivedV1
from contracts.evidence import FileUploadedV1
from kit.auth import Role
from kit.testing.outbox import staged_events
from kit.testing.tokens import TestIssuer


@dataclass
class Class:
    """A student, their linked supervisor, an unlinked supervisor and headers for each."""

    school: str
    student: str
    student_id: str
    supervisor: str
    stranger: str
    h_student: dict[str, str]
    h_supervisor: dict[str, str]
    h_stranger: dict[str, str]
    student_mail: str
    supervisor_mail: str


@pytest.fixture
async def klas(worker, issuer: TestIssuer) -> Class:
    student_id = uuid.uuid4().hex
    tag = student_id[:6]
    student = await worker.person(email_address=f"st-{tag}@example.nl", name="Sanne Student",
                                  student_id=student_id)
    supervisor = await worker.person(email_address=f"sv-{tag}@example.nl", name="Piet Begeleider",
                                     roles=["school_supervisor"], language="en")
    stranger = await worker.person(email_address=f"x-{tag}@example.nl", roles=["school_supervisor"])
    await worker.publish(PersonLinkedV1(student_id=student_id, school_id=worker.school_id, user_id=supervisor,
                                        relation="school_supervisor"))
    await worker.wait_people(student, supervisor, stranger)

    async def linked(db) -> bool:
        return bool(await db.links.count_documents({"student_id": student_id}))

    await worker.wait(linked)
    s = worker.school_id
    return Class(s, student, student_id, supervisor, stranger,
                 issuer.headers(student, {s: [Role.STUDENT]}),
                 issuer.headers(supervisor, {s: [Role.SCHOOL_SUPERVISOR]}),
                 issuer.headers(stranger, {s: [Role.SCHOOL_SUPERVISOR]}), f"st-{tag}@example.nl",
                 f"sv-{tag}@example.nl")


async def test_a_conversation_between_a_student_and_their_supervisor(
    klas: Class, api: httpx.AsyncClient, sink
) -> None:
    base = f"/v1/schools/{klas.school}"
    who = await api.get(f"{base}/messages/recipients", headers=klas.h_student)
    assert who.json()["items"] == [{"user_id": klas.supervisor, "display_name": "Piet Begeleider"}]

    sent = await api.post(f"{base}/messages", headers=klas.h_student,
                          json={"recipient_ids": [klas.supervisor], "subject": "Vraag over de PvB",
                                "body": "Mag ik de observatie verplaatsen?"})
    assert sent.status_code == 201, sent.text
    message = sent.json()
    thread = message["thread_id"]

    counts = await api.get(f"{base}/messages/unread-count", headers=klas.h_supervisor)
    assert counts.json() == {"unread_count": 1, "total": 1}
    inbox = (await api.get(f"{base}/messages", headers=klas.h_supervisor)).json()["items"]
    assert [(m["subject"], m["body"], m["read"]) for m in inbox] == [
        ("Vraag over de PvB", "Mag ik de observatie verplaatsen?", False)]
    outbox = (await api.get(f"{base}/messages", params={"box": "sent"}, headers=klas.h_student)).json()["items"]
    assert [m["id"] for m in outbox] == [message["id"]]

    # The supervisor hears of it by e-mail (in their language, without the body) and in the platform.
    [mail] = await sink.wait_for(klas.supervisor_mail)
    assert mail["Subject"] == "New message from Sanne Student"
    assert "Mag ik" not in mail.get_body(("plain",)).get_content()
    notes = (await api.get(f"{base}/notifications", headers=klas.h_supervisor)).json()
    assert notes["unread_count"] == 1 and notes["items"][0]["kind"] == "new_message"

    # A reply in the thread goes back to the student without naming them again.
    reply = await api.post(f"{base}/messages", headers=klas.h_supervisor,
                           json={"thread_id": thread, "subject": "Re: Vraag over de PvB", "body": "Ja, prima."})
    assert reply.status_code == 201 and reply.json()["recipient_ids"] == [klas.student]
    threads = (await api.get(f"{base}/threads", headers=klas.h_student)).json()["items"]
    assert [(t["id"], t["unread_count"]) for t in threads] == [(thread, 1)]
    conversation = (await api.get(f"{base}/threads/{thread}", headers=klas.h_student)).json()
    assert [(m["body"], m["box"]) for m in conversation["messages"]] == [
        ("Mag ik de observatie verplaatsen?", "sent"), ("Ja, prima.", "inbox")]
    assert (await api.post(f"{base}/threads/{thread}/read", headers=klas.h_student)).json()["marked"] == 1
    assert (await api.get(f"{base}/messages/unread-count", headers=klas.h_student)).json()["unread_count"] == 0
    assert (await api.post(f"{base}/messages/{message['id']}/read", headers=klas.h_supervisor)).status_code == 200
    assert (await api.get(f"{base}/messages/unread-count", headers=klas.h_supervisor)).json()["unread_count"] == 0
    [student_mail] = await sink.wait_for(klas.student_mail)
    assert student_mail["Subject"] == "Nieuw bericht van Piet Begeleider"

    # Someone outside the thread can not read it.
    assert (await api.get(f"{base}/threads/{thread}", headers=klas.h_stranger)).status_code == 404


async def test_messages_to_people_outside_your_reach_are_refused_naming_them(
    klas: Class, api: httpx.AsyncClient, worker
) -> None:
    base = f"/v1/schools/{klas.school}"
    refused = await api.post(f"{base}/messages", headers=klas.h_student,
                             json={"recipient_ids": [klas.supervisor, klas.stranger], "subject": "Hoi", "body": "x"})
    assert refused.status_code == 403
    problem = refused.json()
    assert problem["recipients_outside_reach"] == [klas.stranger]
    assert problem["errors"] == [{"field": "recipient_ids[1]", "reason": f"{klas.stranger} is outside your reach"}]
    # Nothing was half-written: the linked supervisor got nothing either.
    counts = await api.get(f"{base}/messages/unread-count", headers=klas.h_supervisor)
    assert counts.json()["total"] == 0

    # An unlinked supervisor cannot write to the student.
    assert (await api.post(f"{base}/messages", headers=klas.h_stranger,
                           json={"recipient_ids": [klas.student], "subject": "Hoi", "body": "x"})).status_code == 403
    # After unlinking, the former supervisor is out of reach too.
    await worker.publish(PersonUnlinkedV1(student_id=klas.student_id, school_id=klas.school, user_id=klas.supervisor,
                                          relation="school_supervisor"))

    async def unlinked(db) -> bool:
        return not await db.links.count_documents({"student_id": klas.student_id})

    await worker.wait(unlinked)
    gone = await api.post(f"{base}/messages", headers=klas.h_supervisor,
                          json={"recipient_ids": [klas.student], "subject": "Hoi", "body": "x"})
    assert gone.status_code == 403


async def test_bad_message_input_is_named(klas: Class, api: httpx.AsyncClient) -> None:
    base = f"/v1/schools/{klas.school}"
    cases = [
        ({"recipient_ids": [klas.supervisor], "subject": "", "body": "x"}, "subject"),
        ({"recipient_ids": [klas.supervisor], "subject": "  ", "body": "x"}, "subject"),
        ({"recipient_ids": [klas.supervisor], "subject": "s", "body": "x" * 20_001}, "body"),
        ({"recipient_ids": "nope", "subject": "s", "body": "x"}, "recipient_ids"),
        ({"subject": "s", "body": "x"}, "recipient_ids"),
        ({"recipient_ids": [klas.supervisor], "subject": "s", "body": "x", "extra": 1}, "extra"),
        ({"recipient_ids": [klas.supervisor], "subject": "s", "body": "x", "attachment_ids": ["nope"]},
         "attachment_ids[0]"),
    ]
    for body, field in cases:
        response = await api.post(f"{base}/messages", headers=klas.h_student, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.json())
    unknown_thread = await api.post(f"{base}/messages", headers=klas.h_student,
                                    json={"thread_id": "nope", "subject": "s", "body": "x"})
    assert unknown_thread.status_code == 404
    bad_cursor = await api.get(f"{base}/messages", params={"cursor": "zzz"}, headers=klas.h_student)
    assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["field"] == "cursor"


async def test_attachments_are_files_the_sender_uploaded_as_message_attachment(
    klas: Class, api: httpx.AsyncClient, worker
) -> None:
    own, foreign = uuid.uuid4().hex, uuid.uuid4().hex
    for file_id, uploader in ((own, klas.student), (foreign, klas.supervisor)):
        await worker.publish(FileUploadedV1(file_id=file_id, school_id=klas.school, kind="message_attachment",
                                            uploaded_by=uploader, filename="verslag.pdf",
                                            content_type="application/pdf", size=1234, sha256="a" * 64))

    async def known(db) -> bool:
        return bool(await db.attachments.count_documents({"_id": {"$in": [own, foreign]}}) == 2)

    await worker.wait(known)
    base = f"/v1/schools/{klas.school}"
    refused = await api.post(f"{base}/messages", headers=klas.h_student, json={
        "recipient_ids": [klas.supervisor], "subject": "s", "body": "b", "attachment_ids": [own, foreign]})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["attachment_ids[1]"]
    sent = await api.post(f"{base}/messages", headers=klas.h_student, json={
        "recipient_ids": [klas.supervisor], "subject": "s", "body": "b", "attachment_ids": [own]})
    assert sent.status_code == 201
    inbox = (await api.get(f"{base}/messages", headers=klas.h_supervisor)).json()["items"]
    assert inbox[0]["attachments"] == [{"file_id": own, "filename": "verslag.pdf",
                                        "content_type": "application/pdf", "size": 1234}]
    # evidence learns from this event that the recipient may download the attachment
    sent_events = await staged_events(api._transport.app.state.db, "notifications.message_sent")  # type: ignore[attr-defined]
    assert [e["data"] for e in sent_events] == [{
        "message_id": sent.json()["id"], "school_id": klas.school, "sender_id": klas.student,
        "recipient_ids": [klas.supervisor], "attachment_ids": [own]}]


async def test_sending_is_idempotent_with_an_idempotency_key(klas: Class, api: httpx.AsyncClient) -> None:
    base = f"/v1/schools/{klas.school}"
    body = {"recipient_ids": [klas.supervisor], "subject": "Eén keer", "body": "b"}
    headers = {**klas.h_student, "Idempotency-Key": "msg-1"}
    first = await api.post(f"{base}/messages", headers=headers, json=body)
    again = await api.post(f"{base}/messages", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert (await api.get(f"{base}/messages/unread-count", headers=klas.h_supervisor)).json()["total"] == 1


async def test_an_archived_student_is_out_of_reach(klas: Class, api: httpx.AsyncClient, worker) -> None:
    base = f"/v1/schools/{klas.school}"
    before = await api.get(f"{base}/messages/recipients", headers=klas.h_supervisor)
    assert [r["user_id"] for r in before.json()["items"]] == [klas.student]
    await worker.publish(StudentArchivedV1(student_id=klas.student_id, school_id=klas.school))

    async def archived(db) -> bool:
        return bool(await db.students.count_documents({"_id": klas.student_id, "archived": True}))

    await worker.wait(archived)
    assert (await api.get(f"{base}/messages/recipients", headers=klas.h_supervisor)).json()["items"] == []
    refused = await api.post(f"{base}/messages", headers=klas.h_supervisor,
                             json={"recipient_ids": [klas.student], "subject": "Hoi", "body": "x"})
    assert refused.status_code == 403 and refused.json()["recipients_outside_reach"] == [klas.student]


async def test_control_characters_are_refused_and_nothing_personal_is_logged(
    klas: Class, api: httpx.AsyncClient, sink, caplog: pytest.LogCaptureFixture
) -> None:
    """One bad value never reaches the store; names, addresses and message text never reach a log line."""
    caplog.set_level(logging.DEBUG)
    base = f"/v1/schools/{klas.school}/messages"
    for field, fields in [("subject", {"subject": "Vraag\x0e", "body": "x"}),
                          ("body", {"subject": "Vraag", "body": "tekst\x00"}),
                          ("thread_id", {"subject": "Vraag", "body": "x", "thread_id": "t\x1b[2J"})]:
        refused = await api.post(base, json={"recipient_ids": [klas.supervisor], **fields}, headers=klas.h_student)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text
    text = "Regel een\nRegel twee\tmet een tab"
    sent = await api.post(base, json={"recipient_ids": [klas.supervisor], "subject": "Vraag over mijn PvB",
                                      "body": text}, headers=klas.h_student)
    assert sent.status_code == 201 and sent.json()["body"] == text  # line breaks and tabs are text
    await sink.wait_for(klas.supervisor_mail)
    for _ in range(100):  # the sender logs "e-mail sent" just after the sink accepted it
        if "notifications.delivery" in {r.name for r in caplog.records}:
            break
        await asyncio.sleep(0.05)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)  # message and extra fields
    assert {"notifications.delivery", "httpx"} <= {r.name for r in caplog.records}  # the service logged here
    for personal in ("Sanne", "Piet", klas.student_mail, klas.supervisor_mail, "Vraag over mijn PvB", "Regel een"):
        assert personal not in logged, personal
