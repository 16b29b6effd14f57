"""A practical exam from a new school to an amended result, through the gateway with every process running.

The operator creates a school (not the demo school) and publishes a programme and an exam; the school's admin,
invited by e-mail, chooses a password through the link, creates the staff (each invited the same way), enables
the programme and imports the students from an .xlsx through the four import steps (the import makes their
group and invites them). The supervisor prepares the assignments for the whole group; every student, the
supervisor and the workplace trainer approve; the exam board adopts for the group; the parts are scheduled; each
step's e-mails arrive at the SMTP sink; a student uploads evidence for the attempt.

Then (journey_exams2) two assessors diverge and the first acknowledges and finalizes; the evidence locks and
refuses uploads; the results are computed, the students told, the board adopts, the student sees hers; a failed
student's retake is attempt 2; an objection makes the board appoint a new assessor whose assessment amends the
result, the original kept; the audit chain verifies and names a record tampered with in the exams database.
"""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from kit.local.stack import Stack

from .journey_exams2 import (
    assess_the_rest,
    assess_with_a_divergence,
    audit_chain_detects_tampering,
    evidence_is_locked,
    objection_amends_the_result,
    results_computed_and_adopted,
    retake_as_attempt_two,
)
from .journey_steps import STUDENTS, People, School, email, spreadsheet, status, student_email
from .test_exams_journey import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STAFF = {  # handle: (name, roles)
    "admin": ("Amira Beheer", ["school_admin"]),
    "begeleider": ("Bas Begeleider", ["school_supervisor"]),
    "examinator": ("Eline Examinator", ["assessor"]),
    "beoordelaar": ("Bram Beoordelaar", ["assessor"]),  # the second assessor, from the company
    "examinator2": ("Noor Nieuwenhuis", ["assessor"]),  # appointed by the board after an objection
    "commissie": ("Cor Commissie", ["exam_board"]),
    "opleider": ("Olga Opleider", ["workplace_trainer"]),
}
GROUP = "HZW2A"
CREBO = "25498"
EXAM = {
    "code": "PVB-HZW-1", "name": "Proeve Helpende Zorg en Welzijn",
    "core_tasks": [{"code": "B1-K1", "name": "Ondersteunt bij zorg en welzijn", "work_processes": [
        {"code": "B1-K1-W1", "name": "Ondersteunt bij dagelijkse activiteiten"},
        {"code": "B1-K1-W2", "name": "Voert huishoudelijke taken uit"}]}],
    "parts": [
        {"code": "obs", "name": "Observatie in de praktijk", "kind": "observation", "core_tasks": ["B1-K1"],
         "criteria": [
             {"code": "c1", "text": "Ondersteunt de cliënt bij de maaltijd", "work_process": "B1-K1-W1",
              "scoring": "scale_1_5"},
             {"code": "c2", "text": "Werkt hygiënisch", "work_process": "B1-K1-W2"}]},
        {"code": "int", "name": "Criteriumgericht interview", "kind": "interview", "core_tasks": ["B1-K1"],
         "criteria": [{"code": "c3", "text": "Licht de gemaakte keuzes toe", "work_process": "B1-K1-W1",
                       "scoring": "scale_1_5"}]}],
}


def test_an_exam_from_a_new_school_to_adopted_and_amended_results(suite: Stack, gateway: httpx.Client) -> None:
    started = time.monotonic()
    people = People(suite, gateway, "Reis-" + secrets.token_urlsafe(9))
    school = School()
    new_school_with_staff(people, school)
    import_students(people, school)
    prepare_approve_adopt(people, school)
    schedule_and_upload(people, school)
    assess_with_a_divergence(people, school)
    assess_the_rest(people, school)
    evidence_is_locked(people, school)
    results_computed_and_adopted(people, school)
    retake_as_attempt_two(people, school)
    objection_amends_the_result(people, school)
    audit_chain_detects_tampering(people, school)
    print(f"journey_seconds={time.monotonic() - started:.1f}")


def new_school_with_staff(people: People, school: School) -> None:
    """The operator makes the school, the programme and the exam; the admin invites the staff."""
    http = people.http
    op_secrets = people.suite.identity_secrets()
    operator = people.login(op_secrets["OPERATOR_EMAIL"], op_secrets["OPERATOR_PASSWORD"])
    created = http.post("/identity/v1/schools", headers=operator, json={
        "name": "ROC De Reis", "brin": "31RR", "admin_email": email("admin"), "admin_name": STAFF["admin"][0]})
    assert created.status_code == 201, created.text
    school.id = created.json()["school_id"]
    assert people.mails(email("admin"), "Je inlogcode voor ROC De Reis")
    people.accept_invitation(email("admin"))
    admin = school.headers["admin"] = people.login(email("admin"))
    school.ids["admin"] = http.get("/identity/v1/me", headers=admin).json()["user_id"]

    programme = http.post("/enrollment/v1/programmes", headers=operator, json={
        "crebo": CREBO, "name": "Helpende Zorg en Welzijn", "level": 2, "cohort": 2025})
    assert programme.status_code == 201, programme.text
    school.programme_id = programme.json()["id"]
    published = eventually(lambda: http.post("/exams/v1/catalog/exams", headers=operator,
                                             json={**EXAM, "programme_id": school.programme_id}),
                           lambda r: r.status_code != 422)  # exams learns of the programme by its event
    assert published.status_code == 201, published.text
    school.exam_id = published.json()["id"]

    for handle, (name, roles) in STAFF.items():
        if handle == "admin":
            continue
        member = http.post(f"/identity/v1/schools/{school.id}/users", headers=admin, json={
            "email": email(handle), "display_name": name, "roles": roles, "send_invitation": True})
        assert member.status_code == 201, member.text
        school.ids[handle] = member.json()["user_id"]
    for handle in STAFF:
        if handle != "admin":
            people.accept_invitation(email(handle))
            school.headers[handle] = people.login(email(handle))

    staff = [school.ids[h] for h in ("begeleider", "examinator", "beoordelaar", "examinator2")]
    enabled = eventually(lambda: http.put(
        f"/enrollment/v1/schools/{school.id}/programmes/{school.programme_id}", headers=admin,
        json={"enabled": True, "staff_ids": staff}), status(200))
    assert enabled.status_code == 200, enabled.text
    exams = eventually(lambda: http.get(f"/exams/v1/schools/{school.id}/exams", headers=school.headers["begeleider"]),
                       lambda r: r.status_code == 200 and bool(r.json()))
    assert [e["id"] for e in exams.json()] == [school.exam_id]


def import_students(people: People, school: School) -> None:
    """The admin imports the group from an .xlsx through the four steps; every student chooses a password."""
    http, admin = people.http, school.headers["admin"]
    base = f"/enrollment/v1/schools/{school.id}/imports"
    sheet = spreadsheet(
        ["Studentnummer", "Voornaam", "Achternaam", "E-mail", "Opleiding", "Klas", "Praktijkbegeleider",
         "Examinator", "Praktijkopleider"],
        [[int(code), first, last, student_email(code, first), CREBO, GROUP, email("begeleider"),
          email("examinator"), email("opleider")] for code, first, last in STUDENTS])
    uploaded = http.post(base, params={"invite": "true", "filename": "klas-hzw2a.xlsx"}, content=sheet,
                         headers={**admin, "Content-Type": XLSX})
    assert uploaded.status_code == 201, uploaded.text
    job = uploaded.json()
    assert (job["format"], job["row_count"]) == ("xlsx", 3)
    assert set(job["suggested_mapping"].values()) == {
        "student_code", "first_name", "last_name", "email", "programme", "group", "school_supervisor", "assessor",
        "workplace_trainer"}

    # step 2: enrollment learns the staff from identity's events, so their e-mail addresses match by now or soon
    mapped = eventually(lambda: http.put(f"{base}/{job['id']}/mapping", headers=admin,
                                         json={"columns": job["suggested_mapping"]}),
                        lambda r: r.status_code == 200 and not any(
                            p["unmatched"] for p in (r.json()["people"] or {}).values()))
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["people"]["school_supervisor"]["matched"] == [email("begeleider")]
    # step 3: the crebo is suggested as the enabled programme; the class becomes a new group
    values = http.get(f"{base}/{job['id']}/values", headers=admin).json()["value_maps"]
    assert values["programme"] == {CREBO: school.programme_id}
    assert http.put(f"{base}/{job['id']}/values", headers=admin,
                    json={"group": {GROUP: None}}).status_code == 200
    # step 4: every row checked, then committed
    previewed = http.post(f"{base}/{job['id']}/preview", headers=admin)
    assert previewed.json()["preview"] == {"valid": 3, "invalid": 0, "create": 3, "update": 0, "unchanged": 0}
    committed = http.post(f"{base}/{job['id']}/commit", headers=admin)
    assert committed.status_code == 200, committed.text
    assert committed.json()["result"] == {"created": 3, "updated": 0, "unchanged": 0, "invalid": 0}

    groups = http.get(f"/enrollment/v1/schools/{school.id}/groups", headers=admin).json()["items"]
    school.group_id = next(g["id"] for g in groups if g["name"] == GROUP)
    listed = http.get(f"/enrollment/v1/schools/{school.id}/students", headers=school.headers["begeleider"],
                      params={"group_id": school.group_id}).json()["items"]
    assert sorted(s["student_code"] for s in listed) == [code for code, _, _ in STUDENTS]
    for s in listed:
        assert s["programme_ids"] == [school.programme_id] and s["schedulable"]
        school.ids[s["student_code"]] = s["id"]
    for code, first, _ in STUDENTS:  # identity made their accounts and invited them
        people.accept_invitation(student_email(code, first))
        school.headers[code] = people.login(student_email(code, first))
        school.ids[f"user:{code}"] = http.get("/identity/v1/me", headers=school.headers[code]).json()["user_id"]


def prepare_approve_adopt(people: People, school: School) -> None:
    """Prepared for the group, approved by everyone named, adopted by the board for the group."""
    http, sid = people.http, school.id
    supervisor = school.headers["begeleider"]
    prepared = eventually(lambda: http.post(f"/exams/v1/schools/{sid}/assignments", headers=supervisor, json={
        "exam_id": school.exam_id, "group_id": school.group_id, "title": "Ondersteuning bij de maaltijd",
        "text": "Ondersteun twee cliënten bij de warme maaltijd en licht je keuzes toe.",
        "location": "Woonzorgcentrum Het Baken", "cohort": 2025,
        "first_assessor_id": school.ids["examinator"], "second_assessor_id": school.ids["beoordelaar"],
        "adopter_id": school.ids["commissie"]}), status(201))  # exams learns students, links, group by events
    assert prepared.status_code == 201, prepared.text
    by_student = {a["student_id"]: a for a in prepared.json()}
    for code, first, _ in STUDENTS:
        assignment = school.assignments[code] = by_student[school.ids[code]]
        assert assignment["people"]["workplace_trainer"] == school.ids["opleider"]  # linked by the import
        assert sorted(assignment["pending_approvals"]) == ["school_supervisor", "student", "workplace_trainer"]
        assert people.mails(student_email(code, first), "wacht op je akkoord")
    assert len(people.mails(email("begeleider"), "wacht op je akkoord", count=3)) == 3
    assert len(people.mails(email("opleider"), "wacht op je akkoord", count=3)) == 3

    for code, _, _ in STUDENTS:
        path = f"/exams/v1/schools/{sid}/assignments/{school.assignments[code]['id']}/approve"
        for signer in (code, "opleider", "begeleider"):  # any order; the last signature locks it
            r = http.post(path, json={"confirm": True}, headers=school.headers[signer])
            assert r.status_code == 200, (signer, r.text)
        assert r.json()["state"] == "locked"
        assert {a["role"] for a in r.json()["approvals"]} == {"student", "workplace_trainer", "school_supervisor"}
        again = http.post(path, json={"confirm": True}, headers=school.headers[code])
        assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert len(people.mails(email("commissie"), "wacht op vaststelling", count=3)) == 3

    adopted = http.post(f"/exams/v1/schools/{sid}/assignments/adopt-group", headers=school.headers["commissie"],
                        json={"group_id": school.group_id})
    assert adopted.status_code == 200, adopted.text
    assert sorted(a["student_id"] for a in adopted.json() if a["state"] == "adopted") == sorted(
        school.ids[code] for code, _, _ in STUDENTS)


def schedule_and_upload(people: People, school: School) -> None:
    """Both parts scheduled for the group, started a minute ago; everyone told; evidence uploaded."""
    http, sid = people.http, school.id
    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    scheduled = http.post(f"/exams/v1/schools/{sid}/schedules", headers=school.headers["begeleider"], json={
        "assignment_ids": [a["id"] for a in school.assignments.values()],
        "all_parts": {"starts_at": starts, "location": "Woonzorgcentrum Het Baken"}})
    assert scheduled.status_code == 201, scheduled.text
    for code, first, _ in STUDENTS:
        parts = school.schedules[code] = [p for p in scheduled.json() if p["student_id"] == school.ids[code]]
        assert sorted(p["part_id"] for p in parts) == ["int", "obs"]
        assert {(p["attempt_number"], p["first_assessor_id"], p["second_assessor_id"]) for p in parts} == {
            (1, school.ids["examinator"], school.ids["beoordelaar"])}
        assert len(people.mails(student_email(code, first), "Ingepland", count=2)) == 2
    for assessor in ("examinator", "beoordelaar"):
        assert len(people.mails(email(assessor), "Ingepland", count=6)) == 6

    lotte = "300001"
    attempt = school.schedules[lotte][0]["attempt_id"]
    uploaded = eventually(lambda: http.post(
        f"/evidence/v1/schools/{sid}/attempts/{attempt}/evidence", params={"filename": "maaltijdverslag.txt"},
        content=b"Verslag van de maaltijdondersteuning bij mevrouw Bakker.", headers=school.headers[lotte]),
        lambda r: r.status_code != 409)  # evidence opens the attempt when it reads the scheduling event
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["locked"] is False
    listed = http.get(f"/evidence/v1/schools/{sid}/attempts/{attempt}/evidence", headers=school.headers["examinator"])
    assert [f["filename"] for f in listed.json()] == ["maaltijdverslag.txt"]
    other = http.post(f"/evidence/v1/schools/{sid}/attempts/{attempt}/evidence", params={"filename": "x.txt"},
                      content=b"niet van mij", headers=school.headers["300002"])
    assert other.status_code in (403, 404), other.text  # Finn cannot add to Lotte's attempt
