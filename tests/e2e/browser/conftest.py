"""The web app in Debian's Chromium (pytest-playwright), against the whole suite of tests/e2e/conftest.py."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from kit.local import demo
from kit.local.stack import Stack

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "services" / "web" / "vendor" / "axe-core-4.11.0" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "web"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
CANDIDATES = ("chromium-headless-shell", "chromium", "/usr/lib/chromium/chromium-headless-shell",
              "/usr/lib/chromium/headless_shell", "/usr/lib/chromium/chromium")


def chromium_path() -> str:
    """Debian's Chromium (installed by `make browser`); never a browser Playwright downloads."""
    for name in CANDIDATES:
        found = shutil.which(name) or (name if Path(name).is_file() else None)
        if found:
            return found
    raise RuntimeError("Chromium is not installed: run `make browser` (apt-get install chromium-headless-shell)")


@pytest.fixture(scope="session")
def web(suite: Stack) -> str:
    """The gateway URL once the web app answers through it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{suite.gateway_url}/readyz", timeout=2).status_code == 200:
                return suite.gateway_url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError("the web app is not ready through the gateway")


@pytest.fixture(scope="session")
def playwright_sync(school: dict[str, Any], web: str) -> Iterator[Playwright]:
    """Playwright's driver; the demo school is made first (its seeding runs its own event loop)."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def chromium(playwright_sync: Playwright) -> Iterator[Browser]:
    browser = playwright_sync.chromium.launch(executable_path=chromium_path(), args=FLAGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def context(chromium: Browser, web: str) -> Iterator[BrowserContext]:
    ctx = chromium.new_context(base_url=web, locale="nl-NL", viewport={"width": 1280, "height": 900},
                               bypass_csp=True)  # only so axe-core can be injected; pages keep their CSP
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def sign_in(page: Page, email: str, password: str) -> None:
    """Sign in through the login page."""
    page.goto("/login")
    page.locator("#f-email").fill(email)
    page.locator("#f-password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state()


def audit(page: Page, name: str) -> None:
    """Run axe-core (WCAG 2.1 A/AA) on the page, keep a screenshot, and fail on any violation."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert not problems, f"{name}: {problems}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules that set RUNS_LAST (a burst of events that keeps the workers busy) run after the others."""
    items.sort(key=lambda item: bool(getattr(getattr(item, "module", None), "RUNS_LAST", False)))


# Shared by the exam modules (the exam board's first): both languages of a page, a staff member of a module's own.
def both_languages(page: Page, name: str) -> None:
    """Audit and photograph the page in Dutch, then in English, and leave it Dutch."""
    audit(page, name)
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(page.url))
    page.context.add_cookies([{"name": "mbo_lang", "value": "en", "url": origin}])
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    audit(page, f"{name}-en")
    page.context.add_cookies([{"name": "mbo_lang", "value": "nl", "url": origin}])
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "nl")


def invite(suite: Stack, http: httpx.Client, admin: dict[str, str], *, school: str, email: str, name: str, role: str,
           password: str) -> str:
    """A new staff member with one role, who sets `password` through the invitation e-mail's link; their user id."""
    r = http.post(f"/identity/v1/schools/{school}/users", headers=admin, json={
        "email": email, "display_name": name, "roles": [role], "send_invitation": True})
    assert r.status_code == 201, r.text
    accept(suite, http, email, password)
    return str(r.json()["user_id"])


def accept(suite: Stack, http: httpx.Client, email: str, password: str) -> None:
    """Set `password` through the link of the newest invitation e-mail to `email`."""
    link = None
    deadline = time.monotonic() + 60
    while link is None and time.monotonic() < deadline:
        link = demo.invitation_link(suite, email)
        time.sleep(0.5)
    assert link, "no invitation e-mail"
    token = parse_qs(urlparse(link).query)["token"][0]
    r = http.post("/identity/v1/auth/set-password", json={"token": token, "password": password})
    assert r.status_code < 300, r.text
