"""The exam board's work done through the pages, each step by the person whose step it is.

Through the APIs (not what is tested here): the operator publishes a one-part exam, Sem's and Lieke's assignments
are prepared, signed, adopted and scheduled to start a minute ago, and an exam board member, a supervisor, a
trainer, a second assessor and the two students of this module's own are invited. Then, in Chromium: the assessor
attaches a file to the form and finalizes, after which the form refuses more files saying why; Sem's evidence upload
is closed with the reason, and a file that lost the race with the finalization is listed as late, not counting,
while Lieke, whose page was open as her assessment became final, is told at once why her upload is refused; Sem's
result is adopted (API) and he asks for an inspection (after a refusal without a kind), adds a document, objects,
and is told a new request is too late once the term has passed; the board sees its cases by deadline with the
overdue one first (in words), decides the inspection (after a refusal at the missing moment) and the objection with
an amended result (after refusals at the missing result and a passing grade below the pass mark), opens an
accommodation itself and decides it (after a refusal at the missing measures), grants an exemption it opened from
another exam (after refusals without a document, then without a core task; the diploma uploaded on the case's page),
grants the overdue extra attempt,
finds fraud with an exclusion (after a refusal of one beyond twelve months), and orders Lieke a new assessment by
another assessor (after a refusal of the one who assessed her); the board reads Sem's audit trail from the case, and
the chain's check names the record a direct database change broke. Every new page is audited (axe) and photographed
in Dutch and English.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect
from pymongo import MongoClient

from kit.local.servers import mongo_uri
from tests.e2e.browser.conftest import accept, audit, both_languages, invite, sign_in
from tests.e2e.test_exams_journey import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]  # a shared 2-core machine: seeding may be slow
DOMAIN = "demo-roc.example"
ASSESSOR = f"examinator@{DOMAIN}"
# This module's own supervisor and trainer, with students of its own: the other modules count the demo people's lists.
SUPERVISOR, TRAINER = f"zaken.begeleider@{DOMAIN}", f"zaken.opleider@{DOMAIN}"
BOARD = f"zaken.commissie@{DOMAIN}"  # this module's own board member: other modules change the demo one's password
STUDENTS = [("100901", "Sem", "Bakker", f"sem.100901@student.{DOMAIN}"),
            ("100902", "Lieke", "Mulder", f"lieke.100902@student.{DOMAIN}")]
SEM, LIEKE = STUDENTS[0][3], STUDENTS[1][3]
EXAM = {
    "code": "PVB-XB-1",  # after the other modules' exams, so their overview columns come first
    "name": "Proeve Zorg voor de examencommissie",
    "core_tasks": [{"code": "B1-K1", "name": "Biedt zorg en ondersteuning", "work_processes": [
        {"code": "B1-K1-W1", "name": "Voert zorg uit"}]}],
    "parts": [{"code": "obs", "name": "Observatie", "kind": "observation", "core_tasks": ["B1-K1"], "criteria": [
        {"code": "c1", "text": "Werkt hygiënisch", "work_process": "B1-K1-W1"}]}],
}
STATE: dict[str, Any] = {}


class Api:
    """The suite's APIs through the gateway, as the demo school's people."""

    def __init__(self, web: str, password: str) -> None:
        self.http = httpx.Client(base_url=web, timeout=15)
        self.password = password

    def login(self, email: str, password: str | None = None) -> dict[str, str]:
        r = self.http.post("/identity/v1/auth/login", json={"email": email, "password": password or self.password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def board_exam(school: dict[str, Any], suite: Any, web: str) -> dict[str, Any]:
    """Sem's and Lieke's attempts at a published one-part exam, started a minute ago (all through the APIs)."""
    api = Api(web, school["password"])
    sid = school["school_id"]
    secrets_ = suite.identity_secrets()
    operator = api.login(secrets_["OPERATOR_EMAIL"], secrets_["OPERATOR_PASSWORD"])
    admin = api.login(f"admin@{DOMAIN}")
    invite(suite, api.http, admin, school=sid, email=BOARD, name="Zoë Zaken", role="exam_board",
           password=api.password)
    own_supervisor = invite(suite, api.http, admin, school=sid, email=SUPERVISOR, name="Tess Toezicht",
                            role="school_supervisor", password=api.password)
    invite(suite, api.http, admin, school=sid, email=f"zaken.examinator@{DOMAIN}", name="Ria Herbeoordeling",
           role="assessor", password=api.password)  # the new assessor an objection may name
    own_trainer = invite(suite, api.http, admin, school=sid, email=TRAINER, name="Tom Opleider",
                         role="workplace_trainer", password=api.password)
    assessor_id = api.http.get("/identity/v1/me", headers=api.login(ASSESSOR)).json()["user_id"]
    programme = api.http.get(f"/enrollment/v1/schools/{sid}/programmes", headers=admin).json()["items"][0]
    ids = {}
    for code, first, last, email in STUDENTS:
        made = api.http.post(f"/enrollment/v1/schools/{sid}/students", headers=admin, json={
            "student_code": code, "first_name": first, "last_name": last, "email": email,
            "programme_ids": [programme["id"]], "invite": True})
        assert made.status_code < 300, made.text
        ids[code] = made.json().get("student_id") or made.json()["id"]
        for relation, user_id in (("school_supervisor", own_supervisor), ("assessor", assessor_id),
                                  ("workplace_trainer", own_trainer)):
            r = api.http.post(f"/enrollment/v1/schools/{sid}/students/{ids[code]}/links", headers=admin,
                              json={"user_id": user_id, "relation": relation})
            assert r.status_code < 300, r.text
        accept(suite, api.http, email, api.password)
    supervisor, board, trainer = api.login(SUPERVISOR), api.login(BOARD), api.login(TRAINER)
    sem, lieke = api.login(SEM), api.login(LIEKE)
    published = eventually(lambda: api.http.post("/exams/v1/catalog/exams", headers=operator,
                                                 json={**EXAM, "programme_id": programme["id"]}),
                           lambda r: r.status_code != 422)
    assert published.status_code == 201, published.text
    sem_id, lieke_id = ids["100901"], ids["100902"]
    people = eventually(lambda: api.http.get(f"/exams/v1/schools/{sid}/people", headers=supervisor),
                        lambda r: r.status_code == 200 and any(p["display_name"] == "Zoë Zaken" for p in r.json()))
    names = {p["display_name"]: p["user_id"] for p in people.json()}
    prepared = eventually(lambda: api.http.post(f"/exams/v1/schools/{sid}/assignments", headers=supervisor, json={
        "exam_id": published.json()["id"], "student_ids": [sem_id, lieke_id], "title": "Ochtendzorg",
        "text": "Verleen de ochtendzorg.", "first_assessor_id": names["Erik Examinator"],
        "adopter_id": names["Zoë Zaken"]}), lambda r: r.status_code == 201)
    assert prepared.status_code == 201, prepared.text
    assignments = {a["student_id"]: a["id"] for a in prepared.json()}
    for student_id, student in ((sem_id, sem), (lieke_id, lieke)):
        base = f"/exams/v1/schools/{sid}/assignments/{assignments[student_id]}"
        for headers in (student, trainer, supervisor):
            r = api.http.post(f"{base}/approve", json={"confirm": True}, headers=headers)
            assert r.status_code == 200, r.text
        assert api.http.post(f"{base}/adopt", headers=board).status_code == 200
    starts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    scheduled = api.http.post(f"/exams/v1/schools/{sid}/schedules", headers=supervisor, json={
        "assignment_ids": list(assignments.values()), "all_parts": {"starts_at": starts}})
    assert scheduled.status_code == 201, scheduled.text
    parts = {p["student_id"]: p for p in scheduled.json()}
    for student_id, student in ((sem_id, sem), (lieke_id, lieke)):
        evidence = f"/evidence/v1/schools/{sid}/attempts/{parts[student_id]['attempt_id']}/evidence"
        send = partial(api.http.post, f"{evidence}?filename=verslag.txt", content=b"Mijn verslag.", headers=student)
        uploaded = eventually(send, lambda r: r.status_code not in (404, 409))
        assert uploaded.status_code == 201, uploaded.text
    part = parts[sem_id]
    return {"api": api, "school_id": sid, "schedule_id": part["id"], "attempt_id": part["attempt_id"],
            "exam_id": published.json()["id"], "student_id": sem_id, "board": board, "lieke": parts[lieke_id],
            "lieke_headers": lieke, "assessor": api.login(ASSESSOR)}


@contextmanager
def exams_db(suite: Any, name: str = "exams") -> Iterator[Any]:
    """A service's database itself: only to make time pass (a term, a deadline), to tamper with the chain, or to
    leave what a lost race leaves (a file completed after finalization)."""
    mongo: MongoClient[dict[str, Any]] = MongoClient(mongo_uri(suite.ports["mongo"]), serverSelectionTimeoutMS=10_000)
    with mongo:
        yield mongo[name]


def upload(page: Page, path: Path, done: str) -> None:
    """Send a file with the page's upload control and wait for the page it leads to; evidence learns of a new
    case or attempt from an event, so until then the control says it failed and the file is sent again."""
    deadline = time.monotonic() + 60
    while not re.search(done, page.url) and time.monotonic() < deadline:
        page.locator("#upload-file").set_input_files(str(path))
        page.get_by_role("button", name="Uploaden").click()
        for _ in range(60):
            page.wait_for_timeout(250)
            if re.search(done, page.url) or page.locator(".upload[data-state=failed]").count():
                break
        if not re.search(done, page.url):
            page.reload()
    assert re.search(done, page.url), page.url


def until_listed(page: Page, selector: str, text: str) -> None:
    """Reload until a file just stored is listed (exams lists it once evidence's event arrives)."""
    deadline = time.monotonic() + 60
    while text not in page.locator(selector).inner_text() and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator(selector)).to_contain_text(text)


def test_the_assessor_attaches_a_file_to_the_form_and_none_after_finalizing(
        page: Page, school: dict[str, Any], board_exam: dict[str, Any], tmp_path: Path) -> None:
    sign_in(page, ASSESSOR, school["password"])
    page.goto(f"/assess/{board_exam['schedule_id']}")
    expect(page.locator("#attachments")).to_contain_text("Geen bijlagen")
    photo = tmp_path / "observatie-handen.txt"
    photo.write_text("Foto-beschrijving: handen gewassen voor de zorg.")
    upload(page, photo, r"attached=file_")
    expect(page.locator(".notice")).to_contain_text("bijlage is bij je formulier opgeslagen")
    until_listed(page, "#attachments", "observatie-handen.txt")
    both_languages(page, "exam-assess-attachments")
    page.get_by_label("voldaan", exact=True).check()
    page.get_by_role("button", name="Concept opslaan").click()
    expect(page.locator(".notice")).to_contain_text("Concept opgeslagen")
    expect(page.locator("#attachments")).to_contain_text("observatie-handen.txt")  # saving keeps it
    page.get_by_role("link", name="Naar afronden").click()
    page.locator("#f-confirm").check()
    page.get_by_role("button", name="Beoordeling indienen").click()
    expect(page.locator(".notice").first).to_contain_text("ingediend")
    expect(page.locator("#attachments")).to_contain_text("observatie-handen.txt")
    expect(page.locator("#attach-closed")).to_contain_text("er kunnen geen bijlagen meer bij")
    expect(page.locator("#upload-file")).to_have_count(0)
    both_languages(page, "exam-assess-final-attachments")


def test_sems_upload_is_closed_after_finalization_with_the_reason(page: Page, school: dict[str, Any], suite: Any,
                                                                   board_exam: dict[str, Any]) -> None:
    # A file that lost the race with the finalization, as evidence flags it when the event arrives.
    with exams_db(suite, "evidence") as db:
        locked = db.files.find_one({"attempt_id": board_exam["attempt_id"], "filename": "verslag.txt"})
        assert locked is not None
        db.files.insert_one({**locked, "_id": f"{locked['_id']}-late", "filename": "nagekomen.txt", "locked": False,
                             "status": "late", "flag": "completed_after_finalization",
                             "finalized_at": datetime.now(UTC) - timedelta(minutes=1)})
    sign_in(page, SEM, school["password"])
    page.goto(f"/my-exams/attempts/{board_exam['attempt_id']}")
    expect(page.locator("#upload-closed")).to_contain_text("de beoordeling van deze poging is afgerond")
    expect(page.locator("#upload-file")).to_have_count(0)
    expect(page.locator("#evidence li", has_text="verslag.txt")).not_to_contain_text("telt niet mee")
    expect(page.locator("#evidence li", has_text="nagekomen.txt")).to_contain_text("te laat, telt niet mee")
    both_languages(page, "exam-attempt-closed")


def test_an_upload_that_comes_just_after_finalization_is_refused_saying_why(
        page: Page, school: dict[str, Any], board_exam: dict[str, Any], tmp_path: Path) -> None:
    api, sid, part = board_exam["api"], board_exam["school_id"], board_exam["lieke"]
    sign_in(page, LIEKE, school["password"])
    page.goto(f"/my-exams/attempts/{part['attempt_id']}")
    expect(page.locator("#upload-file")).to_be_visible()  # the page was opened while the attempt ran
    form = f"/exams/v1/schools/{sid}/schedules/{part['id']}/assessment"
    saved = api.http.put(f"{form}/forms/me", headers=board_exam["assessor"], json={"version": 0, "scores": {
        "c1": "pass"}, "justifications": {}})
    assert saved.status_code == 200, saved.text
    done = api.http.post(f"{form}/finalize", headers=board_exam["assessor"], json={"confirm": True})
    assert done.status_code == 200, done.text
    listing = f"/evidence/v1/schools/{sid}/attempts/{part['attempt_id']}/evidence"
    locked = eventually(lambda: api.http.get(listing, headers=board_exam["lieke_headers"]),
                        lambda r: r.status_code == 200 and all(f["locked"] for f in r.json()))
    assert all(f["locked"] for f in locked.json())  # evidence knows the assessment is final
    late = tmp_path / "te-laat.txt"
    late.write_text("Nog een aanvulling.")
    page.locator("#upload-file").set_input_files(str(late))
    page.get_by_role("button", name="Uploaden").click()
    status = page.locator(".upload-status")
    expect(status).to_contain_text("Uploaden mislukt", timeout=20_000)  # at once, not after minutes of retries
    expect(status).to_contain_text("definitief")
    page.reload()
    expect(page.locator("#upload-closed")).to_contain_text("de beoordeling van deze poging is afgerond")
    expect(page.locator("#evidence")).not_to_contain_text("te-laat.txt")
    adopt_the_result(board_exam, part["student_id"])  # no result of this module is left awaiting the board


def adopt_the_result(board_exam: dict[str, Any], student_id: str) -> None:
    """The board adopts a student's result (the adoption pages are another engineer's): the term starts."""
    api, sid, board = board_exam["api"], board_exam["school_id"], board_exam["board"]
    found = eventually(lambda: api.http.get(f"/exams/v1/schools/{sid}/results", headers=board, params={
        "student_id": student_id, "exam_id": board_exam["exam_id"]}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1)
    [result] = found.json()["items"]
    if result["state"] != "adopted":
        r = api.http.post(f"/exams/v1/schools/{sid}/results/{result['id']}/adopt", headers=board)
        assert r.status_code == 200, r.text


def test_sem_asks_for_an_inspection_adds_a_document_and_objects_too_late(
        page: Page, school: dict[str, Any], suite: Any, board_exam: dict[str, Any], tmp_path: Path) -> None:
    adopt_the_result(board_exam, board_exam["student_id"])
    sign_in(page, SEM, school["password"])
    page.goto("/my-results")  # the request starts from his adopted result (also from the attempt's page)
    page.locator("#result-PVB-XB-1").get_by_role("link", name="Aanvragen voor poging 1").click()
    expect(page).to_have_url(re.compile(f"/my-exams/attempts/{board_exam['attempt_id']}/request"))
    page.goto(f"/my-exams/attempts/{board_exam['attempt_id']}")
    page.get_by_role("link", name="Inzage of bezwaar aanvragen").click()
    both_languages(page, "exam-case-request")
    page.locator("#f-reason").fill("Ik wil zien hoe mijn observatie is beoordeeld.")
    page.get_by_role("button", name="Verzoek indienen").click()  # no kind chosen
    expect(page.locator("#e-kind")).to_contain_text("Kies inzage of bezwaar")
    expect(page.locator("#f-reason")).to_have_value("Ik wil zien hoe mijn observatie is beoordeeld.")
    page.locator("#f-kind-inspection").check()
    page.get_by_role("button", name="Verzoek indienen").click()
    expect(page.locator(".notice")).to_contain_text("De zaak is geopend")
    STATE["inspection"] = page.url.split("?")[0].rsplit("/", 1)[-1]
    expect(page.locator("#reason")).to_contain_text("Ik wil zien hoe mijn observatie is beoordeeld.")
    letter = tmp_path / "toelichting.txt"
    letter.write_text("Graag inzage op een dinsdag.")
    upload(page, letter, r"uploaded=file_")
    until_listed(page, "#documents", "toelichting.txt")
    both_languages(page, "exam-case-student")
    page.goto(f"/my-exams/attempts/{board_exam['attempt_id']}/request")
    page.locator("#f-kind-objection").check()
    page.locator("#f-reason").fill("Ik ben het niet eens met de beoordeling.")
    page.get_by_role("button", name="Verzoek indienen").click()
    expect(page.locator(".notice")).to_contain_text("De zaak is geopend")
    # The term passes: the result was adopted 40 days ago (more than 15 working days).
    with exams_db(suite) as db:
        moved = db.results.update_many({"student_id": board_exam["student_id"], "exam_id": board_exam["exam_id"]},
                                       {"$set": {"adopted_at": datetime.now(UTC) - timedelta(days=40)}})
        assert moved.modified_count >= 1
    page.goto(f"/my-exams/attempts/{board_exam['attempt_id']}/request")
    page.locator("#f-kind-inspection").check()
    page.locator("#f-reason").fill("Nog een keer inzage, met mijn ouders erbij.")
    page.get_by_role("button", name="Verzoek indienen").click()
    expect(page.locator("#e-kind")).to_contain_text("Te laat")
    expect(page.locator("#too-late")).to_contain_text("examencommissie")
    expect(page.locator("#f-reason")).to_have_value("Nog een keer inzage, met mijn ouders erbij.")
    both_languages(page, "exam-case-request-too-late")
    page.goto("/cases")
    expect(page.locator("#cases")).to_contain_text("Inzage")
    expect(page.locator("#cases")).to_contain_text("Bezwaar")
    both_languages(page, "exam-cases-student")


def board_opens(page: Page, student_id: str, kind: str, reason: str, attempt_id: str | None = None,
                exam: str | None = None) -> None:
    """The board opens a case for a student from the case form (student chosen by link; exam by its name)."""
    page.goto(f"/cases/new?student_id={student_id}")
    page.locator("#f-kind").select_option(kind)
    if attempt_id:
        page.locator("#f-attempt_id").select_option(attempt_id)
    if exam:
        page.locator("#f-exam_id").select_option(label=exam)
    page.locator("#f-reason").fill(reason)
    page.get_by_role("button", name="Zaak openen").click()
    expect(page.locator(".notice")).to_contain_text("De zaak is geopend")


def test_sem_asks_for_an_exemption_too_late_and_is_told_why(page: Page, school: dict[str, Any],
                                                            board_exam: dict[str, Any]) -> None:
    sign_in(page, SEM, school["password"])
    page.goto("/my-exams")
    page.locator("#my-PVB-XB-1").get_by_role("link", name="Vrijstelling aanvragen").click()
    expect(page).to_have_url(re.compile(f"/my-exams/exams/{board_exam['exam_id']}/exemption"))
    both_languages(page, "exam-case-exemption")
    page.locator("#f-reason").fill("Ik heb de observatie al behaald bij mijn vorige opleiding.")
    page.get_by_role("button", name="Verzoek indienen").click()
    # His exam was scheduled long ago: an exemption is asked at least six weeks before the first moment.
    expect(page.locator("#e-reason")).to_contain_text("minstens zes weken voor het eerste examenmoment")
    expect(page.locator("#f-reason")).to_have_value("Ik heb de observatie al behaald bij mijn vorige opleiding.")


def test_the_board_works_its_cases_by_deadline_and_decides(page: Page, school: dict[str, Any], suite: Any,
                                                          board_exam: dict[str, Any], tmp_path: Path) -> None:
    sign_in(page, BOARD, school["password"])
    # The board opens an extra-attempt case itself, for Sem found by his code.
    page.goto("/cases")
    page.get_by_role("link", name="Zaak openen").click()
    both_languages(page, "exam-case-new-step1")
    page.locator("#f-q").fill("100901")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator("#chosen-student")).to_contain_text("Sem Bakker (100901)")
    both_languages(page, "exam-case-new")
    page.locator("#f-reason").fill("De mentor vraagt een extra kans vanwege langdurige ziekte.")
    page.get_by_role("button", name="Zaak openen").click()  # no kind
    expect(page.locator("#f-kind")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-reason")).to_have_value("De mentor vraagt een extra kans vanwege langdurige ziekte.")
    page.locator("#f-kind").select_option("extra_attempt")
    page.locator("#f-exam_id").select_option(board_exam["exam_id"])
    page.get_by_role("button", name="Zaak openen").click()
    expect(page.locator(".notice")).to_contain_text("De zaak is geopend")
    extra = page.url.split("?")[0].rsplit("/", 1)[-1]
    with exams_db(suite) as db:  # its deadline passed: the case is overdue
        db.cases.update_one({"_id": extra}, {"$set": {"deadline": datetime.now(UTC) - timedelta(days=1)}})
    page.goto("/cases")
    rows = page.locator("#cases tbody tr")
    expect(rows.first).to_contain_text("Te laat: termijn verstreken")
    expect(rows.first).to_contain_text("Extra examenkans")
    expect(page.locator("#cases tr", has_text="Inzage")).to_contain_text("Binnen de termijn")
    both_languages(page, "exam-cases")
    page.locator("#flt-kind").select_option("inspection")
    page.get_by_role("button", name="Filteren").click()
    expect(rows).to_have_count(1)
    # The inspection: its document, and a decision without the required moment is refused there.
    rows.first.get_by_role("link", name="Inzage").click()
    expect(page.locator("#documents")).to_contain_text("toelichting.txt")
    with page.expect_download() as download:
        page.get_by_role("link", name="toelichting.txt").click()
    saved = tmp_path / "ontvangen.txt"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "toelichting.txt"
    assert saved.read_text() == "Graag inzage op een dinsdag."  # the student's document, as uploaded
    both_languages(page, "exam-case")
    page.locator("#f-outcome-granted").check()
    page.locator("#f-location").fill("Lokaal 2.14")
    page.locator("#f-note").fill("Inzage toegekend; de examinator licht de beoordeling toe.")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#e-inspection_at")).to_be_visible()
    expect(page.locator("#f-note")).to_have_value("Inzage toegekend; de examinator licht de beoordeling toe.")
    expect(page.locator("#f-location")).to_have_value("Lokaal 2.14")
    moment = (datetime.now(UTC) + timedelta(days=7)).astimezone().strftime("%Y-%m-%dT10:00")
    page.locator("#f-inspection_at").fill(moment)
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator(".notice")).to_contain_text("Het besluit is vastgelegd")
    expect(page.locator("#decision")).to_contain_text("Lokaal 2.14")
    expect(page.locator("#upload-file")).to_have_count(0)  # no documents after the decision
    # The objection: an amended result; "passed" below the pass mark is refused at the grade.
    page.goto("/cases?kind=objection")
    rows.first.get_by_role("link", name="Bezwaar").click()
    page.locator("#f-outcome-amended").check()
    page.locator("#f-note").fill("Bij herbeoordeling van het dossier blijkt het werk voldoende.")
    page.get_by_role("button", name="Besluit vastleggen").click()  # no result given
    expect(page.locator("#e-result")).to_be_visible()
    page.locator("#f-result_outcome").select_option("passed")
    page.locator("#f-result_grade").fill("4,0")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#e-result_grade")).to_contain_text("5.5")
    expect(page.locator("#f-result_grade")).to_have_value("4,0")
    page.locator("#f-result_grade").fill("6,5")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#decision")).to_contain_text("behaald, 6,5")
    # An accommodation the board opens itself: granted without measures is refused at the field.
    board_opens(page, board_exam["student_id"], "accommodation", "Dyslexieverklaring ontvangen.")
    page.locator("#f-outcome-granted").check()
    page.locator("#f-note").fill("Toegekend op grond van de verklaring.")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#e-measures")).to_be_visible()
    page.locator("#f-measures").fill("30 minuten extra tijd\nEen stille ruimte")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#decision")).to_contain_text("30 minuten extra tijd; Een stille ruimte")
    # An exemption from the demo exam, which he has not started: granted for its core task, valid five years.
    board_opens(page, board_exam["student_id"], "exemption", "Diploma van een eerdere opleiding ontvangen.",
                exam="Proeve Verzorgende-IG: zorg en ondersteuning")
    page.locator("#f-outcome-granted").check()
    page.locator("#f-ct-B1-K1").check()
    page.locator("#f-note").fill("Vrijgesteld op grond van het eerder behaalde diploma.")
    page.get_by_role("button", name="Besluit vastleggen").click()  # no document yet
    expect(page.get_by_role("alert")).to_contain_text("er is er nog geen geüpload")
    diploma = tmp_path / "diploma.txt"
    diploma.write_text("Diploma Helpende Zorg en Welzijn, 2024.")
    upload(page, diploma, r"uploaded=file_")
    until_listed(page, "#documents", "diploma.txt")
    page.locator("#f-outcome-granted").check()
    page.locator("#f-note").fill("Vrijgesteld op grond van het eerder behaalde diploma.")
    page.get_by_role("button", name="Besluit vastleggen").click()  # no core task ticked
    expect(page.locator("#e-core_tasks")).to_be_visible()
    page.locator("#f-ct-B1-K1").check()
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#decision")).to_contain_text("B1-K1")
    school_year = datetime.now(ZoneInfo("Europe/Amsterdam")).year  # the board's day, as the service counts it
    expect(page.locator("#decision")).to_contain_text(str(school_year + 5))  # no date given: five years
    # The overdue extra attempt is granted late, and leaves the open list.
    page.goto(f"/cases/{extra}")
    expect(page.locator("#facts")).to_contain_text("te laat: de termijn is verstreken")
    page.locator("#f-outcome-granted").check()
    page.locator("#f-note").fill("Extra kans toegekend wegens aangetoonde ziekte.")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#decision")).to_contain_text("Toegekend")
    page.goto("/cases")
    expect(page.locator("#cases")).not_to_contain_text("Te laat")
    # Fraud on the attempt, with an exclusion: beyond twelve months is refused at the date.
    board_opens(page, board_exam["student_id"], "fraud", "Verslag grotendeels overgenomen van een medestudent.",
                attempt_id=board_exam["attempt_id"])
    both_languages(page, "exam-case-fraud")
    page.locator("#f-outcome-fraud").check()
    page.locator("#f-excluded_until").fill((datetime.now(UTC) + timedelta(days=400)).strftime("%Y-%m-%d"))
    page.locator("#f-exclusion_scope").select_option("all")
    page.locator("#f-note").fill("Fraude vastgesteld na gesprek met de student.")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#e-excluded_until")).to_contain_text("twaalf maanden")
    expect(page.locator("#f-exclusion_scope")).to_have_value("all")
    page.locator("#f-excluded_until").fill((datetime.now(UTC) + timedelta(days=90)).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#decision")).to_contain_text("van alle examens tot en met")


def test_an_objection_is_decided_with_a_new_assessment_by_another_assessor(page: Page, school: dict[str, Any],
                                                                           board_exam: dict[str, Any]) -> None:
    part = board_exam["lieke"]
    sign_in(page, BOARD, school["password"])
    board_opens(page, part["student_id"], "objection", "De student meldt dat de examinator haar observatie maar "
                "kort heeft gezien.", attempt_id=part["attempt_id"])
    both_languages(page, "exam-case-objection")
    page.locator("#f-outcome-new_assessment").check()
    page.locator("#f-new_assessor_id").select_option(label="Erik Examinator")  # who assessed it already
    page.get_by_label("Observatie").check()
    page.locator("#f-note").fill("Een andere examinator beoordeelt de observatie opnieuw.")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#e-new_assessor_id")).to_contain_text("andere examinator")
    expect(page.get_by_label("Observatie")).to_be_checked()
    page.locator("#f-new_assessor_id").select_option(label="Ria Herbeoordeling")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("#decision")).to_contain_text("Ria Herbeoordeling")
    expect(page.locator("#decision")).to_contain_text("Nieuwe beoordeling door een andere examinator")


def test_the_board_reads_sems_audit_trail_and_the_chain_check(page: Page, school: dict[str, Any], suite: Any,
                                                              board_exam: dict[str, Any]) -> None:
    sign_in(page, BOARD, school["password"])
    page.goto(f"/cases/{STATE['inspection']}")
    page.get_by_role("link", name="audittrail van de student").click()
    expect(page.locator("h1")).to_contain_text("Sem Bakker")
    trail = page.locator("#trail")
    deadline = time.monotonic() + 60
    while "Besluit van de examencommissie" not in trail.inner_text() and time.monotonic() < deadline:
        page.wait_for_timeout(500)  # the worker appends each event to the chain
        page.reload()
    for what in ("Opdracht ondertekend", "Opdracht vastgesteld", "Beoordeling van de poging afgerond",
                 "Resultaat vastgesteld", "Zaak geopend", "Besluit van de examencommissie"):
        expect(trail).to_contain_text(what)
    expect(page.locator("#verification")).to_contain_text("Gecontroleerd: de keten is intact.")
    both_languages(page, "exam-audit-student")
    victim = int(trail.locator("tbody tr").nth(1).locator("td").first.inner_text().split()[0])
    with exams_db(suite) as db:
        stored = db.audit.find_one({"school_id": board_exam["school_id"], "seq": victim})
        assert stored is not None
        db.audit.update_one({"_id": stored["_id"]}, {"$set": {"actor": "someone-else"}})
        try:
            page.reload()
            expect(page.locator("#verification")).to_contain_text(f"Keten verbroken bij record {victim}.")
            expect(page.locator("#verification")).to_contain_text("gewijzigd na het vastleggen")
            audit(page, "exam-audit-broken")
        finally:
            db.audit.update_one({"_id": stored["_id"]}, {"$set": {"actor": stored["actor"]}})
    page.goto("/audit")
    expect(page.locator("#verification")).to_contain_text("de keten is intact")
    both_languages(page, "exam-audit-school")
