"""A person of two schools: choosing the school, their students of both, nothing of one school in the other;
the error page; pages and htmx fragments are never cached."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kit.local import demo
from kit.local.stack import Stack
from tests.e2e.browser.conftest import audit, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]  # a second school: e-mails pass four services
WIM = "wim.wissel@demo-roc.example"
SOUTH_ADMIN = "beheer@roc-zuid.example"


def retried(call: Callable[[], dict[str, Any]], timeout_s: float = 120) -> dict[str, Any]:
    """A call that needs another service's event first (e.g. enrollment learning of a new member)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="module")
def two_schools(suite: Stack, school: dict[str, Any]) -> dict[str, Any]:
    """ROC Zuid next to the demo school; Wim is workplace trainer in both and also supervisor in ROC Zuid."""
    seeder = demo.Seeder(suite)
    seeder.password = school["password"]
    secrets_ = suite.identity_secrets()
    operator = seeder.login(secrets_["OPERATOR_EMAIL"], secrets_["OPERATOR_PASSWORD"])
    south = seeder.call("POST", "/identity/v1/schools", operator, json={
        "name": "ROC Zuid", "brin": "88ZZ", "admin_email": SOUTH_ADMIN, "admin_name": "Bert Beheer"})["school_id"]
    seeder.accept(SOUTH_ADMIN, timeout_s=180)  # the e-mail passes identity, Kafka, notifications, SMTP
    south_admin = seeder.login(SOUTH_ADMIN, seeder.password)
    demo_admin = seeder.login("admin@demo-roc.example", seeder.password)
    north = school["school_id"]
    wim = seeder.call("POST", f"/identity/v1/schools/{north}/users", demo_admin, json={
        "email": WIM, "display_name": "Wim Wissel", "roles": ["workplace_trainer"], "send_invitation": True})
    seeder.accept(WIM, timeout_s=180)
    seeder.call("POST", f"/identity/v1/schools/{south}/users", south_admin, json={
        "email": WIM, "display_name": "Wim Wissel", "roles": ["school_supervisor", "workplace_trainer"]})
    sara = seeder.call("POST", f"/enrollment/v1/schools/{south}/students", south_admin, json={
        "student_code": "300001", "first_name": "Sara", "last_name": "Zuidema",
        "email": "sara.300001@student.roc-zuid.example"})
    sara_id = sara.get("student_id") or sara["id"]
    for relation in ("school_supervisor", "workplace_trainer"):
        retried(lambda relation=relation: seeder.call(  # type: ignore[misc]
            "POST", f"/enrollment/v1/schools/{south}/students/{sara_id}/links", south_admin,
            json={"user_id": wim["user_id"], "relation": relation}))
    fatima = seeder.call("GET", f"/enrollment/v1/schools/{north}/students", demo_admin,
                         params={"q": "fatima"})["items"][0]
    retried(lambda: seeder.call("POST", f"/enrollment/v1/schools/{north}/students/{fatima['id']}/links",
                                demo_admin, json={"user_id": wim["user_id"], "relation": "workplace_trainer"}))
    return {"south": south, "sara_id": sara_id}


def test_a_person_of_two_schools_chooses_one_and_sees_only_its_data(
    page: Page, school: dict[str, Any], two_schools: dict[str, Any]
) -> None:
    sign_in(page, WIM, school["password"])
    expect(page).to_have_url(re.compile(r"/school$"))
    expect(page.locator("h1")).to_have_text("Kies een school")
    chooser = page.get_by_role("group", name="Waar wil je werken?")
    expect(chooser.get_by_label(re.compile(r"^Demo ROC — Praktijkopleider$"))).to_be_visible()
    expect(chooser.get_by_label(re.compile(r"^ROC Zuid — .*Praktijkbegeleider"))).to_be_visible()
    audit(page, "school-chooser")

    # The workplace trainer's students of every school, before choosing one.
    page.get_by_role("link", name="Al mijn studenten (alle scholen)").click()
    expect(page.locator("tbody tr", has_text="Fatima El Amrani")).to_contain_text("Demo ROC")
    expect(page.locator("tbody tr", has_text="Sara Zuidema")).to_contain_text("ROC Zuid")
    audit(page, "my-students-two-schools")

    page.goto("/school")
    page.get_by_label(re.compile(r"^ROC Zuid")).check()
    page.get_by_role("button", name="Verder").click()
    expect(page.locator(".context")).to_contain_text("ROC Zuid")
    page.get_by_role("navigation").get_by_role("link", name="Studenten", exact=True).click()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("Sara Zuidema")
    expect(page.locator("main")).not_to_contain_text("Fatima")
    # Pages and htmx fragments carry personal data: never stored by the browser or a shared cache.
    for path, headers in (("/students", {}), ("/students?q=sa", {"HX-Request": "true"}), ("/", {})):
        answer = page.request.get(path, headers=headers)
        assert answer.status == 200, path
        assert answer.headers["cache-control"] == "no-store", path
        assert "Cookie" in answer.headers["vary"], path
    fragment = page.request.get("/students?q=", headers={"HX-Request": "true"}).text()
    assert "<html" not in fragment and "Sara Zuidema" in fragment and "Fatima" not in fragment

    # The other school: its own data only, also for a direct link to a student of the first one.
    page.get_by_role("link", name="School wisselen").click()
    page.get_by_label(re.compile(r"^Demo ROC")).check()
    page.get_by_role("button", name="Verder").click()
    expect(page.locator(".context")).to_contain_text("Demo ROC")
    expect(page.get_by_role("navigation").get_by_role("link", name="Studenten", exact=True)).to_have_count(0)
    answer = page.goto(f"/students/{two_schools['sara_id']}")
    assert answer is not None and answer.status == 404
    expect(page.locator("main")).not_to_contain_text("Sara")
    expect(page.locator("#error-summary")).to_be_visible()
    audit(page, "error-api-not-found")
    fragment = page.request.get("/students?q=", headers={"HX-Request": "true"}).text()
    assert "Sara" not in fragment and "Zuidema" not in fragment


def test_the_error_page_is_readable_in_both_languages(page: Page, school: dict[str, Any]) -> None:
    answer = page.goto("/dit-adres-bestaat-niet")
    assert answer is not None and answer.status == 404
    assert answer.headers["content-type"].startswith("text/html")
    expect(page.locator("h1")).to_have_text("Deze pagina bestaat niet")
    expect(page.locator("main")).to_contain_text("Foutcode")
    audit(page, "error-404")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("This page does not exist")
    audit(page, "error-404-en")
    answer = page.goto("/login?next=" + "x" * 2100)
    assert answer is not None and answer.status == 422
    expect(page.locator("h1")).to_have_text("This address is not right")
    expect(page.locator("body")).not_to_contain_text('"type"')  # no raw problem+json
    sign_in(page, "admin@demo-roc.example", school["password"])
    answer = page.goto("/students/stu_does_not_exist")
    assert answer is not None and answer.status == 404
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("{")
