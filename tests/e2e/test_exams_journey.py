"""The first half of a practical exam through the gateway, with every process running.

The operator publishes an exam for the demo school's programme; the supervisor prepares Jan's assignment;
Jan, the supervisor and the workplace trainer approve (each is asked by e-mail); the exam board's adopter is
asked by e-mail and adopts; the supervisor schedules the parts (Jan and the assessor get a confirmation);
Jan uploads evidence for the attempt, which evidence learned of from exams' event; the overview shows it.
"""

import email
import email.policy
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kit.local.stack import Stack

pytestmark = pytest.mark.e2e
DOMAIN = "demo-roc.example"


def login(gateway: httpx.Client, email: str, password: str) -> dict[str, str]:
    r = gateway.post("/identity/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def eventually(action: Callable[[], httpx.Response], ok: Callable[[httpx.Response], bool],
               timeout_s: float = 60) -> httpx.Response:
    """Repeat a request until it succeeds: other services learn of things through events."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = action()
        if ok(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.4)


def mails(suite: Stack, address: str, subject_part: str, timeout_s: float = 60) -> list[dict[str, Any]]:
    """The e-mails the SMTP sink received for an address with subject_part in the subject."""
    deadline = time.monotonic() + timeout_s
    while True:
        messages = httpx.get(f"http://127.0.0.1:{suite.ports['smtp_http']}/messages").json()
        found = [m for m in messages if m["to"] == address and subject_part in (m["subject"] or "")]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.4)


EXAM = {
    "code": "PVB-VIG-1", "name": "Proeve Verzorgende-IG 1",
    "core_tasks": [{"code": "B1-K1", "name": "Biedt zorg en ondersteuning", "work_processes": [
        {"code": "B1-K1-W1", "name": "Onderkent de behoeften"}, {"code": "B1-K1-W2", "name": "Voert zorg uit"}]}],
    "parts": [
        {"code": "obs", "name": "Observatie", "kind": "observation", "core_tasks": ["B1-K1"], "criteria": [
            {"code": "c1", "text": "Werkt hygiënisch", "work_process": "B1-K1-W2"}]},
        {"code": "int", "name": "Criteriumgericht interview", "kind": "interview", "core_tasks": ["B1-K1"],
         "criteria": [{"code": "c2", "text": "Licht keuzes toe", "work_process": "B1-K1-W1",
                       "scoring": "scale_1_5"}]}],
}


def test_prepare_approve_adopt_schedule_and_upload_evidence(suite: Stack, gateway: httpx.Client,
                                                            school: dict[str, Any]) -> None:
    sid, password = school["school_id"], school["password"]
    operator_secrets = suite.identity_secrets()
    operator = login(gateway, operator_secrets["OPERATOR_EMAIL"], operator_secrets["OPERATOR_PASSWORD"])
    people = {h: login(gateway, f"{h}@{DOMAIN}", password) for h in
              ("admin", "begeleider", "examinator", "examencommissie", "praktijkopleider")}
    jan = login(gateway, f"jan.100001@student.{DOMAIN}", password)
    ids = {h: gateway.get("/identity/v1/me", headers=h_).json()["user_id"] for h, h_ in people.items()}
    programme = gateway.get(f"/enrollment/v1/schools/{sid}/programmes", headers=people["admin"]).json()["items"][0]

    published = eventually(lambda: gateway.post("/exams/v1/catalog/exams", headers=operator,
                                                 json={**EXAM, "programme_id": programme["id"]}),
                           lambda r: r.status_code != 422)
    assert published.status_code == 201, published.text
    exam_id = published.json()["id"]
    students = gateway.get(f"/enrollment/v1/schools/{sid}/students", headers=people["begeleider"]).json()["items"]
    jan_id = next(s["id"] for s in students if s["student_code"] == "100001")

    prepared = eventually(lambda: gateway.post(f"/exams/v1/schools/{sid}/assignments", headers=people["begeleider"],
                                               json={"exam_id": exam_id, "student_ids": [jan_id],
                                                     "title": "Zorgplan mevrouw De Boer",
                                                     "text": "Stel een zorgplan op en voer het uit.",
                                                     "location": "Zorgcentrum De Linde",
                                                     "first_assessor_id": ids["examinator"],
                                                     "adopter_id": ids["examencommissie"]}),
                          lambda r: r.status_code == 201)
    assert prepared.status_code == 201, prepared.text
    [assignment] = prepared.json()
    assert assignment["people"]["workplace_trainer"] == ids["praktijkopleider"]
    for address in (f"jan.100001@student.{DOMAIN}", f"begeleider@{DOMAIN}", f"praktijkopleider@{DOMAIN}"):
        assert mails(suite, address, "wacht op je akkoord"), address

    base = f"/exams/v1/schools/{sid}/assignments/{assignment['id']}"
    for headers in (jan, people["praktijkopleider"], people["begeleider"]):
        r = gateway.post(f"{base}/approve", json={"confirm": True}, headers=headers)
        assert r.status_code == 200, r.text
    assert r.json()["state"] == "locked"
    assert mails(suite, f"examencommissie@{DOMAIN}", "wacht op vaststelling")
    adopted = gateway.post(f"{base}/adopt", headers=people["examencommissie"])
    assert adopted.status_code == 200 and adopted.json()["state"] == "adopted"

    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    scheduled = gateway.post(f"/exams/v1/schools/{sid}/schedules", headers=people["begeleider"],
                             json={"assignment_ids": [assignment["id"]], "all_parts": {"starts_at": starts}})
    assert scheduled.status_code == 201, scheduled.text
    attempt_id = scheduled.json()[0]["attempt_id"]
    assert mails(suite, f"jan.100001@student.{DOMAIN}", "Ingepland")
    assert mails(suite, f"examinator@{DOMAIN}", "Ingepland")

    uploaded = eventually(lambda: gateway.post(
        f"/evidence/v1/schools/{sid}/attempts/{attempt_id}/evidence?filename=zorgplan.txt",
        content=b"Mijn zorgplan voor mevrouw De Boer.", headers=jan), lambda r: r.status_code != 409)
    assert uploaded.status_code == 201, uploaded.text
    listed = gateway.get(f"/evidence/v1/schools/{sid}/attempts/{attempt_id}/evidence", headers=people["examinator"])
    assert [f["filename"] for f in listed.json()] == ["zorgplan.txt"]

    overview = gateway.get(f"/exams/v1/schools/{sid}/overview?programme_id={programme['id']}",
                           headers=people["begeleider"])
    assert overview.status_code == 200
    row = next(r for r in overview.json()["rows"] if r["student_id"] == jan_id)
    cell = next(c for c in row["cells"] if c["exam_id"] == exam_id)
    assert (cell["state"], cell["attempt_number"]) == ("fully_scheduled_started", 1)
    dashboard = gateway.get(f"/exams/v1/schools/{sid}/dashboard", headers=people["examinator"]).json()
    assert {p["part_id"] for p in dashboard["open_actions"] if p["attempt_id"] == attempt_id} == {"obs", "int"}
    trainer = gateway.get("/exams/v1/me/students", headers=people["praktijkopleider"]).json()
    assert any(s["student_id"] == jan_id and s["assignments"] for s in trainer)
    other_school = gateway.get(f"/exams/v1/schools/sch_elsewhere/overview?programme_id={programme['id']}",
                               headers=people["begeleider"])
    assert other_school.status_code == 403

    interview = next(p for p in scheduled.json() if p["part_id"] == "int")
    moved = gateway.patch(f"/exams/v1/schools/{sid}/schedules/{interview['id']}", json={"location": "Kantoor 2"},
                          headers={**people["begeleider"], "If-Match": f'"{interview["version"]}"'})
    assert moved.status_code == 200, moved.text
    assert mails(suite, f"jan.100001@student.{DOMAIN}", "Verzet")
    assert mails(suite, f"examinator@{DOMAIN}", "Verzet")
    cancelled = gateway.post(f"/exams/v1/schools/{sid}/schedules/{interview['id']}/cancel",
                             headers=people["begeleider"])
    assert cancelled.status_code == 200 and cancelled.json()["late"] is True  # it had started: the attempt is lost
    notices = mails(suite, f"jan.100001@student.{DOMAIN}", "Afgemeld")  # the lost attempt's other part too
    assert notices
    raw = httpx.get(f"http://127.0.0.1:{suite.ports['smtp_http']}/messages/{notices[0]['id']}").content
    body = email.message_from_bytes(raw, policy=email.policy.default).get_body(preferencelist=("plain",))
    assert body is not None and "examenkans is daarmee vervallen" in body.get_content()
