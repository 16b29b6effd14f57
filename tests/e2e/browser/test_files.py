"""The import wizard with a real .xlsx, and a 50 MB library upload interrupted and resumed (tus)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import audit, sign_in

pytestmark = pytest.mark.e2e
ADMIN = "admin@demo-roc.example"


def xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_the_import_wizard_takes_a_real_xlsx_through_four_steps(
    page: Page, school: dict[str, Any], tmp_path: Path
) -> None:
    sign_in(page, ADMIN, school["password"])
    page.goto("/imports")
    audit(page, "import-upload")
    not_a_sheet = tmp_path / "studenten.xlsx"
    not_a_sheet.write_bytes(b"%PDF-1.7 this is no spreadsheet")
    page.locator("#f-file").set_input_files(str(not_a_sheet))
    page.get_by_role("button", name="Uploaden").click()
    expect(page.locator("#e-file")).to_contain_text("geen spreadsheet")

    file = xlsx(tmp_path / "klas.xlsx", [
        ["Studentnummer", "Voornaam", "Achternaam", "E-mail", "Geslacht", "Groep"],
        ["200001", "Lotte", "Bakker", "lotte@student.demo-roc.example", "V", "Import 2026"],
        ["200002", "Milan", "Visser", "milan@student.demo-roc.example", "M", "Import 2026"],
        ["200003", "Zoë", "Smit", "geen-adres", "V", "Import 2026"],
    ])
    page.locator("#f-file").set_input_files(str(file))
    page.get_by_role("button", name="Uploaden").click()
    expect(page.locator("h1")).to_contain_text("Stap 2")
    audit(page, "import-columns")
    page.get_by_role("button", name="Volgende stap").click()
    expect(page.locator("h1")).to_contain_text("Stap 3")
    audit(page, "import-values")
    page.get_by_role("button", name="Rijen controleren").click()
    expect(page.locator("h1")).to_contain_text("Stap 4")
    expect(page.locator("#import-counts")).to_contain_text("2")
    expect(page.locator("tr.row-error")).to_have_count(1)
    expect(page.locator("tr.row-error")).to_contain_text("200003")
    audit(page, "import-preview")
    page.get_by_role("button", name="Importeer").click()
    expect(page.locator("#import-result")).to_contain_text("2 nieuw", timeout=30_000)
    page.goto("/students?q=lotte")
    expect(page.locator("#results tbody tr")).to_have_count(1)


def test_a_50_mb_upload_is_interrupted_and_resumed(page: Page, school: dict[str, Any], tmp_path: Path,
                                                   web: str) -> None:
    big = tmp_path / "handleiding-video.mp4"
    with big.open("wb") as out:
        out.write(b"\x00\x00\x00\x18ftypmp42")
        out.write(os.urandom(50_000_000 - 12))
    sign_in(page, ADMIN, school["password"])
    page.goto("/library")
    audit(page, "library")
    # One byte over 537,000,000 (a sparse file, so nothing large is written): refused before sending.
    box = page.locator(".upload")
    too_big = tmp_path / "te-groot.mp4"
    with too_big.open("wb") as out:
        out.truncate(537_000_001)
    page.locator("#upload-file").set_input_files(str(too_big))
    expect(page.locator("#upload-error")).to_contain_text("te groot")
    page.get_by_role("button", name="Uploaden").click()
    expect(box).not_to_have_attribute("data-state", "uploading")
    page.locator("#upload-file").set_input_files(str(big))
    expect(page.locator("#upload-error")).to_have_text("")
    # Slow the link so the upload can be interrupted halfway.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": 20_000_000})
    page.get_by_role("button", name="Uploaden").click()
    page.wait_for_function("() => document.querySelector('.upload progress').value > 5000000")
    page.get_by_role("button", name="Pauzeren").click()
    expect(box).to_have_attribute("data-state", "paused")
    paused_at = page.evaluate("() => document.querySelector('.upload progress').value")
    assert 0 < paused_at < 50_000_000
    page.get_by_role("button", name="Hervatten").click()
    page.wait_for_function("() => document.querySelector('.upload progress').value > " + str(paused_at + 5_000_000))
    # A dropped connection: the upload resumes by itself once the network is back.
    cdp.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    expect(box).to_have_attribute("data-state", "retrying")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    link = page.get_by_role("link", name="handleiding-video.mp4")
    expect(link).to_be_visible(timeout=60_000)  # the page reloads the list once the upload is done
    row = page.locator("tr", has=link)
    expect(row).to_contain_text("50,0 MB")
    # The stored file has exactly the bytes sent.
    token = httpx.post(f"{web}/identity/v1/auth/login", json={"email": ADMIN, "password": school["password"]}).json()
    files = httpx.get(f"{web}/evidence/v1/schools/{school['school_id']}/library",
                      headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    stored = next(f for f in files if f["filename"] == "handleiding-video.mp4")
    assert stored["size"] == 50_000_000
