"""Supervisor, student, workplace trainer and operator journeys; messages; view-as; language; bad input."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import audit, sign_in

pytestmark = pytest.mark.e2e
SUPERVISOR = "begeleider@demo-roc.example"
STUDENT = "jan.100001@student.demo-roc.example"
TRAINER = "praktijkopleider@demo-roc.example"


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def test_supervisor_and_student_write_to_each_other_with_counts_and_unread_marks(
    page: Page, school: dict[str, Any]
) -> None:
    sign_in(page, SUPERVISOR, school["password"])
    new_before = int(page.locator("#messages-new").inner_text())
    total_before = int(page.locator("#messages-total").inner_text())
    page.get_by_role("button", name="Uitloggen").click()
    sign_in(page, STUDENT, school["password"])
    audit(page, "start-student")
    nav(page, "Berichten")
    audit(page, "messages")
    deadline = time.monotonic() + 30
    page.get_by_role("link", name="Nieuw bericht").click()
    while page.locator("input[name=recipient_ids]").count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(500)  # notifications learns the links from enrollment's events
        page.reload()
    audit(page, "message-new")
    page.locator("#f-subject").fill("Stage-opdracht in de browser")
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#e-body")).to_be_visible()  # the API named the empty body; the subject stays
    expect(page.locator("#f-subject")).to_have_value("Stage-opdracht in de browser")
    page.locator("#f-body").fill("Wanneer is de observatie?")
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator(".notice")).to_contain_text("verstuurd")
    audit(page, "thread")
    page.get_by_role("button", name="Uitloggen").click()

    sign_in(page, SUPERVISOR, school["password"])
    expect(page.locator("#messages-new")).to_have_text(str(new_before + 1))
    expect(page.locator("#messages-total")).to_have_text(str(total_before + 1))
    nav(page, "Berichten")
    expect(page.locator("tr.unread", has_text="Stage-opdracht in de browser")).to_have_count(1)
    page.get_by_role("link", name="Stage-opdracht in de browser").click()
    expect(page.locator("article")).to_contain_text("Wanneer is de observatie?")
    page.locator("#f-body").fill("Volgende week dinsdag.")
    page.get_by_role("button", name="Antwoord versturen").click()
    expect(page.locator("article")).to_have_count(2)
    page.goto("/")
    expect(page.locator("#messages-new")).to_have_text(str(new_before))
    expect(page.locator("#messages-total")).to_have_text(str(total_before + 1))


def test_supervisor_views_as_a_linked_student_read_only(page: Page, school: dict[str, Any]) -> None:
    sign_in(page, SUPERVISOR, school["password"])
    nav(page, "Studenten")
    expect(page.locator("#results tbody tr")).to_have_count(3)
    page.get_by_role("link", name="Jan de Vries").click()
    page.get_by_role("button", name="Meekijken als deze student").click()
    expect(page.locator(".banner")).to_contain_text("Je kijkt mee als Jan de Vries")
    expect(page.locator("main")).to_contain_text("100001")
    audit(page, "view-as")
    response = page.goto("/messages")
    assert response is not None and response.status == 403
    nav(page, "Bibliotheek")
    expect(page.locator(".banner")).to_be_visible()
    page.get_by_role("button", name="Stoppen met meekijken").click()
    expect(page.locator(".banner")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/students/"))


def test_the_workplace_trainer_sees_their_students_across_schools(page: Page, school: dict[str, Any]) -> None:
    sign_in(page, TRAINER, school["password"])
    nav(page, "Mijn studenten")
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.locator("tbody")).to_contain_text("Demo ROC")
    audit(page, "my-students")
    assert page.goto("/students?archived=true") is not None
    expect(page.locator("main")).not_to_contain_text("100001")


def test_a_student_sees_no_other_students_and_no_admin_pages(page: Page, school: dict[str, Any]) -> None:
    sign_in(page, STUDENT, school["password"])
    for path in ("/people", "/imports", "/school-settings", "/operator/schools"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.locator("main")).not_to_contain_text("Fatima")
    page.goto("/students")
    expect(page.locator("main")).not_to_contain_text("Fatima")
    expect(page.locator("main")).not_to_contain_text("Daan")


def test_the_operator_creates_a_school_and_its_first_admin(page: Page, school: dict[str, Any], suite: Any) -> None:
    secrets_ = suite.identity_secrets()
    sign_in(page, secrets_["OPERATOR_EMAIL"], secrets_["OPERATOR_PASSWORD"])
    nav(page, "Scholen")
    audit(page, "operator-schools")
    page.locator("#f-name").fill("ROC Noord")
    page.locator("#f-brin").fill("XYZ")
    page.locator("#f-admin_name").fill("Nina Noord")
    page.locator("#f-admin_email").fill("nina@roc-noord.example")
    page.get_by_role("button", name="School aanmaken").click()
    expect(page.locator("#f-brin")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-name")).to_have_value("ROC Noord")
    page.locator("#f-brin").fill("12AB")
    page.get_by_role("button", name="School aanmaken").click()
    expect(page.locator(".notice")).to_contain_text("aangemaakt")
    expect(page.locator("tbody")).to_contain_text("ROC Noord")


def test_english_sticks_across_pages_and_sign_out(page: Page, school: dict[str, Any], tmp_path: Path) -> None:
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("Inloggen")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    audit(page, "login-en")
    page.locator("#f-email").fill("admin@demo-roc.example")
    page.locator("#f-password").fill("not-the-password")
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("#error-summary")).to_have_text("This e-mail address and password do not match.")
    expect(page.locator("#f-email")).to_have_value("admin@demo-roc.example")
    sign_in(page, "admin@demo-roc.example", school["password"])
    expect(page.locator("h1")).to_contain_text("Welcome")
    nav(page, "Students")
    expect(page.locator("caption")).to_contain_text("Students found")
    audit(page, "students-en")
    page.goto("/imports")
    not_a_sheet = tmp_path / "students.xlsx"
    not_a_sheet.write_bytes(b"%PDF-1.7 not a spreadsheet")
    page.locator("#f-file").set_input_files(str(not_a_sheet))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#e-file")).to_contain_text("This is not a spreadsheet")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".notice")).to_have_text("You have signed out.")
    page.get_by_role("button", name="Nederlands").click()
    expect(page.locator("h1")).to_have_text("Inloggen")


def test_bad_input_gets_clear_messages_and_keeps_what_was_typed(page: Page, school: dict[str, Any]) -> None:
    # Forgotten password: the same answer for a known and an unknown address.
    answers = []
    for address in ("admin@demo-roc.example", "nobody@nowhere.example"):
        page.goto("/forgot-password")
        page.locator("#f-email").fill(address)
        page.get_by_role("button", name="Stuur mij een link").click()
        answers.append(page.locator(".notice").inner_text())
    assert answers[0] == answers[1]
    audit(page, "forgot-password")
    # A used or made-up link.
    page.goto("/set-password?kind=reset&token=made-up-token-123")
    audit(page, "set-password")
    page.locator("#f-password").fill("Een-lang-wachtwoord-2026")
    page.locator("#f-password_repeat").fill("Een-lang-wachtwoord-2026")
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.locator("#error-summary")).to_contain_text("verlopen of al gebruikt")
    # A form without the CSRF token saves nothing and hands the input back.
    sign_in(page, "admin@demo-roc.example", school["password"])
    page.goto("/groups")
    page.locator("input[name=csrf_token]").first.evaluate("e => e.remove()")
    page.locator("form[action='/groups'] input[name=csrf_token]").evaluate("e => e.remove()")
    page.locator("#f-name").fill("Groep zonder token")
    page.get_by_role("button", name="Groep aanmaken").click()
    expect(page.locator("#error-summary")).to_contain_text("niets")
    expect(page.locator("input[type=hidden][name=name]")).to_have_value("Groep zonder token")
    audit(page, "resubmit")
    page.get_by_role("button", name="Opnieuw versturen").click()
    expect(page.locator(".notice")).to_contain_text("aangemaakt")
    # A double click on submit creates one group.
    page.goto("/groups")
    page.locator("#f-name").fill("Dubbelklik")
    page.get_by_role("button", name="Groep aanmaken").dblclick()
    page.wait_for_url(re.compile(r"/groups/"))
    page.goto("/groups")
    expect(page.get_by_role("link", name="Dubbelklik", exact=True)).to_have_count(1)
    # An expired session on a form: sign in again, and the input comes back to send again.
    page.goto("/groups")
    page.locator("#f-name").fill("Na verlopen sessie")
    page.context.clear_cookies()
    page.get_by_role("button", name="Groep aanmaken").click()
    expect(page.locator("#error-summary")).to_contain_text("sessie is verlopen")
    page.locator("#f-email").fill("admin@demo-roc.example")
    page.locator("#f-password").fill(school["password"])
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("input[type=hidden][name=name]")).to_have_value("Na verlopen sessie")
    page.get_by_role("button", name="Opnieuw versturen").click()
    expect(page.locator(".notice")).to_contain_text("aangemaakt")


def test_back_button_after_sign_out_shows_no_data(page: Page, school: dict[str, Any]) -> None:
    sign_in(page, "admin@demo-roc.example", school["password"])
    page.goto("/students")
    expect(page.locator("main")).to_contain_text("Fatima")
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.go_back()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("main")).not_to_contain_text("Fatima")


def test_phone_sized_screen_has_no_horizontal_scroll(page: Page, school: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, "admin@demo-roc.example", school["password"])
    for path in ("/", "/students", "/people"):
        page.goto(path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, (path, width)
    audit(page, "people-phone")
