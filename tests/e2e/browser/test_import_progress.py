"""The import's last step with a real 1,500-row .xlsx: rows done of the total while the commit runs.

RUNS_LAST: its 1,500 new students set off thousands of events (accounts, projections in every service) that keep
the workers busy for a while, which would slow the e-mail and message waits of tests after it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import audit, sign_in
from tests.e2e.browser.test_files import ADMIN, xlsx

pytestmark = pytest.mark.e2e
RUNS_LAST = True


def test_the_import_commit_shows_rows_done_of_the_total_while_it_runs(
    page: Page, school: dict[str, Any], tmp_path: Path
) -> None:
    """1,500 rows are committed in blocks of 250: the page shows how many are done on the way, then the result."""
    rows = [["Studentnummer", "Voornaam", "Achternaam", "E-mail"]]
    rows += [[f"5{n:05d}", f"Sam{n}", "Groot", f"sam.{n}@student.demo-roc.example"] for n in range(1500)]
    file = xlsx(tmp_path / "cohort-2026.xlsx", rows)
    sign_in(page, ADMIN, school["password"])
    page.goto("/imports")
    page.locator("#f-file").set_input_files(str(file))
    page.get_by_role("button", name="Uploaden").click()
    page.get_by_role("button", name="Volgende stap").click()
    page.get_by_role("button", name="Rijen controleren").click()
    expect(page.locator("#import-counts")).to_contain_text("1.500", timeout=60_000)
    page.get_by_role("button", name="Importeer 1.500 rijen").click()
    bar = page.locator("#import-progress progress")
    expect(page.locator("#import-done")).to_contain_text("van 1.500 rijen verwerkt")
    assert bar.get_attribute("max") == "1500"
    # Part of the rows done, not yet all: the count moves while the commit runs (htmx polling).
    page.wait_for_function("() => { const b = document.querySelector('#import-progress progress');"
                           " return b && b.value > 0 && b.value < 1500; }", timeout=60_000, polling=50)
    expect(page.locator("#import-done")).to_contain_text(re.compile(r"(250|500|750|1\.000|1\.250) van 1\.500"))
    page.route("**/progress?*", lambda route: route.abort())  # hold the page still for the audit
    audit(page, "import-progress")
    page.unroute("**/progress?*")
    expect(page.locator("#import-result")).to_contain_text("1.500 nieuw", timeout=120_000)
    expect(page).to_have_url(re.compile(r"only=created"))
