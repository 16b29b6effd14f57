"""The exam board's pages, the assessment form's attachments and the closed upload, with the APIs answered by a
stand-in transport: what each role sees, what is sent, refusals at the field, and the wrong role or school refused."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from web.routes.exam_cases import decision_body
from web.testing import StandIn, client_as

S = "s1"
CASE = {"id": "case_1", "kind": "inspection", "state": "open", "student_id": "stu_1", "exam_id": "exam_1",
        "attempt_id": "att_1", "reason": "Ik wil mijn beoordeling zien.", "opened_by": "u9",
        "opened_at": "2026-11-02T09:00:00Z", "deadline": "2026-11-16T22:59:59Z", "overdue": True,
        "documents": ["file_1"], "decision": None, "version": 1}
LATER = {**CASE, "id": "case_2", "kind": "objection", "overdue": False, "deadline": "2026-12-20T22:59:59Z",
         "documents": []}
STUDENT = {"id": "stu_1", "first_name": "Jan", "last_name": "de Vries", "student_code": "100001"}
ATTEMPT = {"id": "att_1", "assignment_id": "asg_1", "student_id": "stu_1", "exam_id": "exam_1", "number": 1,
           "state": "in_execution", "first_scheduled_at": "2026-10-01T08:00:00Z", "assessed_at": None, "parts": [
               {"id": "sch_1", "part_id": "obs", "part_name": "Observatie", "state": "scheduled",
                "starts_at": "2026-10-01T08:00:00Z", "ends_at": None, "location": None, "attempt_id": "att_1"}]}
FILE = {"id": "file_1", "filename": "diploma.pdf", "size": 120_000, "created_at": "2026-11-03T10:00:00Z",
        "status": "stored", "locked": False}


Api = StandIn


@pytest.fixture
def open_clients() -> Iterator[list[TestClient]]:
    made: list[TestClient] = []
    yield made
    for c in made:
        c.__exit__(None, None, None)


def as_(made: list[TestClient], roles: list[str], api: Api, school: str = S) -> TestClient:
    client = client_as(api, {school: roles}, school)
    made.append(client)
    return client


BOARD_READS = {
    ("GET", f"/v1/schools/{S}/cases"): {"items": [CASE, LATER], "next_cursor": "1766271599000:case_2"},
    ("GET", f"/v1/schools/{S}/cases/case_1"): CASE,
    ("GET", f"/v1/schools/{S}/students/stu_1"): STUDENT,
    ("GET", f"/v1/schools/{S}/exams"): [{"id": "exam_1", "name": "Proeve Zorg"}],
    ("GET", f"/v1/schools/{S}/exams/exam_1"): {"id": "exam_1", "name": "Proeve Zorg", "core_tasks": []},
    ("GET", f"/v1/schools/{S}/attempts/att_1"): ATTEMPT,
    ("GET", f"/v1/schools/{S}/files/file_1"): FILE,
    ("GET", f"/v1/schools/{S}/people"): [{"user_id": "u5", "display_name": "Erik Examinator"}],
}


def test_the_board_sees_overdue_cases_first_marked_in_words(open_clients: list[TestClient]) -> None:
    api = Api(BOARD_READS)
    page = as_(open_clients, ["exam_board"], api).get("/cases?kind=&state=open")
    assert page.status_code == 200
    body = page.text
    assert body.index("Te laat: termijn verstreken") < body.index("Binnen de termijn")  # overdue first, in words
    assert "Jan de Vries (100001)" in body and "Proeve Zorg" in body and 'href="/cases/case_1"' in body
    listed = next(r for r in api.seen if r.url.path == f"/v1/schools/{S}/cases")
    assert listed.url.params["state"] == "open" and "kind" not in listed.url.params
    assert "cursor=1766271599000%3Acase_2" in body  # the next page continues after the last deadline shown


def test_a_case_shows_its_facts_documents_upload_and_the_decision_form(open_clients: list[TestClient]) -> None:
    page = as_(open_clients, ["exam_board"], Api(BOARD_READS)).get("/cases/case_1")
    assert page.status_code == 200
    assert "Ik wil mijn beoordeling zien." in page.text and "te laat: de termijn is verstreken" in page.text
    assert 'href="/files/file_1/download">diploma.pdf' in page.text
    assert 'data-case_id="case_1" data-done-url="/cases/case_1?uploaded=__file__"' in page.text
    assert "tus-js-client-4.3.1/tus.min.js" in page.text  # the resumable control's library
    assert 'id="f-inspection_at"' in page.text and 'value="granted"' in page.text
    assert 'href="/audit/students/stu_1"' in page.text


def test_a_decision_sends_only_its_outcomes_fields() -> None:
    typed = {"inspection_at": "2026-12-01T10:00", "location": "Lokaal 2.14", "result_grade": "6,4",
             "result_outcome": "passed", "new_assessor_id": "u5", "part_ids": ["obs"], "measures": "",
             "core_tasks": [], "starts_at": "", "valid_until": ""}
    assert decision_body("inspection", "granted", "Inzage toegekend.", typed) == {
        "outcome": "granted", "note": "Inzage toegekend.", "inspection_at": "2026-12-01T10:00:00+01:00",
        "location": "Lokaal 2.14"}
    assert decision_body("objection", "amended", "Herzien.", typed)["result"] == {"outcome": "passed", "grade": 6.4}
    assert decision_body("objection", "new_assessment", "Opnieuw.", typed) == {
        "outcome": "new_assessment", "note": "Opnieuw.", "new_assessor_id": "u5", "part_ids": ["obs"]}
    assert decision_body("inspection", "refused", "Nee.", typed) == {"outcome": "refused", "note": "Nee."}
    assert decision_body("fraud", "fraud", "Plagiaat.", {"excluded_until": "2027-06-30", "exclusion_scope": "all"}) \
        == {"outcome": "fraud", "note": "Plagiaat.", "excluded_until": "2027-06-30", "exclusion_scope": "all"}
    assert decision_body("fraud", "fraud", "Plagiaat.", {"excluded_until": "", "exclusion_scope": ""}) == {
        "outcome": "fraud", "note": "Plagiaat."}  # no exclusion
    assert "result" not in decision_body("objection", "amended", "Herzien.", {})  # the API names it as missing
    assert decision_body("accommodation", "granted", "Ja.", {"measures": "30 minuten extra\n\n stille ruimte "}) == {
        "outcome": "granted", "note": "Ja.", "measures": ["30 minuten extra", "stille ruimte"]}


def test_a_decision_without_its_required_field_is_refused_there_and_keeps_the_input(
        open_clients: list[TestClient]) -> None:
    refusal = httpx.Response(422, json={
        "title": "Ongeldige invoer", "detail": "Dit veld is verplicht bij de uitkomst granted van inzage.",
        "errors": [{"field": "inspection_at", "reason": "This field is required for outcome granted."}]})
    api = Api({**BOARD_READS, ("POST", f"/v1/schools/{S}/cases/case_1/decision"): refusal})
    page = as_(open_clients, ["exam_board"], api).post("/cases/case_1/decision", data={
        "csrf_token": "c" * 20, "kind": "inspection", "outcome": "granted", "version": "1",
        "note": "Inzage in lokaal 2.14.", "location": "Lokaal 2.14", "idempotency_key": "k1"})
    assert page.status_code == 422
    assert 'id="e-inspection_at"' in page.text and "verplicht bij de uitkomst granted" in page.text
    assert "Inzage in lokaal 2.14." in page.text and 'value="Lokaal 2.14"' in page.text
    sent = next(r for r in api.seen if r.method == "POST")
    assert sent.headers["if-match"] == '"1"' and sent.headers["idempotency-key"] == "k1"
    no_outcome = open_clients[0].post("/cases/case_1/decision", data={"csrf_token": "c" * 20, "kind": "inspection",
                                                                       "note": "Toch niet."})
    assert no_outcome.status_code == 422 and 'id="e-outcome"' in no_outcome.text and "Toch niet." in no_outcome.text


def test_a_request_after_the_term_is_explained_and_the_text_kept(open_clients: list[TestClient]) -> None:
    too_late = httpx.Response(409, json={"title": "Niet toegestaan", "detail": "Te laat: inzage kan tot 15 "
                                         "werkdagen na het resultaat, dus tot 20-11-2026."})
    api = Api({("GET", f"/v1/schools/{S}/attempts/att_1"): ATTEMPT,
               ("GET", f"/v1/schools/{S}/exams"): [{"id": "exam_1", "name": "Proeve Zorg"}],
               ("POST", f"/v1/schools/{S}/cases"): too_late})
    page = as_(open_clients, ["student"], api).post("/my-exams/attempts/att_1/request", data={
        "csrf_token": "c" * 20, "kind": "inspection", "reason": "Ik wil zien waarom het onvoldoende is."})
    assert page.status_code == 409
    assert 'id="e-kind"' in page.text and "Te laat: inzage kan tot 15 werkdagen" in page.text
    assert 'id="too-late"' in page.text and "Ik wil zien waarom het onvoldoende is." in page.text
    sent = json.loads(next(r for r in api.seen if r.method == "POST").content)
    assert sent == {"kind": "inspection", "attempt_id": "att_1", "reason": "Ik wil zien waarom het onvoldoende is."}


def test_the_board_opens_a_case_for_a_student_found_by_name(open_clients: list[TestClient]) -> None:
    api = Api({**BOARD_READS,
               ("GET", f"/v1/schools/{S}/students"): {"items": [STUDENT]},
               ("GET", f"/v1/schools/{S}/assignments"): {"items": [{"id": "asg_1", "state": "adopted"}]},
               ("GET", f"/v1/schools/{S}/assignments/asg_1/parts"): [
                   {"attempt_id": "att_1", "attempt_number": 1, "exam_id": "exam_1", "exam_name": "Proeve Zorg"}],
               ("POST", f"/v1/schools/{S}/cases"): lambda r: {**CASE, "id": "case_9"}})
    client = as_(open_clients, ["exam_board"], api)
    form = client.get("/cases/new?q=Jan")
    assert form.status_code == 200 and "Jan de Vries (100001)" in form.text and "Proeve Zorg — poging 1" in form.text
    done = client.post("/cases/new", data={"csrf_token": "c" * 20, "student_id": "stu_1", "kind": "fraud",
                                            "attempt_id": "att_1", "reason": "Tekst overgenomen."})
    assert done.status_code == 303 and done.headers["location"] == "/cases/case_9?opened=1"


def test_the_audit_trail_names_the_broken_link_and_lists_the_students_records(open_clients: list[TestClient]) -> None:
    verdict = {"school_id": S, "valid": False, "records_checked": 3, "last_valid_seq": 2, "head_seq": 5,
               "first_broken": {"seq": 3, "record_id": "ev3", "reason": "the record's content does not match its "
                                "hash"}, "verified_at": "2026-11-29T12:00:00Z"}
    trail = {"items": [{"seq": 1, "event_id": "ev1", "type": "exams.assignment_approved",
                        "occurred_at": "2026-10-01T08:00:00Z", "subject": "asg_1", "student_id": "stu_1",
                        "actor": "u5", "data": {"role": "school_supervisor", "exam_id": "exam_1"},
                        "prev_hash": "0" * 64, "hash": "a" * 64},
                       {"seq": 3, "event_id": "ev3", "type": "exams.result_adopted",
                        "occurred_at": "2026-10-05T08:00:00Z", "subject": "res_1", "student_id": "stu_1",
                        "actor": "u5", "data": {"outcome": "failed"}, "prev_hash": "a" * 64, "hash": "b" * 64}],
             "next_cursor": None}
    api = Api({**BOARD_READS, ("GET", f"/v1/schools/{S}/audit/verify"): verdict,
               ("GET", f"/v1/schools/{S}/students/stu_1/audit"): trail})
    page = as_(open_clients, ["exam_board"], api).get("/audit/students/stu_1")
    assert page.status_code == 200
    assert "Keten verbroken bij record 3." in page.text and "gewijzigd na het vastleggen" in page.text
    assert "Opdracht ondertekend" in page.text and "Erik Examinator" in page.text and "als begeleider" in page.text
    assert "niet betrouwbaar" in page.text  # record 3 and later
    school = as_(open_clients, ["school_admin"], Api({**BOARD_READS, ("GET", f"/v1/schools/{S}/audit/verify"): {
        **verdict, "valid": True, "first_broken": None, "records_checked": 5}})).get("/audit")
    assert "Gecontroleerd: de keten is intact." in school.text and "Alle 5 records" in school.text


@pytest.mark.parametrize(("roles", "path"), [
    (["assessor"], "/cases"), (["school_supervisor"], "/cases/case_1"), (["student"], "/cases/new"),
    (["school_supervisor"], "/audit"), (["student"], "/audit/students/stu_1"), (["exam_board"], "/my-exams/attempts/"
                                                                              "att_1/request")])
def test_a_wrong_role_is_refused_before_any_api_is_asked(open_clients: list[TestClient], roles: list[str],
                                                        path: str) -> None:
    api = Api(BOARD_READS)
    page = as_(open_clients, roles, api).get(path)
    assert page.status_code == 403 and "niet voor jouw rol" in page.text
    assert not [p for p in api.paths() if "/cases" in p or "/audit" in p or "/attempts" in p]


def test_another_schools_case_is_refused_and_only_the_own_school_is_asked(open_clients: list[TestClient]) -> None:
    api = Api({("GET", "/v1/schools/s2/cases/case_1"): httpx.Response(
        404, json={"title": "Niet gevonden", "detail": "Deze zaak bestaat niet in deze school."})})
    page = as_(open_clients, ["exam_board"], api, school="s2").get("/cases/case_1")
    assert page.status_code == 404 and "Deze zaak bestaat niet in deze school." in page.text
    assert all("/v1/schools/s2/" in p for p in api.paths())  # never the case's own school s1
    decision = open_clients[0].post("/cases/case_1/decision", data={"csrf_token": "c" * 20, "kind": "inspection",
                                                                    "outcome": "refused", "note": "Nee."})
    assert decision.status_code == 404


def test_the_attempt_page_closes_the_upload_after_finalization_and_marks_a_late_file(
        open_clients: list[TestClient]) -> None:
    assessed = {**ATTEMPT, "assessed_at": "2026-11-20T14:00:00Z"}
    files = [{**FILE, "filename": "verslag.pdf", "locked": True},
             {**FILE, "id": "file_2", "filename": "nagekomen.pdf", "status": "late", "size": 2_600,
              "flag": "completed_after_finalization", "finalized_at": "2026-11-20T14:00:00Z"}]
    api = Api({("GET", f"/v1/schools/{S}/attempts/att_1"): assessed,
               ("GET", f"/v1/schools/{S}/attempts/att_1/evidence"): files,
               ("GET", f"/v1/schools/{S}/me/exams"): {"student_id": "stu_1", "exams": [
                   {"exam_id": "exam_1", "name": "Proeve Zorg", "code": "PVB"}]}})
    page = as_(open_clients, ["student"], api).get("/my-exams/attempts/att_1")
    assert page.status_code == 200
    assert 'id="upload-file"' not in page.text and "Uploaden is gesloten" in page.text
    assert "20 nov. 2026 15:00" in page.text
    assert "(0,1 MB," in page.text and "(3 kB," in page.text  # a small file never reads "0,0 MB"
    late = page.text[page.text.index("nagekomen.pdf"):]
    assert "te laat, telt niet mee" in late and "te laat, telt niet mee" not in page.text[:page.text.index(
        "nagekomen.pdf")]
    assert 'href="/my-exams/attempts/att_1/request"' in page.text


FORM = {"schedule_id": "sch_1", "attempt_id": "att_1", "attempt_number": 1, "student_id": "stu_1",
        "student_code": "100001", "student_name": "Jan de Vries", "exam_id": "exam_1", "exam_name": "Proeve Zorg",
        "exam_version": 1, "part_id": "obs", "part_name": "Observatie", "starts_at": "2026-10-01T08:00:00Z",
        "ends_at": None, "first_assessor_id": "u1", "second_assessor_id": None, "second_assessor_may_submit": False,
        "criteria": [], "my_role": "first", "may_save": True, "may_finalize": True, "accommodations": [],
        "forms": {"first": {"assessor_id": "u1", "role": "first", "scores": {}, "justifications": {},
                            "attachment_ids": ["file_1"], "saved_at": None, "version": 2}, "second": None},
        "state": "open", "final": None, "version": 2, "parts": []}


def test_the_assessment_form_lists_its_attachments_and_closes_them_once_final(open_clients: list[TestClient]) -> None:
    api = Api({("GET", f"/v1/schools/{S}/schedules/sch_1/assessment"): FORM,
               ("GET", f"/v1/schools/{S}/files/file_1"): {**FILE, "filename": "foto-handen.jpg"}})
    client = as_(open_clients, ["assessor"], api)
    page = client.get("/assess/sch_1?attached=file_1")
    assert 'href="/files/file_1/download">foto-handen.jpg' in page.text
    assert 'data-attempt_id="att_1" data-part_id="obs" data-done-url="/assess/sch_1?attached=__file__"' in page.text
    assert "tus-js-client-4.3.1/tus.min.js" in page.text
    final = {**FORM, "state": "final", "may_save": False, "final": {
        "scores": {}, "justifications": {}, "attachment_ids": ["file_1"], "finalized_by": "u1",
        "finalized_role": "first", "finalized_at": "2026-11-20T14:00:00Z", "divergences": [],
        "divergence_note": None}}
    api.answers[("GET", f"/v1/schools/{S}/schedules/sch_1/assessment")] = final
    closed = client.get("/assess/sch_1")
    assert "foto-handen.jpg" in closed.text and "er kunnen geen bijlagen meer bij" in closed.text
    assert 'id="upload-file"' not in closed.text and "tus.min.js" not in closed.text


@pytest.mark.parametrize(("kind", "shown", "absent"), [
    ("objection", ['id="f-new_assessor_id"', 'id="f-part-obs"', 'id="f-result_grade"', 'value="new_assessment"'],
     ['id="f-inspection_at"', 'id="f-measures"']),
    ("exemption", ['id="f-ct-B1-K1"', 'id="f-valid_until"'], ['id="f-new_assessor_id"', 'id="f-measures"']),
    ("accommodation", ['id="f-measures"', 'id="f-valid_until"'], ['id="f-ct-B1-K1"']),
    ("fraud", ['value="fraud"', 'value="dismissed"', 'id="f-excluded_until"', 'id="f-exclusion_scope"'],
     ['id="f-valid_until"', 'value="granted"']),
    ("extra_attempt", ['value="granted"', 'value="refused"'], ['id="f-measures"', 'id="f-inspection_at"']),
])
def test_each_kind_gets_the_decision_fields_the_api_takes(open_clients: list[TestClient], kind: str,
                                                          shown: list[str], absent: list[str]) -> None:
    api = Api({**BOARD_READS, ("GET", f"/v1/schools/{S}/cases/case_1"): {**CASE, "kind": kind},
               ("GET", f"/v1/schools/{S}/exams/exam_1"): {"id": "exam_1", "name": "Proeve Zorg", "core_tasks": [
                   {"code": "B1-K1", "name": "Biedt zorg"}]}})
    page = as_(open_clients, ["exam_board"], api).get("/cases/case_1")
    assert page.status_code == 200
    assert all(s in page.text for s in shown), [s for s in shown if s not in page.text]
    assert not [a for a in absent if a in page.text]


def test_a_decided_case_shows_the_decision_and_takes_no_more_documents(open_clients: list[TestClient]) -> None:
    decided = {**CASE, "kind": "objection", "state": "decided", "overdue": False, "decision": {
        "outcome": "amended", "note": "Herbeoordeeld: voldoende.", "decided_at": "2026-11-20T10:00:00Z",
        "decided_by": "u9", "result": {"outcome": "passed", "grade": 6.5}}}
    api = Api({**BOARD_READS, ("GET", f"/v1/schools/{S}/cases/case_1"): decided})
    page = as_(open_clients, ["student"], api).get("/cases/case_1")
    assert page.status_code == 200
    assert "Resultaat aangepast" in page.text and "behaald, 6,5" in page.text and "Herbeoordeeld" in page.text
    assert 'id="upload-file"' not in page.text and "geen documenten meer bij" in page.text
    assert 'id="decide"' not in page.text and "audittrail" not in page.text  # the student neither decides nor audits
    assert not [p for p in api.paths() if "/students/" in p]  # nor reads the student record as staff does


def test_another_schools_audit_trail_is_refused(open_clients: list[TestClient]) -> None:
    refused = httpx.Response(403, json={"title": "Geen toegang", "detail": "Dit is niet jouw school."})
    api = Api({("GET", "/v1/schools/s2/audit/verify"): refused,
               ("GET", "/v1/schools/s2/students/stu_1/audit"): refused,
               ("GET", "/v1/schools/s2/students/stu_1"): refused})
    page = as_(open_clients, ["exam_board"], api, school="s2").get("/audit/students/stu_1")
    assert page.status_code == 403 and "Dit is niet jouw school." in page.text
    assert all("/v1/schools/s2/" in p for p in api.paths())


def test_a_student_asks_for_an_exemption_and_adds_documents_on_its_page(open_clients: list[TestClient]) -> None:
    exams = {("GET", f"/v1/schools/{S}/exams"): [{"id": "exam_1", "name": "Proeve Zorg"}]}
    api = Api({**exams, ("POST", f"/v1/schools/{S}/cases"): (201, {**CASE, "id": "case_9", "kind": "exemption"})})
    student = as_(open_clients, ["student"], api)
    form = student.get("/my-exams/exams/exam_1/exemption")
    assert form.status_code == 200 and "Proeve Zorg" in form.text and "zes weken" in form.text
    done = student.post("/my-exams/exams/exam_1/exemption", data={
        "csrf_token": "c" * 20, "reason": "Ik heb B1-K1 behaald bij mijn vorige opleiding."}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/cases/case_9?opened=1"
    sent = json.loads(api.sent("POST", f"/v1/schools/{S}/cases")[0].content)
    assert sent == {"kind": "exemption", "exam_id": "exam_1",
                    "reason": "Ik heb B1-K1 behaald bij mijn vorige opleiding."}
    assert student.get("/my-exams/exams/exam_unknown/exemption").status_code == 404


def test_an_exemption_asked_too_late_is_explained_and_the_text_kept(open_clients: list[TestClient]) -> None:
    too_late = httpx.Response(409, json={"title": "Niet toegestaan", "detail": "Een vrijstelling vraag je uiterlijk "
                                         "zes weken voor het eerste examenmoment aan."})
    api = Api({("GET", f"/v1/schools/{S}/exams"): [{"id": "exam_1", "name": "Proeve Zorg"}],
               ("POST", f"/v1/schools/{S}/cases"): too_late})
    page = as_(open_clients, ["student"], api).post("/my-exams/exams/exam_1/exemption", data={
        "csrf_token": "c" * 20, "reason": "Diploma van mijn vorige opleiding."})
    assert page.status_code == 409 and 'id="e-reason"' in page.text
    assert "uiterlijk zes weken voor het eerste examenmoment" in page.text
    assert "Diploma van mijn vorige opleiding." in page.text


def test_only_a_student_asks_for_an_exemption_here(open_clients: list[TestClient]) -> None:
    api = Api({("GET", f"/v1/schools/{S}/exams"): [{"id": "exam_1", "name": "Proeve Zorg"}]})
    for roles in (["school_supervisor"], ["exam_board"]):
        page = as_(open_clients, roles, api).post("/my-exams/exams/exam_1/exemption", data={
            "csrf_token": "c" * 20, "reason": "x"})
        assert page.status_code == 403
    elsewhere = client_as(api, {"s2": ["student"]}, S)  # a student of another school only
    open_clients.append(elsewhere)
    assert elsewhere.post("/my-exams/exams/exam_1/exemption", data={"csrf_token": "c" * 20, "reason": "x"},
                          ).status_code == 403
    assert api.sent("POST", f"/v1/schools/{S}/cases") == []
