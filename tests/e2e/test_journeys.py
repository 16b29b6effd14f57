"""Journeys across services through the gateway, as a school lives them."""

import time

import httpx
import pytest

from kit.local.stack import Stack

pytestmark = pytest.mark.e2e


def login(gateway: httpx.Client, email: str, password: str) -> dict[str, str]:
    r = gateway.post("/identity/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def mail_to(suite: Stack, address: str, subject_part: str, timeout_s: float = 30) -> list[dict]:
    """The e-mails the SMTP sink received for an address whose subject contains subject_part."""
    deadline = time.monotonic() + timeout_s
    while True:
        messages = httpx.get(f"http://127.0.0.1:{suite.ports['smtp_http']}/messages").json()
        found = [m for m in messages if m["to"] == address and subject_part in (m["subject"] or "")]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_everyone_invited_got_their_login_code_by_mail(suite: Stack, school: dict) -> None:
    for account in school["accounts"]:
        assert mail_to(suite, account, "inlogcode"), account


def test_identity_tokens_work_in_other_services_and_respect_schools(gateway: httpx.Client, school: dict) -> None:
    supervisor = login(gateway, "begeleider@demo-roc.example", school["password"])
    students = gateway.get(f"/enrollment/v1/schools/{school['school_id']}/students", headers=supervisor)
    assert students.status_code == 200
    assert sorted(s["student_code"] for s in students.json()["items"]) == ["100001", "100002", "100003"]
    other_school = gateway.get("/enrollment/v1/schools/sch_elsewhere/students", headers=supervisor)
    assert other_school.status_code == 403
    assert gateway.get(f"/enrollment/v1/schools/{school['school_id']}/students").status_code == 401


def test_a_student_messages_their_supervisor_who_is_told_by_mail(
    suite: Stack, gateway: httpx.Client, school: dict
) -> None:
    student = login(gateway, "jan.100001@student.demo-roc.example", school["password"])
    sid = school["school_id"]
    deadline = time.monotonic() + 30
    while True:  # notifications learns the links from enrollment's events
        reach = gateway.get(f"/notifications/v1/schools/{sid}/messages/recipients", headers=student).json()
        if reach.get("items") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    supervisor_ids = [p["user_id"] for p in reach["items"]]
    assert len(supervisor_ids) == 1
    sent = gateway.post(f"/notifications/v1/schools/{sid}/messages", headers=student, json={
        "recipient_ids": supervisor_ids, "subject": "Vraag over mijn PvB", "body": "Wanneer is de observatie?"})
    assert sent.status_code == 201, sent.text
    supervisor = login(gateway, "begeleider@demo-roc.example", school["password"])
    inbox = gateway.get(f"/notifications/v1/schools/{sid}/messages", headers=supervisor).json()
    assert any(m["subject"] == "Vraag over mijn PvB" for m in inbox["items"])
    mails = mail_to(suite, "begeleider@demo-roc.example", "bericht")
    assert mails and "Wanneer is de observatie?" not in httpx.get(
        f"http://127.0.0.1:{suite.ports['smtp_http']}/messages/{mails[-1]['id']}").text


def test_viewing_as_the_student_is_read_only_everywhere(gateway: httpx.Client, school: dict) -> None:
    sid = school["school_id"]
    supervisor = login(gateway, "begeleider@demo-roc.example", school["password"])
    students = gateway.get(f"/enrollment/v1/schools/{sid}/students", headers=supervisor).json()["items"]
    jan = next(s for s in students if s["student_code"] == "100001")
    view = gateway.post(f"/identity/v1/schools/{sid}/students/{jan['id']}/view-as", headers=supervisor)
    assert view.status_code == 200, view.text
    as_jan = {"Authorization": f"Bearer {view.json()['access_token']}"}
    own = gateway.get(f"/enrollment/v1/schools/{sid}/students/{jan['id']}", headers=as_jan)
    assert own.status_code == 200 and own.json()["student_code"] == "100001"
    change = gateway.patch(f"/enrollment/v1/schools/{sid}/students/{jan['id']}", headers=as_jan,
                           json={"first_name": "Niet"})
    assert change.status_code == 403 and "alleen lezen" in change.json()["detail"]  # Dutch by default
    write = gateway.post(f"/notifications/v1/schools/{sid}/messages", headers=as_jan, json={
        "recipient_ids": ["x"], "subject": "namens jou", "body": "niet toegestaan"})
    assert write.status_code == 403
    # private correspondence stays private, even to a supervisor looking along
    assert gateway.get(f"/notifications/v1/schools/{sid}/messages", headers=as_jan).status_code == 403
    admin = login(gateway, "admin@demo-roc.example", school["password"])
    audit = gateway.get(f"/identity/v1/schools/{sid}/audit", headers=admin, params={"action": "view_as_student"})
    assert audit.json()["items"][0]["target"] == jan["id"]
