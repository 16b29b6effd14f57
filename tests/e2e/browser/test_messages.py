"""Message attachments through the resumable upload control: sent by a student, downloaded by the supervisor."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import audit, sign_in

pytestmark = pytest.mark.e2e
SUPERVISOR = "begeleider@demo-roc.example"
STUDENT = "daan.100003@student.demo-roc.example"


def open_compose(page: Page) -> None:
    """The compose page once notifications knows the student's supervisor (from enrollment's events)."""
    deadline = time.monotonic() + 30
    page.goto("/messages/new")
    while page.locator("input[name=recipient_ids]").count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.reload()


def test_a_student_sends_an_attachment_and_the_supervisor_downloads_it(
    page: Page, school: dict[str, Any], tmp_path: Path
) -> None:
    sign_in(page, STUDENT, school["password"])
    open_compose(page)
    box = page.locator(".upload")
    # Over 537,000,000 bytes (a sparse file): refused in the page, nothing sent.
    too_big = tmp_path / "te-groot.mov"
    with too_big.open("wb") as out:
        out.truncate(537_000_001)
    page.locator("#upload-file").set_input_files(str(too_big))
    expect(page.locator("#upload-error")).to_contain_text("te groot")
    page.get_by_role("button", name="Uploaden").click()
    expect(box).not_to_have_attribute("data-state", "uploading")

    report = tmp_path / "verslag stage week 3.pdf"
    report.write_bytes(b"%PDF-1.4\n" + os.urandom(3_000_000))
    page.locator("#upload-file").set_input_files(str(report))
    expect(page.locator("#upload-error")).to_have_text("")
    page.locator("#f-subject").fill("Verslag week 3")
    page.get_by_role("button", name="Uploaden").click()
    expect(box).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.locator("ul.attachments li")).to_have_text("verslag stage week 3.pdf")
    expect(page.get_by_role("button", name="Pauzeren")).to_be_hidden()
    expect(page.get_by_role("button", name="Hervatten")).to_be_hidden()
    audit(page, "message-new-attachment")
    # Refused for its empty body: the subject and the attachment stay on the page.
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#e-body")).to_be_visible()
    expect(page.locator("#f-subject")).to_have_value("Verslag week 3")
    expect(page.locator("ul.attachments li")).to_have_text("verslag stage week 3.pdf")
    page.locator("#f-body").fill("Hierbij mijn verslag.")
    page.get_by_role("button", name="Versturen").click(timeout=45_000)
    # (on a busy machine the page may wait a while for notifications to learn of the fresh attachment)
    expect(page.locator(".notice")).to_contain_text("verstuurd", timeout=45_000)
    expect(page.get_by_role("link", name="verslag stage week 3.pdf")).to_be_visible()
    # No token anywhere a page script could read it: nothing stored, the session cookie is HttpOnly.
    stored = page.evaluate("() => [localStorage, sessionStorage].flatMap(s => Object.entries(s))")
    assert not [k for k, v in stored if "eyJ" in v or "Bearer" in v], stored  # no JWT or bearer token
    assert "mbo_session" not in page.evaluate("() => document.cookie")
    page.get_by_role("button", name="Uitloggen").click()

    sign_in(page, SUPERVISOR, school["password"])
    page.get_by_role("navigation").get_by_role("link", name="Berichten", exact=True).click()
    page.get_by_role("link", name="Verslag week 3").first.click()
    expect(page.locator("article").last).to_contain_text("Hierbij mijn verslag.")
    audit(page, "thread-attachment")
    with page.expect_download() as download:
        page.get_by_role("link", name="verslag stage week 3.pdf").click()
    saved = tmp_path / "ontvangen.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "verslag stage week 3.pdf"
    assert saved.read_bytes() == report.read_bytes()
