"""In-app notifications (list, unread, mark read), preferences in effect, escaping, and the delivery log."""

from __future__ import annotations

import uuid

import httpx

from contracts import Envelope
from contracts.exams import (
    AssignmentAwaitingAdoptionV1,
    AssignmentPreparedV1,
    ExamBoardCaseDecidedV1,
    ResultAvailableV1,
)
from contracts.identity import InvitationRequestedV1, UserDeactivatedV1
from kit.auth import Role
from kit.testing.tokens import TestIssuer


async def test_notifications_list_count_and_mark_read(worker, api: httpx.AsyncClient, issuer: TestIssuer) -> None:
    approver = await worker.person(roles=["workplace_trainer"])
    await worker.wait_people(approver)
    for n in range(3):  # one key, so one partition: handled in this order
        await worker.publish(Envelope.wrap(AssignmentPreparedV1(
            assignment_id=f"as-{n}", school_id=worker.school_id, student_id="s", exam_id="e",
            exam_name=f"PvB {n}", approver_ids=[approver]), producer="exams", subject="s", school_id=worker.school_id))
    headers = issuer.headers(approver, {worker.school_id: [Role.WORKPLACE_TRAINER]})
    base = f"/v1/schools/{worker.school_id}/notifications"

    async def three(db) -> bool:
        return bool(await db.notifications.count_documents({"user_id": approver}) == 3)

    await worker.wait(three)
    first = (await api.get(base, params={"limit": 2}, headers=headers)).json()
    assert [i["title"] for i in first["items"]] == ["Examenopdracht PvB 2 wacht op je akkoord",
                                                    "Examenopdracht PvB 1 wacht op je akkoord"]
    assert first["unread_count"] == 3 and first["next_cursor"]
    rest = (await api.get(base, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)).json()
    assert [i["params"]["exam_name"] for i in rest["items"]] == ["PvB 0"] and rest["next_cursor"] is None
    english = (await api.get(base, headers={**headers, "Accept-Language": "en"})).json()
    assert english["items"][0]["title"] == "Exam assignment PvB 2 awaits your approval"

    one = first["items"][0]["id"]
    assert (await api.post(f"{base}/{one}/read", headers=headers)).status_code == 200
    assert (await api.get(f"{base}/unread-count", headers=headers)).json() == {"unread_count": 2}
    unread = (await api.get(base, params={"unread_only": True}, headers=headers)).json()["items"]
    assert one not in [i["id"] for i in unread]
    # Someone else cannot mark it.
    other = issuer.headers("someone", {worker.school_id: [Role.WORKPLACE_TRAINER]})
    assert (await api.post(f"{base}/{one}/read", headers=other)).status_code == 404
    assert (await api.post(f"{base}/read-all", headers=headers)).json()["marked"] == 2
    assert (await api.get(f"{base}/unread-count", headers=headers)).json() == {"unread_count": 0}


async def test_opted_out_emails_are_skipped_visibly_but_still_notified_in_app(
    worker, api: httpx.AsyncClient, issuer: TestIssuer, sink
) -> None:
    adopter = await worker.person(roles=["exam_board"])
    await worker.wait_people(adopter)
    headers = issuer.headers(adopter, {worker.school_id: [Role.EXAM_BOARD]})
    await api.put("/v1/me/preferences", json={"email": {"assignments": False}}, headers=headers)
    await worker.publish(AssignmentAwaitingAdoptionV1(assignment_id="as-9", school_id=worker.school_id,
                                                      student_id="s", exam_id="e", exam_name="PvB",
                                                      adopter_id=adopter))

    async def noted(db) -> bool:
        return bool(await db.deliveries.count_documents({"user_id": adopter}))

    await worker.wait(noted)
    admin = issuer.headers("admin", {worker.school_id: [Role.SCHOOL_ADMIN]})
    log = (await api.get(f"/v1/schools/{worker.school_id}/deliveries", headers=admin)).json()["items"]
    [row] = [r for r in log if r["user_id"] == adopter]
    assert row["status"] == "skipped" and row["last_error"] == "opted_out"
    notes = (await api.get(f"/v1/schools/{worker.school_id}/notifications", headers=headers)).json()
    assert notes["items"][0]["kind"] == "assignment_adoption"
    assert sink.to(f"{adopter[:10]}@example.nl") == []


async def test_templates_escape_html_and_the_log_minimises_personal_content(
    worker, api: httpx.AsyncClient, issuer: TestIssuer, sink
) -> None:
    address = f"inv-{uuid.uuid4().hex[:6]}@example.nl"
    user = uuid.uuid4().hex
    await worker.publish(InvitationRequestedV1(
        user_id=user, school_id=worker.school_id, school_name="ROC <b>Noord</b> & Co", email=address,
        display_name="<script>alert('x')</script>", language="nl",
        link="https://exam.example/invite?code=abc&x=1", expires_at="2026-12-01T12:00:00Z"))  # type: ignore[arg-type]
    [mail] = await sink.wait_for(address)
    assert mail["Subject"] == "Je inlogcode voor ROC <b>Noord</b> & Co"
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "ROC &lt;b&gt;Noord&lt;/b&gt; &amp; Co" in html
    assert 'href="https://exam.example/invite?code=abc&amp;x=1"' in html
    assert "Beste <script>alert('x')</script>," in text  # plain text is shown as is, never interpreted
    assert "geldig tot 01-12-2026 13:00" in text

    admin = issuer.headers("admin", {worker.school_id: [Role.SCHOOL_ADMIN]})
    [row] = (await api.get(f"/v1/schools/{worker.school_id}/deliveries", params={"status": "sent"},
                           headers=admin)).json()["items"]
    assert row["to"] == "i***@e***.nl" and row["kind"] == "invitation" and row["sent_at"]
    assert not ({"subject", "text", "html", "body"} & set(row))
    other_school = (await api.get("/v1/schools/elsewhere/deliveries",
                                  headers=issuer.headers("admin2", {"elsewhere": [Role.SCHOOL_ADMIN]}))).json()
    assert other_school["items"] == []


async def test_board_decision_tells_the_student_without_the_decision(worker, sink) -> None:
    student_id = uuid.uuid4().hex
    address = f"eb-{student_id[:6]}@example.nl"
    await worker.wait_people(await worker.person(email_address=address, student_id=student_id))
    await worker.publish(ExamBoardCaseDecidedV1(case_id="c1", school_id=worker.school_id, student_id=student_id,
                                                kind="objection", decided_at="2026-11-20T10:00:00Z"))  # type: ignore[arg-type]
    [mail] = await sink.wait_for(address)
    assert mail["Subject"] == "De examencommissie heeft een besluit genomen"
    assert "besluit genomen over je bezwaar" in mail.get_body(("plain",)).get_content()


async def test_a_deactivated_person_gets_no_email_and_the_log_says_why(
    worker, api: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    student_id = uuid.uuid4().hex
    user = await worker.person(student_id=student_id)
    await worker.wait_people(user)
    await worker.publish(UserDeactivatedV1(user_id=user, school_id=worker.school_id))

    async def deactivated(db) -> bool:
        return bool(await db.people.count_documents({"_id": user, "inactive_schools": worker.school_id}))

    await worker.wait(deactivated)
    await worker.publish(ResultAvailableV1(attempt_id="a", school_id=worker.school_id, student_id=student_id,
                                           exam_id="e", exam_name="PvB"))

    async def logged(db) -> bool:
        return bool(await db.deliveries.count_documents({"user_id": user}))

    await worker.wait(logged)
    admin = issuer.headers("admin", {worker.school_id: [Role.SCHOOL_ADMIN]})
    [row] = (await api.get(f"/v1/schools/{worker.school_id}/deliveries", params={"status": "skipped"},
                           headers=admin)).json()["items"]
    assert row["user_id"] == user and row["last_error"] == "inactive"
