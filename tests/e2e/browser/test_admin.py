"""The school admin's journey through the pages, with the axe audit and a screenshot of each."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import audit, sign_in

pytestmark = pytest.mark.e2e
ADMIN = "admin@demo-roc.example"


def test_sign_in_refuses_a_wrong_password_keeping_the_address(page: Page, school: dict[str, Any]) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    audit(page, "login")
    page.locator("#f-email").fill(ADMIN)
    page.locator("#f-password").fill("not-the-password")
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("#error-summary")).to_contain_text("horen niet bij elkaar")
    expect(page.locator("#f-email")).to_have_value(ADMIN)


def test_the_admin_manages_people_students_groups_and_settings(page: Page, school: dict[str, Any]) -> None:
    sign_in(page, ADMIN, school["password"])
    expect(page.locator("h1")).to_contain_text("Welkom")
    audit(page, "start-admin")
    page.get_by_role("navigation").get_by_role("link", name="Mensen", exact=True).click()
    audit(page, "people")
    page.locator("#f-display_name").fill("Bram Beoordelaar")
    page.locator("#f-email").fill("bram@demo-roc.example")
    page.locator("#role-assessor").check()
    page.get_by_role("button", name="Toevoegen").click()
    expect(page.locator(".notice")).to_contain_text("toegevoegd")
    page.get_by_role("link", name="Bram Beoordelaar").click()
    audit(page, "person")
    page.get_by_role("button", name="Uitnodiging opnieuw sturen").click()
    expect(page.locator(".notice")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Opleidingen", exact=True).click()
    expect(page.locator("body")).to_contain_text("Verzorgende-IG")
    audit(page, "programmes")

    page.get_by_role("navigation").get_by_role("link", name="Groepen", exact=True).click()
    audit(page, "groups")
    page.locator("#f-name").fill("Klas VIG-3A")
    page.get_by_role("button", name="Groep aanmaken").click()
    expect(page.locator(".notice")).to_contain_text("aangemaakt")
    audit(page, "group")

    page.get_by_role("navigation").get_by_role("link", name="Studenten", exact=True).click()
    expect(page.locator("#results tbody tr")).to_have_count(3)
    audit(page, "students")
    page.locator("#q").fill("fatima")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.wait_for_load_state("networkidle")  # the search result has settled before choosing in it
    page.locator("#results input[name=student_ids]").check()
    page.locator("#f-action").select_option("add_to_group")
    page.locator("#f-group").select_option(label="Klas VIG-3A")
    page.get_by_role("button", name="Uitvoeren").click()
    expect(page.locator(".notice")).to_contain_text("1")
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporteren naar Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.goto("/students")
    page.locator("#group_id").select_option(label="Klas VIG-3A")  # the group filter (htmx)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("Fatima El Amrani")
    page.goto("/students?q=fatima")
    page.get_by_role("link", name="Fatima El Amrani").click()
    expect(page.locator("dl")).to_contain_text("Klas VIG-3A")
    audit(page, "student")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Archiveren").click()
    expect(page.locator("main")).to_contain_text("gearchiveerd")
    page.goto("/students?q=fatima")
    expect(page.locator("#results")).not_to_contain_text("Fatima")  # archived: hidden from the list
    page.locator("#archived").check()
    expect(page.locator("#results")).to_contain_text("Fatima El Amrani")
    page.get_by_role("link", name="Fatima El Amrani").click()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Terugzetten").click()
    expect(page.get_by_role("button", name="Archiveren")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Instellingen", exact=True).click()
    audit(page, "school-settings")
    page.locator("#f-retention_videos").fill("99")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("#f-retention_videos")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-retention_videos")).to_have_value("99")
    page.locator("#f-retention_videos").fill("5")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator(".notice")).to_contain_text("Opgeslagen")

    page.get_by_role("navigation").get_by_role("link", name="Meldingen", exact=True).click()
    audit(page, "notifications")
