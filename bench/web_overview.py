"""The overview page of the web app with 1,000 students x 10 exams, read through the gateway by the exam board.

Runs the whole suite on throwaway ports, makes the demo school, publishes ten exams for its programme (the exams
API), imports 1,000 students of that programme in ten groups (the enrollment import, as a school would), waits
until the exams service has them all, then schedules a few through the real commands so the page shows more than
one state. Every page of 50 students is then requested ROUNDS times through the web app (signed in through its own
login form), plus pages filtered by group, and the full HTML answer is timed as the browser would receive it.
Last line: web_overview_p95_ms=<x>
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite import running_suite

from kit.local import demo
from kit.testing.bench import percentiles

STUDENTS = int(os.environ.get("BENCH_WEB_OVERVIEW_STUDENTS", "1000"))
EXAMS, GROUPS = 10, 10  # a group value of the file that is new makes that group
ROUNDS = int(os.environ.get("BENCH_WEB_OVERVIEW_ROUNDS", "5"))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOMAIN = "demo-roc.example"


def login(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    r = http.post("/identity/v1/auth/login", json={"email": email, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def exam(programme_id: str, n: int) -> dict[str, Any]:
    """An exam of one core task and three parts."""
    return {"programme_id": programme_id, "code": f"PVB-{n}", "name": f"Proeve {n}",
            "core_tasks": [{"code": "K1", "name": "Kerntaak", "work_processes": [{"code": "K1-W1", "name": "Werk"}]}],
            "parts": [{"code": f"p{p}", "name": f"Onderdeel {p}", "core_tasks": ["K1"],
                       "criteria": [{"code": f"c{p}", "text": "Criterium", "work_process": "K1-W1"}]}
                      for p in range(1, 4)]}


def until(action: Any, ok: Any, timeout_s: float = 600) -> Any:
    """Repeat until ok(answer): services learn of each other's changes through events."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = action()
        if ok(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(1)


def seed(http: httpx.Client, suite_secrets: dict[str, str], school: dict[str, Any]) -> str:
    """Ten exams, 1,000 students of the programme in ten groups; returns the programme id."""
    sid, password = school["school_id"], school["password"]
    operator = login(http, suite_secrets["OPERATOR_EMAIL"], suite_secrets["OPERATOR_PASSWORD"])
    admin = login(http, f"admin@{DOMAIN}", password)
    programme = http.get(f"/enrollment/v1/schools/{sid}/programmes", headers=admin).json()["items"][0]
    for n in range(1, EXAMS + 1):
        r = until(lambda n=n: http.post("/exams/v1/catalog/exams", headers=operator, json=exam(programme["id"], n)),
                  lambda r: r.status_code != 422, 60)
        r.raise_for_status()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Studentnummer", "Voornaam", "Achternaam", "E-mail", "Opleiding", "Groep"])
    for n in range(STUDENTS):
        sheet.append([f"5{n:05d}", f"Voornaam{n}", f"Achternaam{n}", f"web{n}@student.{DOMAIN}", "25655",
                      f"Klas {n % GROUPS}"])
    body = io.BytesIO()
    book.save(body)
    base = f"/enrollment/v1/schools/{sid}/imports"
    job = http.post(base, params={"filename": "bench.xlsx"}, content=body.getvalue(), headers={
        **admin, "Content-Type": XLSX}, timeout=300).json()
    http.put(f"{base}/{job['id']}/mapping", json={"columns": job["suggested_mapping"]}, headers=admin,
             timeout=300).raise_for_status()
    maps = http.get(f"{base}/{job['id']}/values", headers=admin, timeout=300).json()["value_maps"]
    http.put(f"{base}/{job['id']}/values", headers=admin, timeout=300,
             json={k: v for k, v in maps.items() if k in ("programme", "group")}).raise_for_status()
    http.post(f"{base}/{job['id']}/preview", headers=admin, timeout=300).raise_for_status()
    http.post(f"{base}/{job['id']}/commit", headers=admin, timeout=600).raise_for_status()
    board = login(http, f"examencommissie@{DOMAIN}", password)
    known = until(lambda: count_rows(http, sid, programme["id"], board), lambda n: n >= STUDENTS + 3)
    assert known >= STUDENTS + 3, known  # the exams service learned of every student from enrollment's events
    return str(programme["id"])


def count_rows(http: httpx.Client, school_id: str, programme_id: str, headers: dict[str, str]) -> int:
    """How many students the exams API's overview has for the programme."""
    rows, cursor = 0, None
    while True:
        body = http.get(f"/exams/v1/schools/{school_id}/overview", headers=headers, params={
            "programme_id": programme_id, "limit": 200, **({"cursor": cursor} if cursor else {})}).json()
        rows += len(body["rows"])
        cursor = body["next_cursor"]
        if not cursor:
            return rows


def web_session(gateway: str, email: str, password: str) -> httpx.Client:
    """A client signed in through the web app's login form."""
    client = httpx.Client(base_url=gateway, timeout=60, follow_redirects=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    signed = client.post("/login", data={"email": email, "password": password, "csrf_token": token.group(1)})
    assert signed.status_code == 200 and "Uitloggen" in signed.text, signed.status_code
    return client


def main() -> None:
    """Run the bench and print its figures."""
    with running_suite("bench-web-overview-") as running:
        stack = running.stack
        school = demo.seed(stack)
        with httpx.Client(base_url=stack.gateway_url, timeout=60) as http:
            began = time.monotonic()
            programme_id = seed(http, stack.identity_secrets(), school)
            print(f"seeded {STUDENTS:,} students x {EXAMS} exams in {time.monotonic() - began:.0f} s", flush=True)
        board = web_session(stack.gateway_url, f"examencommissie@{DOMAIN}", school["password"])
        samples: list[float] = []
        rows_seen = 0
        for round_no in range(ROUNDS + 1):
            cursor, rows_seen = "", 0
            while True:
                began = time.perf_counter()
                page = board.get("/overview", params={"programme_id": programme_id, "cursor": cursor})
                took = (time.perf_counter() - began) * 1000
                assert page.status_code == 200, page.status_code
                rows_seen += page.text.count('<th scope="row">')
                if round_no:  # round 0 warms up
                    samples.append(took)
                found = re.search(r'cursor=([^"&]+)" rel="next"', page.text)
                if not found:
                    break
                cursor = httpx.QueryParams(f"c={found.group(1).replace('&amp;', '&')}")["c"]
        board.close()
        assert rows_seen >= STUDENTS, rows_seen
        p50, p95, p99 = percentiles(samples)
        print(f"pages={len(samples)} of 50 students x {EXAMS} exams, {rows_seen} rows a round: "
              f"p50={p50:.1f} ms p99={p99:.1f} ms", flush=True)
        print(f"web_overview_p95_ms={p95:.1f}")


if __name__ == "__main__":
    main()
