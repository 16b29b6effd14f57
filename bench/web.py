"""The web app's budget: its main pages through the gateway, and a 537,000,000-byte upload in the browser.

Runs the whole suite on throwaway ports (as the e2e tests do), makes the demo school, then imports 1,000
students through the enrollment API from a generated .xlsx (its preview is one of the pages). Each page is
requested through the gateway by the role that uses it, signed in through the web app's own login form:
the start page, the students list (1,000 students), one student, the messages and the import preview
of 1,000 rows. Then the school admin publishes a 537,000,000-byte file to the library with tus-js-client
in Debian's headless Chromium, and the same file goes straight to SeaweedFS with the minio SDK.
Last line: page_p95_ms=<x> browser_upload_MBps=<y> direct_MBps=<z>
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from minio import Minio
from openpyxl import Workbook
from playwright.sync_api import sync_playwright

from kit.local import demo
from kit.local.servers import SERVICES, Running
from kit.local.stack import Stack
from kit.testing.bench import percentiles
from kit.testing.fixtures import start

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.e2e.browser.conftest import FLAGS, chromium_path  # noqa: E402

SIZE = 537_000_000
STUDENTS = 1000
ROUNDS = 40
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wait_ready(url: str, timeout_s: float = 90) -> None:
    """Until a readiness URL answers 200."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


def api_login(gateway: str, email: str, password: str) -> dict[str, str]:
    token = httpx.post(f"{gateway}/identity/v1/auth/login", json={"email": email, "password": password}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def web_session(gateway: str, email: str, password: str) -> httpx.Client:
    """A client signed in through the web app's login form (cookie session, CSRF token)."""
    client = httpx.Client(base_url=gateway, timeout=30, follow_redirects=True)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    signed = client.post("/login", data={"email": email, "password": password, "csrf_token": token.group(1)})
    assert signed.status_code == 200 and "Uitloggen" in signed.text, signed.status_code
    return client


def import_students(gateway: str, school_id: str, admin: dict[str, str]) -> str:
    """1,000 students through the four import steps of the API; returns the job (previewed, then committed)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Studentnummer", "Voornaam", "Achternaam", "E-mail"])
    for n in range(STUDENTS):
        sheet.append([f"9{n:05d}", f"Voornaam{n}", f"Achternaam{n}", f"bench{n}@student.demo-roc.example"])
    body = io.BytesIO()
    book.save(body)
    base = f"{gateway}/enrollment/v1/schools/{school_id}/imports"
    with httpx.Client(timeout=300, headers=admin) as http:
        job = http.post(base, params={"filename": "bench.xlsx"}, content=body.getvalue(),
                        headers={"Content-Type": XLSX}).json()
        http.put(f"{base}/{job['id']}/mapping", json={"columns": job["suggested_mapping"]}).raise_for_status()
        http.post(f"{base}/{job['id']}/preview").raise_for_status()
        http.post(f"{base}/{job['id']}/commit").raise_for_status()
        preview = http.post(base, params={"filename": "preview.xlsx"}, content=body.getvalue(),
                            headers={"Content-Type": XLSX}).json()
        http.put(f"{base}/{preview['id']}/mapping", json={"columns": preview["suggested_mapping"]})
        http.post(f"{base}/{preview['id']}/preview").raise_for_status()
    return str(preview["id"])


def measure_pages(gateway: str, school: dict[str, Any], job_id: str) -> list[float]:
    """Every page ROUNDS times, as the role that uses it; latency of each answer in ms."""
    password = school["password"]
    admin = web_session(gateway, "admin@demo-roc.example", password)
    supervisor = web_session(gateway, "begeleider@demo-roc.example", password)
    listing = admin.get("/students").text
    student = re.search(r'href="/students/([^"?]+)"', listing)
    assert student
    pages = [(admin, "/"), (admin, "/students"), (admin, f"/students/{student.group(1)}"),
             (supervisor, "/messages"), (admin, f"/imports/{job_id}/preview?only=valid")]
    for client, path in pages:  # warm-up, and every page must render
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
    samples: list[float] = []
    per_page: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for client, path in pages:
            began = time.perf_counter()
            answer = client.get(path)
            took = (time.perf_counter() - began) * 1000
            samples.append(took)
            per_page.setdefault(path.split("/")[1] + ("/<id>" if path.count("/") > 1 else ""), []).append(took)
            assert answer.status_code == 200
    for client, _ in pages:
        client.close()
    for name, times in per_page.items():
        print(f"  /{name}: p50={percentiles(times)[0]:.1f} ms p95={percentiles(times)[1]:.1f} ms", flush=True)
    return samples


def big_file(folder: Path) -> Path:
    """SIZE bytes of incompressible data on disk (a 1 MiB random block repeated)."""
    path = folder / "bench-video.mp4"
    block = os.urandom(1024 * 1024)
    with path.open("wb") as out:
        left = SIZE
        while left:
            take = min(left, len(block))
            out.write(block[:take])
            left -= take
    return path


def browser_upload(gateway: str, school: dict[str, Any], path: Path) -> float:
    """Seconds for the library upload with tus-js-client in headless Chromium, from click to completed."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=FLAGS, headless=True)
        try:
            page = browser.new_page(base_url=gateway)
            page.goto("/login")
            page.locator("#f-email").fill("admin@demo-roc.example")
            page.locator("#f-password").fill(school["password"])
            page.locator("form[action='/login'] button[type=submit]").click()
            page.wait_for_selector("text=Uitloggen")
            page.goto("/library")
            page.locator(".upload").evaluate("b => b.removeAttribute('data-done-url')")
            page.locator("#upload-file").set_input_files(str(path))
            began = time.perf_counter()
            page.get_by_role("button", name="Uploaden").click()
            page.wait_for_function("() => document.querySelector('.upload').getAttribute('data-state') === 'done'",
                                   timeout=600_000, polling=100)
            return time.perf_counter() - began
        finally:
            browser.close()


def direct_upload(stack: Stack, path: Path) -> float:
    """Seconds for the same file straight to SeaweedFS with the minio SDK."""
    creds = stack.credentials()
    s3 = Minio(f"127.0.0.1:{stack.ports['s3']}", access_key=creds.access_key, secret_key=creds.secret_key,
               secure=False, region="us-east-1")
    began = time.perf_counter()
    s3.fput_object("evidence-files", "bench/direct.mp4", str(path))
    return time.perf_counter() - began


def main() -> None:
    """Run the bench and print its figures."""
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        data = Path(tmp)
        stack = Stack.throwaway(data)
        running: list[Running] = []
        try:
            for server in stack.all():
                running.append(start(server, data / "logs"))
            for name in SERVICES:
                wait_ready(f"{stack.gateway_url}/{name}/readyz")
            wait_ready(f"{stack.gateway_url}/readyz")
            school = demo.seed(stack)
            gateway = stack.gateway_url
            admin = api_login(gateway, "admin@demo-roc.example", school["password"])
            job_id = import_students(gateway, school["school_id"], admin)
            print(f"seeded: demo school, {STUDENTS:,} imported students, a {STUDENTS:,}-row import preview",
                  flush=True)
            samples = measure_pages(gateway, school, job_id)
            p50, p95, p99 = percentiles(samples)
            print(f"pages: {len(samples)} requests, p50={p50:.1f} ms p95={p95:.1f} ms p99={p99:.1f} ms", flush=True)
            if os.environ.get("BENCH_WEB_PAGES_ONLY"):
                return
            path = big_file(data)
            direct_upload(stack, path)  # warm-up: SeaweedFS grows its volumes on the first large writes
            browser_s = browser_upload(gateway, school, path)
            direct_s = direct_upload(stack, path)
            browser_mbps, direct_mbps = SIZE / 1e6 / browser_s, SIZE / 1e6 / direct_s
            print(f"upload of {SIZE:,} bytes: browser (tus-js-client via gateway + evidence) {browser_s:.1f} s, "
                  f"direct (minio to S3) {direct_s:.1f} s, ratio {browser_mbps / direct_mbps:.2f}", flush=True)
            print(f"page_p95_ms={p95:.1f} browser_upload_MBps={browser_mbps:.1f} direct_MBps={direct_mbps:.1f}")
        finally:
            for proc in reversed(running):
                proc.stop()


if __name__ == "__main__":
    main()
