"""Finalizing assessments: from the finalize request to the evidence locked and the "result available" e-mail.

Starts the whole suite on throwaway ports (every server, api, worker and the gateway) and makes the demo school
through the public APIs. The operator publishes EXAMS one-part exams; for each, the supervisor prepares the
assignments of the three demo students, the students, supervisor and workplace trainer approve, the exam board
adopts and the supervisor schedules the part (started a minute ago); each student uploads one evidence file to
the attempt and the assessor saves a complete form. Then, at a steady pace through the gateway, the assessor
finalizes WARMUP + FINALIZES assessments (each the attempt's only part, so each publishes
exams.assessment_finalized). For each measured one, from the moment the finalize request is sent:

* locked: until the evidence service's listing of the attempt's evidence (as the assessor) reports the file
  locked (polled every POLL_S per outstanding attempt);
* e-mail: until the SMTP sink accepted the student's "Er is een resultaat beschikbaar" e-mail (the sink's file
  time), which takes exams' relay -> the exams worker computing the result -> its relay -> the notifications
  worker -> SMTP.

Last line: finalize_to_locked_p95_ms=<x> finalize_to_email_p95_ms=<y>
"""

from __future__ import annotations

import asyncio
import email.policy
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite import running_suite

from kit.local import demo, servers
from kit.mongo import create_client
from kit.outbox import row_events
from kit.settings import KitSettings
from kit.testing.bench import percentiles

FINALIZES = int(os.environ.get("BENCH_FINALIZE_COUNT", "200"))
WARMUP = 10
INTERVAL_S = float(os.environ.get("BENCH_FINALIZE_INTERVAL_S", "0.25"))  # 4 finalizations a second
POLL_S = 0.05
TIMEOUT_S = 120.0
STUDENTS = 3  # the demo school's
DOMAIN = demo.DOMAIN
SUBJECT = "Er is een resultaat beschikbaar: "


def exam_body(programme_id: str, n: int) -> dict[str, Any]:
    """A one-part exam: one core task, a pass/fail and a 1-5 criterion."""
    return {"programme_id": programme_id, "code": f"BENCH{n}", "name": f"Proeve bench {n}",
            "core_tasks": [{"code": "K1", "name": "Kerntaak 1", "work_processes": [
                {"code": "K1-W1", "name": "Werkproces 1"}]}],
            "parts": [{"code": "obs", "name": "Observatie", "core_tasks": ["K1"], "criteria": [
                {"code": "c1", "text": "Werkt veilig", "work_process": "K1-W1"},
                {"code": "c2", "text": "Plant de zorg", "work_process": "K1-W1", "scoring": "scale_1_5"}]}]}


class Client:
    """The gateway, with the bench's checks on every answer."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, method: str, path: str, headers: dict[str, str] | None = None, ok: tuple[int, ...] = (200,),
                   retry_on: tuple[int, ...] = (), **kwargs: Any) -> Any:
        """A request that must succeed; statuses in retry_on are retried (things learned through events)."""
        deadline = time.monotonic() + 60
        while True:
            r = await self.http.request(method, path, headers=headers, **kwargs)
            if r.status_code in ok:
                return r.json() if r.content else None
            if r.status_code not in retry_on or time.monotonic() > deadline:
                raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
            await asyncio.sleep(0.3)

    async def login(self, address: str, password: str) -> dict[str, str]:
        token = await self.call("POST", "/identity/v1/auth/login", json={"email": address, "password": password})
        return {"Authorization": f"Bearer {token['access_token']}"}


class People:
    """The demo school's accounts as request headers, and their ids."""

    def __init__(self, client: Client, school: dict[str, Any], operator: tuple[str, str]) -> None:
        self.client, self.school, self.operator_login = client, school, operator
        self.h: dict[str, dict[str, str]] = {}

    async def sign_in(self) -> None:
        """Fresh tokens for everyone (an access token lives 15 minutes)."""
        password = self.school["password"]
        self.h["operator"] = await self.client.login(*self.operator_login)
        for handle in ("admin", "begeleider", "examinator", "examencommissie", "praktijkopleider"):
            self.h[handle] = await self.client.login(f"{handle}@{DOMAIN}", password)
        for address in self.school["accounts"]:
            if "@student." in address:
                self.h[address.split("@")[0]] = await self.client.login(address, password)


async def prepare_exam(client: Client, people: People, sid: str, programme_id: str, n: int,
                       students: list[dict[str, Any]], ids: dict[str, str]) -> list[dict[str, Any]]:
    """One exam published, its three assignments approved, adopted and scheduled; returns the scheduled parts."""
    h = people.h
    exam = await client.call("POST", "/exams/v1/catalog/exams", h["operator"], ok=(201,), retry_on=(422,),
                             json=exam_body(programme_id, n))
    assignments = await client.call(
        "POST", f"/exams/v1/schools/{sid}/assignments", h["begeleider"], ok=(201,), retry_on=(422,),
        json={"exam_id": exam["id"], "student_ids": [s["id"] for s in students], "title": "Zorgplan",
              "text": "Stel een zorgplan op en voer het uit.", "first_assessor_id": ids["examinator"],
              "adopter_id": ids["examencommissie"]})

    async def approve_and_adopt(assignment: dict[str, Any]) -> None:
        student = next(s for s in students if s["id"] == assignment["student_id"])
        base = f"/exams/v1/schools/{sid}/assignments/{assignment['id']}"
        for who in (student["handle"], "begeleider", "praktijkopleider"):
            await client.call("POST", f"{base}/approve", h[who], json={"confirm": True})
        await client.call("POST", f"{base}/adopt", h["examencommissie"])

    # The three students' assignments side by side (each writes only its own student's documents).
    await asyncio.gather(*(approve_and_adopt(a) for a in assignments))
    starts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return list(await client.call("POST", f"/exams/v1/schools/{sid}/schedules", h["begeleider"], ok=(201,), json={
        "assignment_ids": [a["id"] for a in assignments], "all_parts": {"starts_at": starts}}))


async def ready_to_finalize(client: Client, people: People, sid: str, part: dict[str, Any],
                            students: list[dict[str, Any]]) -> None:
    """The student's evidence uploaded to the attempt, the assessor's complete form saved."""
    student = next(s for s in students if s["id"] == part["student_id"])
    await client.call("POST", f"/evidence/v1/schools/{sid}/attempts/{part['attempt_id']}/evidence?filename=plan.txt",
                      people.h[student["handle"]], ok=(201,), retry_on=(409, 404), content=b"Mijn zorgplan.")
    await client.call("PUT", f"/exams/v1/schools/{sid}/schedules/{part['id']}/assessment/forms/me",
                      people.h["examinator"], json={"version": 0, "scores": {"c1": "pass", "c2": "4"}})


class MailWatch:
    """Acceptance times (the sink's file time) of "result available" e-mails, by (address, exam name)."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir
        self.seen: set[str] = set()
        self.accepted: dict[tuple[str, str], float] = {}
        self.parser = BytesHeaderParser(policy=email.policy.default)

    def scan(self) -> int:
        """Read new files; returns how many e-mails the sink holds."""
        for path in self.mail_dir.glob("*.eml"):
            if path.name in self.seen:
                continue
            with path.open("rb") as fh:
                headers = self.parser.parse(fh)
            if headers["Subject"] is None or headers["To"] is None:
                continue  # still being written
            self.seen.add(path.name)
            subject = str(headers["Subject"])
            if subject.startswith(SUBJECT):
                self.accepted[(str(headers["To"]).strip().lower(), subject[len(SUBJECT):])] = path.stat().st_mtime
        return len(self.seen)

    async def settle(self, quiet_s: float = 3.0) -> None:
        """Wait until the sink received nothing new for quiet_s (the setup's e-mails are out of the way)."""
        count, since = -1, time.monotonic()
        while time.monotonic() - since < quiet_s:
            now_count = self.scan()
            if now_count != count:
                count, since = now_count, time.monotonic()
            await asyncio.sleep(0.2)


async def measure(mongo_uri: str, client: Client, people: People, sid: str, parts: list[dict[str, Any]],
                  students: list[dict[str, Any]], exam_names: dict[str, str], mail: MailWatch) -> tuple[list[float],
                                                                                                          list[float]]:
    """Finalize every part at a steady pace; latencies (ms) to locked evidence and to the e-mail."""
    locked_at: dict[str, float] = {}
    sent_at: dict[str, float] = {}
    pollers: list[asyncio.Task[None]] = []

    async def poll_locked(attempt_id: str) -> None:
        path = f"/evidence/v1/schools/{sid}/attempts/{attempt_id}/evidence"
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            files = await client.call("GET", path, people.h["examinator"])
            if files and all(f["locked"] for f in files):
                locked_at[attempt_id] = time.time()
                return
            await asyncio.sleep(POLL_S)

    async def watch_mail(stop: asyncio.Event) -> None:
        while not stop.is_set():
            mail.scan()
            await asyncio.sleep(0.02)

    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_mail(stop))
    try:
        for n, part in enumerate(parts):
            sent = time.time()
            await client.call("POST", f"/exams/v1/schools/{sid}/schedules/{part['id']}/assessment/finalize",
                              people.h["examinator"], json={"confirm": True})
            if n >= WARMUP:
                sent_at[part["attempt_id"]] = sent
                pollers.append(asyncio.create_task(poll_locked(part["attempt_id"])))
            await asyncio.sleep(max(0.0, INTERVAL_S - (time.time() - sent)))
        await asyncio.gather(*pollers)
        address = {s["id"]: s["address"] for s in students}
        wanted = {p["attempt_id"]: (address[p["student_id"]], exam_names[p["exam_id"]]) for p in parts[WARMUP:]}
        deadline = time.monotonic() + TIMEOUT_S
        while any(key not in mail.accepted for key in wanted.values()):
            if time.monotonic() > deadline:
                missing = sum(key not in mail.accepted for key in wanted.values())
                raise TimeoutError(f"{missing} of {len(wanted)} result e-mails did not arrive")
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await watcher
    if missing_locks := [a for a in sent_at if a not in locked_at]:
        raise TimeoutError(f"{len(missing_locks)} attempts' evidence was not reported locked")
    locked = [(locked_at[a] - sent_at[a]) * 1000 for a in sent_at]
    mailed = [(mail.accepted[wanted[a]] - sent_at[a]) * 1000 for a in sent_at]
    await stages(mongo_uri, sent_at, {a: mail.accepted[wanted[a]] for a in sent_at})
    return locked, mailed


async def _events(db: Any, event_type: str) -> dict[str, tuple[str, float, float | None]]:
    """attempt id -> (event id, staged, relayed) of a service's outbox events of one type."""
    found: dict[str, tuple[str, float, float | None]] = {}
    async for row in db.outbox.find({}):
        for event in row_events(row):
            if event["type"] == event_type:
                envelope = json.loads(event["payload"])
                found[envelope["subject"]] = (envelope["event_id"], row["created_at"].timestamp(),
                                              row["sent_at"].timestamp() if row.get("sent_at") else None)
    return found


async def stages(mongo_uri: str, sent_at: dict[str, float], mailed_at: dict[str, float]) -> None:
    """Where the time goes, per hop (p50 / p95 ms), read from the services' outboxes, inboxes and deliveries."""
    client = create_client(KitSettings(mongo_uri=mongo_uri))
    try:
        exams, evidence, notes = client["exams"], client["evidence"], client["notifications"]
        finalized = await _events(exams, "exams.assessment_finalized")
        available = await _events(exams, "exams.result_available")

        async def inbox(db: Any, group: str, event_ids: list[str]) -> dict[str, float]:
            docs = db.inbox.find({"_id": {"$in": [f"{group}:{e}" for e in event_ids]}})
            return {d["_id"].split(":", 1)[1]: d["at"].timestamp() async for d in docs}

        ids = [finalized[a][0] for a in sent_at]
        at_evidence = await inbox(evidence, "evidence", ids)
        at_exams = await inbox(exams, "exams-results", ids)
        notice_ids = [available[a][0] for a in sent_at]
        at_notes = await inbox(notes, "notifications", notice_ids)
        rows: dict[str, list[float]] = {}

        def add(name: str, start: float | None, end: float | None) -> None:
            if start is not None and end is not None:
                rows.setdefault(name, []).append((end - start) * 1000)

        for a, sent in sent_at.items():
            event_id, staged, relayed = finalized[a]
            add("request sent -> finalize committed (event staged)", sent, staged)
            add("staged -> published by exams' relay", staged, relayed)
            add("published -> evidence worker took it", relayed, at_evidence.get(event_id))
            add("published -> exams worker took it", relayed, at_exams.get(event_id))
            notice_id, computed, notice_relayed = available[a]
            add("exams worker took it -> result stored (ResultAvailableV1 staged)", at_exams.get(event_id), computed)
            add("result staged -> published by exams' relay", computed, notice_relayed)
            add("published -> notifications worker took it", notice_relayed, at_notes.get(notice_id))
            add("notifications worker took it -> e-mail accepted by the sink", at_notes.get(notice_id), mailed_at[a])
        for name, values in rows.items():
            print(f"  {name}: {statistics.median(values):.0f} / {percentiles(values)[1]:.0f} ms")
    finally:
        await client.close()


async def run(mongo_uri: str, suite_dir: Path, gateway_url: str, operator: tuple[str, str],
              school: dict[str, Any]) -> None:
    """Set up the exams, measure, print the figures."""
    exams_needed = -(-(FINALIZES + WARMUP) // STUDENTS)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        client = Client(http)
        people = People(client, school, operator)
        await people.sign_in()
        sid = school["school_id"]
        ids = {h: (await client.call("GET", "/identity/v1/me", people.h[h]))["user_id"]
               for h in ("examinator", "examencommissie")}
        programme_id = (await client.call("GET", f"/enrollment/v1/schools/{sid}/programmes",
                                          people.h["admin"]))["items"][0]["id"]
        listed = (await client.call("GET", f"/enrollment/v1/schools/{sid}/students", people.h["admin"]))["items"]
        accounts = [a for a in school["accounts"] if "@student." in a]
        students = [{"id": s["id"], "address": a.lower(), "handle": a.split("@")[0]}
                    for a in accounts for s in listed if a.split("@")[0].endswith(s["student_code"])]
        started = time.monotonic()
        parts: list[dict[str, Any]] = []
        for n in range(exams_needed):  # one exam at a time: they all write the same three students' documents
            parts += await prepare_exam(client, people, sid, programme_id, n, students, ids)
        for first in range(0, len(parts), STUDENTS):
            await asyncio.gather(*(ready_to_finalize(client, people, sid, p, students)
                                   for p in parts[first:first + STUDENTS]))
        exam_names = {p["exam_id"]: p["exam_name"] for p in parts}
        mail = MailWatch(suite_dir / "mail")
        await mail.settle()
        print(f"set up {len(exam_names)} exams, {len(parts)} attempts with evidence and a saved form in "
              f"{time.monotonic() - started:.0f} s")
        await people.sign_in()
        locked, mailed = await measure(mongo_uri, client, people, sid, parts[:FINALIZES + WARMUP], students,
                                       exam_names, mail)
    lp50, lp95, lp99 = percentiles(locked)
    mp50, mp95, mp99 = percentiles(mailed)
    print(f"{datetime.now():%Y-%m-%d %H:%M} finalize over {len(locked)} assessments (after {WARMUP} warm-up), "
          f"{1 / INTERVAL_S:.0f}/s through the gateway, {sys.platform}")
    print(f"finalize -> evidence reports locked: p50={lp50:.0f} p95={lp95:.0f} p99={lp99:.0f} "
          f"max={max(locked):.0f} ms (polled every {POLL_S * 1000:.0f} ms)")
    print(f"finalize -> result-available e-mail accepted by the sink: p50={mp50:.0f} p95={mp95:.0f} p99={mp99:.0f} "
          f"max={max(mailed):.0f} ms")
    print(f"finalize_to_locked_p95_ms={lp95:.0f} finalize_to_email_p95_ms={mp95:.0f}")


def main() -> None:
    """Start the suite, make the demo school, run."""
    # Hundreds of setup requests from one token: the per-token limit of the gateway is raised as for a load test.
    os.environ.setdefault("GATEWAY_TOKEN_PER_SECOND", "1000")
    os.environ.setdefault("GATEWAY_TOKEN_BURST", "1000")
    with running_suite("bench-finalize-") as running:
        stack = running.stack
        school = demo.seed(stack)
        secrets_ = stack.identity_secrets()
        asyncio.run(run(servers.mongo_uri(stack.ports["mongo"]), stack.data_dir, stack.gateway_url,
                        (secrets_["OPERATOR_EMAIL"], secrets_["OPERATOR_PASSWORD"]), school))


if __name__ == "__main__":
    main()
