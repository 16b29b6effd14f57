"""Passwords by a real e-mailed link (used, reset), keyboard-only use, and the assessor's and exam board's
journeys with the library per role."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from kit.local import demo
from kit.local.stack import Stack
from tests.e2e.browser.conftest import audit, sign_in

pytestmark = pytest.mark.e2e
BOARD = "examencommissie@demo-roc.example"
ASSESSOR = "examinator@demo-roc.example"
ADMIN = "admin@demo-roc.example"
STUDENT = "jan.100001@student.demo-roc.example"


def path_of(link: str) -> str:
    parsed = urlparse(link)
    return f"{parsed.path}?{parsed.query}"


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def test_a_used_link_is_refused_and_a_reset_link_sets_a_new_password(
    page: Page, suite: Stack, school: dict[str, Any]
) -> None:
    # The invitation link the demo seeding already used: a clear message, the typed password not echoed.
    used = demo.invitation_link(suite, BOARD)
    assert used is not None
    page.goto(path_of(used))
    page.locator("#f-password").fill("Een-ander-wachtwoord-2026")
    page.locator("#f-password_repeat").fill("Een-ander-wachtwoord-2026")
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.locator("#error-summary")).to_contain_text("verlopen of al gebruikt")
    expect(page.get_by_role("link", name="Nieuwe link aanvragen")).to_be_visible()

    # Forgotten password: the e-mailed link chooses a new one, which signs in; the link then is spent.
    page.goto("/forgot-password")
    page.locator("#f-email").fill(BOARD)
    page.get_by_role("button", name="Stuur mij een link").click()
    deadline = time.monotonic() + 30
    link = used
    while link == used and time.monotonic() < deadline:
        time.sleep(0.5)
        link = demo.invitation_link(suite, BOARD)
    assert link and link != used, "no reset e-mail arrived"
    page.goto(path_of(link))
    audit(page, "set-password-reset")
    new_password = school["password"]  # the demo password again: later tests sign in as the exam board with it
    page.locator("#f-password").fill(new_password)
    page.locator("#f-password_repeat").fill(new_password + "x")
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.locator("#e-password_repeat")).to_contain_text("niet gelijk")
    page.locator("#f-password").fill(new_password)
    page.locator("#f-password_repeat").fill(new_password)
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.locator(".notice")).to_contain_text("Je wachtwoord is ingesteld")
    sign_in(page, BOARD, new_password)
    expect(page.locator(".context")).to_contain_text("Examencommissie")
    audit(page, "start-exam-board")
    nav(page, "Studenten")
    expect(page.locator("#results")).to_contain_text("Fatima El Amrani")  # the exam board sees every student
    audit(page, "students-exam-board")
    page.get_by_role("button", name="Uitloggen").click()
    page.goto(path_of(link))
    page.locator("#f-password").fill("Nog-een-wachtwoord-2026")
    page.locator("#f-password_repeat").fill("Nog-een-wachtwoord-2026")
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.locator("#error-summary")).to_contain_text("verlopen of al gebruikt")


def test_sign_in_and_moving_around_work_with_the_keyboard_alone(page: Page, school: dict[str, Any]) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Naar de inhoud")).to_be_focused()
    for _ in range(10):
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", page.evaluate("() => document.activeElement.outerHTML")
        if page.evaluate("() => document.activeElement.id") == "f-email":
            break
        page.keyboard.press("Tab")
    expect(page.locator("#f-email")).to_be_focused()
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    expect(page.locator("#f-password")).to_be_focused()
    page.keyboard.type(school["password"])
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Welkom")
    page.get_by_role("navigation").get_by_role("link", name="Studenten", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#results tbody tr").first).to_be_visible()


def test_the_library_shows_each_role_its_own_manuals(page: Page, school: dict[str, Any], tmp_path: Path) -> None:
    manual = tmp_path / "alleen-voor-studenten.pdf"
    manual.write_bytes(b"%PDF-1.4\nstudenten\n")
    sign_in(page, ADMIN, school["password"])
    page.goto("/library")
    for box in page.locator("input[name=roles]").all():
        box.uncheck()
    page.get_by_label("Student", exact=True).check()
    page.locator("#upload-file").set_input_files(str(manual))
    page.get_by_role("button", name="Uploaden").click()
    expect(page.get_by_role("link", name="alleen-voor-studenten.pdf")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Uitloggen").click()

    sign_in(page, ASSESSOR, school["password"])
    expect(page.locator(".context")).to_contain_text("Examinator")
    audit(page, "start-assessor")
    nav(page, "Studenten")
    expect(page.locator("#results")).to_contain_text("Jan de Vries")
    page.get_by_role("link", name="Jan de Vries").click()
    expect(page.get_by_role("button", name="Archiveren")).to_have_count(0)  # not the assessor's to do
    audit(page, "student-assessor")
    nav(page, "Bibliotheek")
    expect(page.locator("main")).not_to_contain_text("alleen-voor-studenten.pdf")
    expect(page.locator("#upload-file")).to_have_count(0)
    audit(page, "library-assessor")
    page.get_by_role("button", name="Uitloggen").click()

    sign_in(page, STUDENT, school["password"])
    nav(page, "Bibliotheek")
    expect(page.get_by_role("link", name="alleen-voor-studenten.pdf")).to_be_visible()
    audit(page, "library-student")
