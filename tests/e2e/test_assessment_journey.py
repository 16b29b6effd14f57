"""An assessment through the gateway with every process running: the assessor fills in the form and finalizes,
exams' worker relays the finalization over Kafka, evidence locks the student's evidence and refuses more, and the
form downloads as a PDF for the assessor but not yet for the student.
"""

import time
from typing import Any

import httpx
import pytest

from kit.local.stack import Stack

from .test_exams_journey import DOMAIN, eventually, login

pytestmark = pytest.mark.e2e

EXAM = {
    "code": "PVB-VIG-A", "name": "Proeve Verzorgende-IG (beoordeling)",
    "core_tasks": [{"code": "B1-K1", "name": "Biedt zorg en ondersteuning", "work_processes": [
        {"code": "B1-K1-W1", "name": "Onderkent de behoeften"}]}],
    "parts": [{"code": "obs", "name": "Observatie", "core_tasks": ["B1-K1"], "criteria": [
        {"code": "c1", "text": "Werkt hygiënisch", "work_process": "B1-K1-W1"},
        {"code": "c2", "text": "Licht keuzes toe", "work_process": "B1-K1-W1", "scoring": "scale_1_5"}]}],
}


def test_finalizing_an_assessment_locks_the_evidence(suite: Stack, gateway: httpx.Client,
                                                    school: dict[str, Any]) -> None:
    sid, password = school["school_id"], school["password"]
    secrets = suite.identity_secrets()
    operator = login(gateway, secrets["OPERATOR_EMAIL"], secrets["OPERATOR_PASSWORD"])
    people = {h: login(gateway, f"{h}@{DOMAIN}", password) for h in
              ("begeleider", "examinator", "examencommissie", "praktijkopleider")}
    fatima = login(gateway, f"fatima.100002@student.{DOMAIN}", password)
    ids = {h: gateway.get("/identity/v1/me", headers=h_).json()["user_id"] for h, h_ in people.items()}
    programme = gateway.get(f"/enrollment/v1/schools/{sid}/programmes", headers=people["begeleider"]).json()
    published = eventually(lambda: gateway.post("/exams/v1/catalog/exams", headers=operator,
                                                 json={**EXAM, "programme_id": programme["items"][0]["id"]}),
                           lambda r: r.status_code != 422)
    assert published.status_code == 201, published.text
    students = gateway.get(f"/enrollment/v1/schools/{sid}/students", headers=people["begeleider"]).json()["items"]
    student_id = next(s["id"] for s in students if s["student_code"] == "100002")
    prepared = eventually(lambda: gateway.post(f"/exams/v1/schools/{sid}/assignments", headers=people["begeleider"],
                                               json={"exam_id": published.json()["id"], "student_ids": [student_id],
                                                     "title": "Ochtendzorg", "text": "Verleen de ochtendzorg.",
                                                     "first_assessor_id": ids["examinator"],
                                                     "adopter_id": ids["examencommissie"]}),
                          lambda r: r.status_code == 201)
    assert prepared.status_code == 201, prepared.text
    base = f"/exams/v1/schools/{sid}/assignments/{prepared.json()[0]['id']}"
    for headers in (fatima, people["praktijkopleider"], people["begeleider"]):
        assert gateway.post(f"{base}/approve", json={"confirm": True}, headers=headers).status_code == 200
    assert gateway.post(f"{base}/adopt", headers=people["examencommissie"]).status_code == 200
    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    scheduled = gateway.post(f"/exams/v1/schools/{sid}/schedules", headers=people["begeleider"],
                             json={"assignment_ids": [base.rsplit("/", 1)[1]], "all_parts": {"starts_at": starts}})
    assert scheduled.status_code == 201, scheduled.text
    [part] = scheduled.json()
    attempt = part["attempt_id"]
    evidence = f"/evidence/v1/schools/{sid}/attempts/{attempt}/evidence"
    # evidence learns of the attempt from exams' event: until then it answers 404 (unknown attempt)
    uploaded = eventually(lambda: gateway.post(f"{evidence}?filename=verslag.txt", content=b"Mijn verslag.",
                                               headers=fatima), lambda r: r.status_code not in (404, 409))
    assert uploaded.status_code == 201, uploaded.text

    form = f"/exams/v1/schools/{sid}/schedules/{part['id']}/assessment"
    saved = gateway.put(f"{form}/forms/me", headers=people["examinator"],
                        json={"version": 0, "scores": {"c1": "pass", "c2": 2},
                              "justifications": {"c2": "De keuzes bleven vaag."}})
    assert saved.status_code == 200, saved.text
    overview = gateway.get(f"{form}/finalize", headers=people["examinator"]).json()
    assert overview["incomplete"] == [] and overview["divergences"] == []
    done = gateway.post(f"{form}/finalize", headers=people["examinator"],
                        json={"confirm": True, "version": overview["version"]})
    assert done.status_code == 200 and done.json()["attempt_assessed"] is True, done.text

    # evidence learns of it through Kafka and locks the evidence; a further upload is refused
    locked = eventually(lambda: gateway.get(evidence, headers=fatima), lambda r: all(f["locked"] for f in r.json()))
    assert [(f["filename"], f["locked"]) for f in locked.json()] == [("verslag.txt", True)]
    refused = gateway.post(f"{evidence}?filename=nog-een.txt", content=b"te laat", headers=fatima)
    assert refused.status_code == 409 and "definitief" in refused.json()["detail"]
    pdf = f"/exams/v1/schools/{sid}/attempts/{attempt}/assessment.pdf"
    download = gateway.get(pdf, headers=people["examinator"])
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
    assert gateway.get(pdf, headers=fatima).status_code == 403  # no adopted result yet
