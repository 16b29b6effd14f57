"""A practical exam done through the pages, each step by the person whose step it is.

The operator publishes an exam and the admin makes an exam group, an exam-board member and a second assessor
(through the APIs: those pages are not part of this journey); then, in Chromium: the supervisor prepares the
assignment for the group (after a refusal shown at the fields), attaches a file and meets a stale form; Jan, Fatima,
the workplace trainer and the supervisor sign; the exam board adopts for the group; the supervisor schedules part by
part with a second assessor (copy from the part above, after a refusal), reschedules and cancels with the consequence
shown first; the overview, the assessor's dashboard and Jan's own exams follow; Jan uploads evidence for his attempt.
Then the second half: the second assessor scores the observation "pass" where the first says "fail"; the first
assessor sees the divergence, explains it and finalizes with confirmation; the interview is moved to now and
assessed, so the attempt is graded; the exam board adopts the group's result on its page (a second tab adopting it
again is refused); Jan sees his adopted result and that a retake is possible; the supervisor opens the retake (a
second one is refused, explained); Jan sees attempt 2 in his exams. Every new page is audited (axe) and photographed
in Dutch and English.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import both_languages, invite, sign_in
from tests.e2e.test_exams_journey import EXAM as JOURNEY_EXAM
from tests.e2e.test_exams_journey import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]  # a shared 2-core machine: seeding may be slow
DOMAIN = "demo-roc.example"
# The exam board member is this module's own (other modules change the demo board member's password), and so is
# the second assessor (the demo school has one assessor).
SUPERVISOR, ASSESSOR, BOARD, TRAINER, SECOND = (f"{h}@{DOMAIN}" for h in (
    "begeleider", "examinator", "vaststeller", "praktijkopleider", "tweede.examinator"))
JAN, FATIMA = f"jan.100001@student.{DOMAIN}", f"fatima.100002@student.{DOMAIN}"
ZONE = ZoneInfo("Europe/Amsterdam")
EXAM = {**JOURNEY_EXAM, "code": "PVB-WEB-1", "name": "Proeve Zorg in de browser",
        "provider_assignments": [{"code": "VAST-1", "title": "Vaste zorgopdracht", "text": "Verzorg een cliënt."}]}
STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def exam(school: dict[str, Any], suite: Any, web: str) -> dict[str, Any]:
    """A published exam for the demo programme and an exam group of the three demo students (APIs)."""
    http = httpx.Client(base_url=web, timeout=15)

    def login(email: str, password: str) -> dict[str, str]:
        r = http.post("/identity/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    sid = school["school_id"]
    secrets_ = suite.identity_secrets()
    operator = login(secrets_["OPERATOR_EMAIL"], secrets_["OPERATOR_PASSWORD"])
    admin = login(f"admin@{DOMAIN}", school["password"])
    programme = http.get(f"/enrollment/v1/schools/{sid}/programmes", headers=admin).json()["items"][0]
    published = eventually(lambda: http.post("/exams/v1/catalog/exams", headers=operator,
                                             json={**EXAM, "programme_id": programme["id"]}),
                           lambda r: r.status_code != 422)
    assert published.status_code == 201, published.text
    group = http.post(f"/enrollment/v1/schools/{sid}/groups", headers=admin,
                      json={"name": "Examengroep VIG 2026", "category": "examengroep"}).json()
    students = http.get(f"/enrollment/v1/schools/{sid}/students", headers=admin, params={"limit": 50}).json()["items"]
    ids = {s["student_code"]: s["id"] for s in students}
    members = [ids["100001"], ids["100002"], ids["100003"]]
    r = http.post(f"/enrollment/v1/schools/{sid}/groups/{group['id']}/members", headers=admin, json={"add": members})
    assert r.status_code == 200, r.text
    for email, name, role in ((BOARD, "Bram Vaststeller", "exam_board"), (SECOND, "Tessa Tweede", "assessor")):
        invite(suite, http, admin, school=sid, email=email, name=name, role=role, password=school["password"])
    supervisor = login(SUPERVISOR, school["password"])
    seen = eventually(lambda: http.get(f"/exams/v1/schools/{sid}/overview", headers=supervisor, params={
        "programme_id": programme["id"], "group_id": group["id"]}),
        lambda r: r.status_code == 200 and len(r.json()["rows"]) == 3)
    assert len(seen.json()["rows"]) == 3, seen.text  # exams learned of the group's members
    people = eventually(lambda: http.get(f"/exams/v1/schools/{sid}/people", headers=supervisor),
                        lambda r: r.status_code == 200 and {"Bram Vaststeller", "Tessa Tweede"} <= {
                            p["display_name"] for p in r.json()})
    assert people.status_code == 200
    return {"id": published.json()["id"], "group_id": group["id"], "programme_id": programme["id"],
            "students": ids, "school_id": sid}


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))


def local(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def test_the_supervisor_prepares_for_the_group_after_a_refusal(page: Page, school: dict[str, Any],
                                                                exam: dict[str, Any]) -> None:
    sign_in(page, SUPERVISOR, school["password"])
    nav(page, "Examenopdrachten")
    page.get_by_role("link", name="Opdracht klaarzetten").click()
    both_languages(page, "exam-prepare-step1")
    page.locator("#f-exam").select_option(exam["id"])
    page.get_by_role("button", name="Kies dit examen").click()
    expect(page.locator("h2", has_text="Stap 2")).to_be_visible()
    both_languages(page, "exam-prepare")
    # Nobody chosen and no first assessor: refused at those fields, and what was typed stays.
    page.locator("#src-individual").check()
    page.locator("#f-title").fill("Zorgplan in de praktijk")
    page.locator("#f-text").fill("Stel een zorgplan op voor een cliënt en voer het uit.")
    page.get_by_role("button", name="Opdracht klaarzetten").click()
    expect(page.locator("#e-student_ids")).to_be_visible()
    expect(page.locator("#f-title")).to_have_value("Zorgplan in de praktijk")
    expect(page.locator("#f-text")).to_have_value("Stel een zorgplan op voor een cliënt en voer het uit.")
    page.locator("#f-group_id").select_option(label="Examengroep VIG 2026")
    page.get_by_role("button", name="Opdracht klaarzetten").click()
    expect(page.locator("#f-first_assessor_id")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-first_assessor_id")).to_be_visible()
    expect(page.locator("#f-title")).to_have_value("Zorgplan in de praktijk")
    page.locator("#f-first_assessor_id").select_option(label="Erik Examinator")
    page.locator("#f-adopter_id").select_option(label="Bram Vaststeller")
    page.locator("#f-location").fill("Zorgcentrum De Linde")
    page.locator("#f-desired_end_date").fill("2026-03-01")
    page.get_by_role("button", name="Opdracht klaarzetten").click()
    expect(page.locator(".notice")).to_contain_text("Klaargezet voor 3 student(en)")
    expect(page.locator("tbody tr")).to_have_count(3)
    both_languages(page, "exam-assignments")
    # Once more for Jan: refused for everyone chosen, naming him and why, at his row.
    page.goto(f"/assignments/new?exam_id={exam['id']}")
    page.get_by_label("Jan de Vries").check()
    page.locator("#f-title").fill("Tweede opdracht")
    page.locator("#f-text").fill("Dubbel.")
    page.locator("#f-first_assessor_id").select_option(label="Erik Examinator")
    page.locator("#f-adopter_id").select_option(label="Bram Vaststeller")
    page.get_by_role("button", name="Opdracht klaarzetten").click()
    expect(page.locator("#error-summary")).to_contain_text("Jan de Vries heeft al een opdracht voor dit examen")
    expect(page.locator("tr.row-error")).to_contain_text("heeft al een opdracht")
    expect(page.get_by_label("Jan de Vries")).to_be_checked()


def open_assignment(page: Page, student: str) -> None:
    page.goto("/assignments")
    page.locator("tr", has_text=student).get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Zorgplan in de praktijk")


def test_the_supervisor_attaches_a_file_and_a_stale_form_says_so(page: Page, school: dict[str, Any],
                                                                 exam: dict[str, Any], tmp_path: Path) -> None:
    sign_in(page, SUPERVISOR, school["password"])
    open_assignment(page, "Jan de Vries")
    STATE["jan"] = page.url.rsplit("/", 1)[-1]
    both_languages(page, "exam-assignment")
    expect(page.locator(".sig-student")).to_contain_text("nog niet")
    plan = tmp_path / "observatieformulier.txt"
    plan.write_text("Observatiepunten voor de zorg.")
    deadline = time.monotonic() + 60
    while "attached=1" not in page.url and time.monotonic() < deadline:  # evidence learns of it from an event
        page.locator("#upload-file").set_input_files(str(plan))
        page.get_by_role("button", name="Uploaden").click()
        for _ in range(60):  # done: the page goes to its done-url; refused: the control says failed
            page.wait_for_timeout(250)
            if "attached=1" in page.url or page.locator(".upload[data-state=failed]").count():
                break
        if "attached=1" not in page.url:
            page.reload()
    expect(page.locator(".notice")).to_contain_text("ontvangen")
    while page.get_by_role("link", name="observatieformulier.txt").count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(500)  # exams lists it once evidence's event arrives
        page.reload()
    expect(page.get_by_role("link", name="observatieformulier.txt")).to_be_visible()
    # Two tabs: the change in the second makes the first one's form stale.
    first = page
    second = page.context.new_page()
    second.goto(first.url)
    second.locator("#f-location").fill("Zorgcentrum De Linde, afdeling Noord")
    second.get_by_role("button", name="Wijzigingen opslaan").click()
    expect(second.locator(".notice")).to_contain_text("Opgeslagen")
    second.close()
    first.locator("#f-text").fill("Stel een zorgplan op en bespreek het met de cliënt.")
    first.get_by_role("button", name="Wijzigingen opslaan").click()
    expect(first.locator("#error-summary")).to_contain_text("Iemand anders heeft dit intussen gewijzigd")
    expect(first.locator("#f-text")).to_have_value("Stel een zorgplan op en bespreek het met de cliënt.")
    first.get_by_role("link", name=re.compile("Nieuwe versie laden")).click()
    expect(first.locator("#f-location")).to_have_value("Zorgcentrum De Linde, afdeling Noord")


def test_three_signatures_each_with_an_explicit_confirmation(page: Page, school: dict[str, Any],
                                                             exam: dict[str, Any]) -> None:
    password = school["password"]
    sign_in(page, JAN, password)
    nav(page, "Mijn examens")
    both_languages(page, "exam-my")
    page.get_by_role("link", name="Bekijken en goedkeuren").click()
    version = page.locator("#sign-what").inner_text()
    assert re.search(r"Je ondertekent versie \d+ van deze opdracht", version)
    both_languages(page, "exam-approve")
    page.get_by_role("button", name=re.compile("ondertekenen")).click()  # without ticking the box
    expect(page.locator("#e-confirm")).to_be_visible()
    page.locator("#f-confirm").check()
    page.get_by_role("button", name=re.compile("ondertekenen")).click()
    expect(page.locator(".notice")).to_contain_text("handtekening is opgeslagen")
    expect(page.locator(".sig-student")).to_contain_text("Jan de Vries")
    sign_out(page)
    # Signing twice: two tabs on Fatima's confirmation; the second one is told it changed and has nothing to sign.
    sign_in(page, FATIMA, password)
    nav(page, "Mijn examens")
    page.get_by_role("link", name="Bekijken en goedkeuren").click()
    other = page.context.new_page()
    other.goto(page.url)
    page.locator("#f-confirm").check()
    page.get_by_role("button", name=re.compile("ondertekenen")).click()
    expect(page.locator(".notice")).to_contain_text("handtekening is opgeslagen")
    other.locator("#f-confirm").check()
    other.get_by_role("button", name=re.compile("ondertekenen")).click()
    expect(other.locator("#error-summary")).to_contain_text("al ondertekend")
    expect(other.locator(".notice")).to_contain_text("niets (meer) te ondertekenen")
    expect(other.get_by_role("button", name=re.compile("ondertekenen"))).to_have_count(0)
    other.close()
    sign_out(page)
    for email, student, mine in ((TRAINER, "Jan de Vries", False),
                                 (TRAINER, "Fatima El Amrani", False), (SUPERVISOR, "Jan de Vries", False),
                                 (SUPERVISOR, "Fatima El Amrani", False)):
        sign_in(page, email, password)
        if mine:
            nav(page, "Mijn examens")
            page.get_by_role("link", name="Bekijken en goedkeuren").click()
        else:
            open_assignment(page, student)
            page.get_by_role("link", name="Goedkeuren (ondertekenen)").click()
        page.locator("#f-confirm").check()
        page.get_by_role("button", name=re.compile("ondertekenen")).click()
        expect(page.locator(".notice")).to_contain_text("handtekening is opgeslagen")
        sign_out(page)
    # Who signed and when, visible to each of the three: here the trainer.
    sign_in(page, TRAINER, password)
    open_assignment(page, "Jan de Vries")
    expect(page.locator(".state")).to_contain_text("wacht op vaststelling")
    expect(page.locator(".sig-student")).to_contain_text("Jan de Vries")
    expect(page.locator(".sig-school_supervisor")).to_contain_text("Sanne Begeleider")
    expect(page.locator(".sig-workplace_trainer")).to_contain_text("Piet Praktijk")
    expect(page.get_by_role("link", name="Goedkeuren (ondertekenen)")).to_have_count(0)


def test_the_exam_board_adopts_for_the_group(page: Page, school: dict[str, Any], exam: dict[str, Any]) -> None:
    sign_in(page, BOARD, school["password"])
    nav(page, "Examenopdrachten")
    both_languages(page, "exam-assignments-board")
    page.once("dialog", lambda d: d.accept())
    page.locator("#f-group_id").select_option(label="Examengroep VIG 2026")
    page.get_by_role("button", name="Groep vaststellen").click()
    expect(page.locator(".notice")).to_contain_text("2 opdracht(en) vastgesteld")
    expect(page.locator("tr", has_text="Daan Jansen")).to_contain_text("In voorbereiding")
    expect(page.locator("tr", has_text="Jan de Vries")).to_contain_text("Vastgesteld")


def test_the_supervisor_schedules_part_by_part_reschedules_and_cancels(page: Page, school: dict[str, Any],
                                                                       exam: dict[str, Any]) -> None:
    sign_in(page, SUPERVISOR, school["password"])
    # Daan's assignment still awaits approval: scheduling it is refused, saying why.
    open_assignment(page, "Daan Jansen")
    page.goto(f"/schedule?assignment_ids={page.url.rsplit('/', 1)[-1]}")
    expect(page.locator("#who + ul")).to_contain_text("nog niet vastgesteld")
    page.locator("#f-all_parts_starts_at").fill(local(datetime.now(ZONE) + timedelta(days=30)))
    page.get_by_role("button", name="Inplannen").click()
    expect(page.locator("#error-summary")).to_contain_text("is nog niet vastgesteld")
    expect(page.locator("#f-all_parts_starts_at")).not_to_have_value("")
    # Prepared wrongly: deleted before execution (it stays, marked deleted).
    open_assignment(page, "Daan Jansen")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Opdracht verwijderen").click()
    expect(page.locator(".notice")).to_contain_text("De opdracht is verwijderd")
    expect(page.locator("tr", has_text="Daan Jansen")).to_contain_text("Verwijderd")
    page.goto("/assignments?state=adopted")
    page.locator("#pick-all").check()
    page.get_by_role("button", name="Gekozen opdrachten inplannen").click()
    expect(page.locator("h2#who")).to_contain_text("2 student")
    both_languages(page, "exam-schedule")
    page.locator("#mode-parts").check()
    now = datetime.now(ZONE)
    page.locator("#f-parts_0_starts_at").fill(local(now - timedelta(hours=1)))
    page.locator("#f-parts_0_ends_at").fill(local(now - timedelta(hours=2)))  # before the start: refused
    page.locator("#f-parts_0_location").fill("Afdeling Noord, kamer 3")
    page.locator("#f-parts_0_second_assessor_id").select_option(label="Tessa Tweede")  # copied to the part below
    page.locator("#f-parts_1_copy_from_above").check()
    page.get_by_role("button", name="Inplannen").click()
    expect(page.locator("#e-parts_0_ends_at")).to_contain_text("Het einde ligt voor het begin")
    expect(page.locator("#f-parts_0_location")).to_have_value("Afdeling Noord, kamer 3")
    page.locator("#f-parts_0_ends_at").fill(local(now + timedelta(hours=2)))
    page.locator("#f-parts_1_starts_at").fill(local(now + timedelta(days=20)))
    page.locator("#f-parts_1_ends_at").fill(local(now + timedelta(days=20, hours=3)))
    page.locator("#f-parts_1_second_assessor_may_submit").check()
    page.get_by_role("button", name="Inplannen").click()
    expect(page.locator(".notice")).to_contain_text("4 onderdeel")
    open_assignment(page, "Jan de Vries")
    rows = page.locator("table", has_text="Onderdeel").locator("tbody tr")
    expect(rows).to_have_count(2)
    # Approved and scheduled: no more edits by the supervisor, and no deleting after execution started.
    expect(page.get_by_role("button", name="Wijzigingen opslaan")).to_have_count(0)
    expect(page.get_by_role("button", name="Opdracht verwijderen")).to_have_count(0)
    expect(rows.nth(1)).to_contain_text("Afdeling Noord, kamer 3")  # copied from the part above
    page.get_by_role("link", name="Afmelden Criteriumgericht interview").click()
    expect(page.locator("#consequence")).to_contain_text("Afmelden kan nog zonder gevolgen")  # 20 days ahead
    page.get_by_role("link", name="Nee, terug").click()
    page.get_by_role("link", name="Verzetten Criteriumgericht interview").click()
    expect(page.locator("#f-second_assessor_may_submit")).to_be_checked()
    both_languages(page, "exam-reschedule")
    page.locator("#f-location").fill("Kantoor 2")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("tr", has_text="Criteriumgericht interview")).to_contain_text("Kantoor 2")
    # Fatima's observation started an hour ago: the consequence (her attempt is lost) is shown before confirming.
    open_assignment(page, "Fatima El Amrani")
    page.get_by_role("link", name="Afmelden Observatie").click()
    expect(page.locator("#consequence")).to_contain_text("poging 1 vervalt")
    both_languages(page, "exam-cancel")
    page.get_by_role("button", name=re.compile("Ja, afmelden")).click()
    expect(page.locator("tr", has_text="Observatie")).to_contain_text("te laat: poging vervallen")
    expect(page.locator("tr", has_text="Criteriumgericht interview")).to_contain_text("Afgemeld")


def test_the_overview_shows_states_and_attempts_and_opens_the_students_exam(page: Page, school: dict[str, Any],
                                                                            exam: dict[str, Any]) -> None:
    sign_in(page, SUPERVISOR, school["password"])
    nav(page, "Examenoverzicht")
    matrix = page.locator("#matrix")
    jan = matrix.locator("tr", has_text="Jan de Vries")
    expect(jan).to_contain_text("Volledig ingepland, begonnen")
    expect(jan).to_contain_text("poging 1")
    expect(matrix.locator("tr", has_text="Daan Jansen")).to_contain_text("Niet ingepland")
    both_languages(page, "exam-overview")
    page.locator("#f-student").fill("Jan")
    page.get_by_role("button", name="Tonen").click()
    expect(matrix.locator("tbody tr")).to_have_count(1)
    page.goto(f"/overview?programme_id={exam['programme_id']}&group_id={exam['group_id']}")
    expect(matrix.locator("tbody tr")).to_have_count(3)
    # the cell of this exam (the demo programme has an exam of its own, not scheduled)
    matrix.locator("tr", has_text="Jan de Vries").get_by_role("link", name=re.compile("Volledig ingepland")).click()
    expect(page).to_have_url(re.compile(r"/assignments/" + STATE["jan"]))


def test_the_assessor_dashboard_splits_open_actions_from_planning(page: Page, school: dict[str, Any],
                                                                  exam: dict[str, Any]) -> None:
    sign_in(page, ASSESSOR, school["password"])
    nav(page, "Beoordelen")
    expect(page.locator("#open-actions tr", has_text="Jan de Vries")).to_contain_text("Observatie")
    expect(page.locator("#planning tr", has_text="Jan de Vries")).to_contain_text("Criteriumgericht interview")
    expect(page.locator("#open-actions")).not_to_contain_text("Fatima")  # her attempt was lost
    both_languages(page, "exam-dashboard")


def test_jan_sees_his_exam_and_uploads_evidence_for_his_attempt(page: Page, school: dict[str, Any],
                                                                exam: dict[str, Any], tmp_path: Path) -> None:
    sign_in(page, JAN, school["password"])
    nav(page, "Mijn examens")
    section = page.locator("section", has_text="Proeve Zorg in de browser")
    expect(section).to_contain_text("Volledig ingepland, begonnen")
    expect(section).to_contain_text("poging 1")
    expect(section).to_contain_text("Kantoor 2")
    section.get_by_role("link", name=re.compile("Bewijsstukken van poging 1")).click()
    both_languages(page, "exam-attempt")
    evidence = tmp_path / "zorgplan.txt"
    evidence.write_text("Mijn zorgplan voor mevrouw De Boer.")
    page.locator("#upload-file").set_input_files(str(evidence))
    page.get_by_role("button", name="Uploaden").click()
    expect(page.locator(".notice")).to_contain_text("bewijsstuk is opgeslagen", timeout=30_000)
    expect(page.locator("#evidence")).to_contain_text("zorgplan.txt")


def open_form(page: Page, email: str, password: str, part: str) -> None:
    """Sign in as an assessor and open the form of one of Jan's parts from the dashboard."""
    sign_in(page, email, password)
    nav(page, "Beoordelen")
    page.get_by_role("link", name=f"Beoordelen {part}, Jan de Vries").click()


def test_the_second_assessor_scores_the_observation_otherwise_and_may_not_finalize(
        page: Page, school: dict[str, Any], exam: dict[str, Any]) -> None:
    open_form(page, SECOND, school["password"], "Observatie")
    expect(page.locator("main")).to_contain_text("jij bent tweede examinator")
    page.get_by_label("voldaan", exact=True).check()  # the first assessor will say "fail": a divergence
    expect(page.locator(".autosave-status")).to_contain_text("automatisch opgeslagen")
    expect(page.get_by_role("link", name="Naar afronden")).to_have_count(0)  # not scheduled "may submit"
    page.goto(page.url + "/finalize")
    expect(page.locator("main")).to_contain_text("Alleen de eerste examinator")
    expect(page.get_by_role("button", name="Beoordeling indienen")).to_have_count(0)


def test_the_assessor_sees_the_divergence_explains_it_and_finalizes_with_confirmation(
        page: Page, school: dict[str, Any], exam: dict[str, Any]) -> None:
    open_form(page, ASSESSOR, school["password"], "Observatie")
    expect(page.locator("h1")).to_have_text("Beoordelen: Observatie")
    expect(page.locator("main")).to_contain_text("Andere examinator: pass")
    both_languages(page, "exam-assess")
    page.get_by_label("onvoldoende").check()
    expect(page.locator(".autosave-status")).to_contain_text("automatisch opgeslagen")  # a draft, by itself
    page.get_by_role("link", name="Naar afronden").click()
    expect(page.locator("#incomplete")).to_contain_text("onderbouwing ontbreekt")
    expect(page.locator("#both tr.row-error")).to_contain_text("Groot verschil")  # pass against fail
    both_languages(page, "exam-finalize")
    page.get_by_role("button", name="Beoordeling indienen").click()  # not ticked
    expect(page.locator("#e-confirm")).to_be_visible()
    page.locator("#f-confirm").check()
    page.get_by_role("button", name="Beoordeling indienen").click()  # ticked, but the justification is missing
    expect(page.locator("#error-summary")).to_be_visible()
    page.get_by_role("link", name="Vul het formulier aan").click()
    expect(page.get_by_label("onvoldoende")).to_be_checked()  # the draft was kept
    page.locator("#f-justifications_c1").fill("Handschoenen niet gewisseld tussen twee cliënten.")
    page.get_by_role("button", name="Concept opslaan").click()
    expect(page.locator(".notice")).to_contain_text("Concept opgeslagen")
    page.get_by_role("link", name="Naar afronden").click()
    expect(page.locator("#incomplete")).to_have_count(0)
    page.locator("#f-confirm").check()
    page.get_by_role("button", name="Beoordeling indienen").click()  # the divergence is not explained yet
    expect(page.locator("#e-divergence_note")).to_be_visible()
    page.locator("#f-divergence_note").fill("Tessa zag alleen het begin; later zijn de handschoenen niet gewisseld.")
    page.locator("#f-confirm").check()
    page.get_by_role("button", name="Beoordeling indienen").click()
    expect(page.locator(".notice")).to_contain_text("ingediend")
    expect(page.locator("main")).to_contain_text("Handschoenen niet gewisseld")
    expect(page.locator("main")).to_contain_text("Tessa zag alleen het begin")
    pdf = page.request.get(page.get_by_role("link", name="Beoordelingsformulier (pdf)").get_attribute("href") or "")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:4] == b"%PDF"


def test_the_interview_is_moved_to_now_and_assessed_so_the_attempt_gets_its_result(
        page: Page, school: dict[str, Any], exam: dict[str, Any]) -> None:
    sign_in(page, SUPERVISOR, school["password"])
    open_assignment(page, "Jan de Vries")
    page.get_by_role("link", name="Verzetten Criteriumgericht interview").click()
    page.locator("#f-starts_at").fill(local(datetime.now(ZONE) - timedelta(minutes=5)))
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator(".notice")).to_contain_text("Opgeslagen")
    sign_out(page)
    open_form(page, ASSESSOR, school["password"], "Criteriumgericht interview")
    page.locator("#f-scores_c2-4").check()
    expect(page.locator(".autosave-status")).to_contain_text("automatisch opgeslagen")
    page.get_by_role("link", name="Naar afronden").click()
    page.locator("#f-confirm").check()
    page.get_by_role("button", name="Beoordeling indienen").click()
    expect(page.locator(".notice")).to_contain_text("ingediend")


def test_the_exam_board_adopts_the_groups_result_and_adopting_twice_is_refused(
        page: Page, school: dict[str, Any], exam: dict[str, Any]) -> None:
    sign_in(page, BOARD, school["password"])
    nav(page, "Resultaten vaststellen")
    page.locator("#f-group_id").select_option(label="Examengroep VIG 2026")
    page.get_by_role("button", name="Tonen").click()
    jan = page.locator("#results tr", has_text="Jan de Vries")
    deadline = time.monotonic() + 60
    while jan.count() == 0 and time.monotonic() < deadline:  # the exams worker grades the attempt from an event
        page.wait_for_timeout(500)
        page.reload()
    expect(jan).to_contain_text("Niet behaald")
    expect(jan).to_contain_text("8 (7,7)")  # the interview's 4 is a 7.75, truncated: 7.7, on the transcript 8
    expect(jan).to_contain_text("Onderdeel Observatie: Niet behaald")
    expect(jan).to_contain_text("Onderdeel Criteriumgericht interview: Behaald, 7,7")
    both_languages(page, "exam-results")
    # Jan, meanwhile, in a browser of his own: not adopted yet, so nothing to see.
    origin, browser = "{0.scheme}://{0.netloc}".format(urlsplit(page.url)), page.context.browser
    assert browser is not None
    student = browser.new_context(base_url=origin, locale="nl-NL").new_page()
    sign_in(student, JAN, school["password"])
    student.goto("/my-results")
    expect(student.locator("main")).to_contain_text("Je hebt nog geen vastgestelde resultaten")
    stale = page.context.new_page()  # a second tab still offers to adopt Jan's result
    stale.goto(page.url)
    page.get_by_role("button", name=re.compile("Alle wachtende van deze groep vaststellen")).click()
    expect(page.locator("#how-many")).to_contain_text("Je stelt 1 resultaat vast")
    expect(page.locator("#to-adopt")).to_contain_text("Jan de Vries")
    both_languages(page, "exam-result-group")
    page.get_by_role("button", name="1 resultaat vaststellen").click()  # not ticked
    expect(page.locator("#e-confirm")).to_be_visible()
    page.locator("#f-confirm").check()
    page.get_by_role("button", name="1 resultaat vaststellen").click()
    expect(page.locator(".notice")).to_contain_text("1 resultaat vastgesteld")
    expect(page.locator("#results tr", has_text="Jan de Vries")).to_be_visible()  # now among the adopted ones
    student.reload()
    expect(student.locator("section", has_text="Proeve Zorg in de browser")).to_contain_text("Niet behaald")
    student.context.close()
    stale.once("dialog", lambda d: d.accept())
    stale.get_by_role("button", name=re.compile("Vaststellen Jan de Vries")).click()
    expect(stale.locator("#error-summary")).to_contain_text("Niet vastgesteld (Jan de Vries): Dit resultaat is al "
                                                            "vastgesteld.")
    stale.close()


def test_jan_sees_his_adopted_result_and_that_a_retake_is_possible(page: Page, school: dict[str, Any],
                                                                  exam: dict[str, Any]) -> None:
    sign_in(page, JAN, school["password"])
    nav(page, "Mijn examens")
    page.get_by_role("link", name="Mijn resultaten en herkansingen").click()
    section = page.locator("section", has_text="Proeve Zorg in de browser")
    expect(section).to_contain_text("Niet behaald")
    expect(section).to_contain_text("Onderdeel Observatie: Niet behaald")
    expect(section.locator("tbody tr")).to_have_count(1)
    expect(section).to_contain_text("Een herkansing (poging 2) is mogelijk")
    expect(section).to_contain_text("Poging 2 van maximaal 3")
    both_languages(page, "exam-result-my")


def test_the_supervisor_opens_a_retake_and_a_second_one_is_refused(page: Page, school: dict[str, Any],
                                                                    exam: dict[str, Any]) -> None:
    sign_in(page, SUPERVISOR, school["password"])
    open_assignment(page, "Jan de Vries")
    page.get_by_role("link", name="Resultaat en herkansing van poging 1").click()
    expect(page.locator("#result-facts")).to_contain_text("Vastgesteld")
    expect(page.locator("#rules")).to_contain_text("3")
    expect(page.locator("#outlook")).to_contain_text("Een herkansing (poging 2) is mogelijk")
    both_languages(page, "exam-result-attempt")
    other = page.context.new_page()
    other.goto(page.url)
    page.get_by_role("button", name="Herkansing openen").click()  # not ticked
    expect(page.locator("#e-confirm")).to_be_visible()
    page.locator("#f-confirm").check()
    page.get_by_role("button", name="Herkansing openen").click()
    expect(page.locator(".notice")).to_contain_text("Herkansing geopend: poging 2")
    expect(page.locator("#outlook")).to_contain_text("Er is al een latere poging (2)")
    other.locator("#f-confirm").check()
    other.get_by_role("button", name="Herkansing openen").click()
    expect(other.locator("#error-summary")).to_contain_text("Geen herkansing geopend: Er is al een latere poging (2)")
    expect(other.locator("#error-summary")).to_contain_text("binnen het maximum aantal pogingen en de termijn")
    other.close()


def test_jan_sees_attempt_2_in_his_exams(page: Page, school: dict[str, Any], exam: dict[str, Any]) -> None:
    sign_in(page, JAN, school["password"])
    nav(page, "Mijn examens")
    section = page.locator("section", has_text="Proeve Zorg in de browser")
    expect(section).to_contain_text("poging 2")
    expect(section).to_contain_text("Herkansing geopend: poging 2")
    page.get_by_role("link", name="Mijn resultaten en herkansingen").click()
    expect(page.locator("section", has_text="Proeve Zorg in de browser")).to_contain_text(
        "Herkansing geopend: poging 2. Je begeleider plant de onderdelen nog in.")
