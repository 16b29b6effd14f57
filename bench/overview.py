"""The overview matrix under load: 1,000 students x 10 exams read through the gateway as their supervisor.

Runs Mongo, Kafka, the exams api and the gateway (Traefik) as real processes on throwaway ports. The
programme, people and the 1,000 students are written in bulk into the exams database's projections (what
the worker would have made of identity's and enrollment's events); the ten exams are published through
the API. A few students go through the real commands (prepare, approve, adopt, schedule) through the
gateway; the other cells of the read model are bulk-written with the same shape and a realistic spread of
the seven states and attempt numbers. Then every page (100 students) of the overview is read repeatedly,
plus pages filtered by group, and the latencies seen by the client are reported.
Last line: overview_p95_ms=<x>
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from exams.projections.roster import lines_for
from exams.readmodel import pack
from kit.auth import Role
from kit.local.stack import Stack
from kit.mongo import create_client
from kit.settings import KitSettings
from kit.testing.bench import percentiles, throwaway
from kit.testing.tokens import TestIssuer

STUDENTS = int(os.environ.get("BENCH_OVERVIEW_STUDENTS", "1000"))
EXAMS = 10
ROUNDS = int(os.environ.get("BENCH_OVERVIEW_ROUNDS", "20"))
PAGE = int(os.environ.get("BENCH_OVERVIEW_PAGE", "50"))
SCHOOL, PROGRAMME, GROUPS = "sch_bench", "prg_bench", 10
PEOPLE = {"supervisor": "school_supervisor", "assessor": "assessor", "board": "exam_board",
          "trainer": "workplace_trainer", "admin": "school_admin"}


def exam_body(n: int) -> dict[str, Any]:
    """A realistic exam: two core tasks, three parts of six criteria."""
    tasks = [{"code": f"K{t}", "name": f"Kerntaak {t}", "work_processes": [
        {"code": f"K{t}-W{w}", "name": f"Werkproces {t}.{w}"} for w in range(1, 4)]} for t in (1, 2)]
    parts = [{"code": f"p{p}", "name": f"Onderdeel {p}", "core_tasks": ["K1", "K2"], "criteria": [
        {"code": f"c{p}{c}", "text": "Criterium", "work_process": f"K{1 + c % 2}-W{1 + c % 3}",
         "scoring": "scale_1_5" if c % 2 else "pass_fail"} for c in range(6)]} for p in range(1, 4)]
    return {"programme_id": PROGRAMME, "code": f"PVB{n}", "name": f"Proeve van bekwaamheid {n}",
            "core_tasks": tasks, "parts": parts}


def cell(student_id: str, exam_id: str, rng: random.Random, now: datetime) -> list[Any] | None:
    """A cell with a realistic spread: many not started yet, some scheduled, some done, a few retakes."""
    roll = rng.random()
    if roll < 0.35:
        return None
    scheduled = 3 if roll > 0.6 else rng.randint(1, 2)
    started = rng.random() < 0.5
    result = rng.choice(["passed", "passed", "passed", "failed"]) if roll > 0.9 else None
    attempt = 2 if rng.random() < 0.08 else 1
    return pack({"assignment_id": f"asg_{student_id}_{exam_id}", "assignment_state": "adopted",
                 "parts_total": 3, "attempt_number": attempt, "parts_scheduled": scheduled,
                 "first_start": now + timedelta(days=rng.randint(-60, -1) if started else rng.randint(1, 60)),
                 "result": result})


async def seed(stack: Stack, http: httpx.AsyncClient, issuer: TestIssuer, staff: dict[str, str]) -> list[str]:
    """Projections and read model in bulk, exams through the API; returns the exam ids."""
    client = create_client(KitSettings(mongo_uri=f"mongodb://127.0.0.1:{stack.ports['mongo']}/"
                                                 "?replicaSet=secantus&retryWrites=false"))
    db = client["exams"]
    try:
        await db.programmes.insert_one({"_id": PROGRAMME, "crebo": "25655", "name": "Verzorgende-IG", "level": 3,
                                        "cohort": 2024, "kind": "qualification"})
        await db.school_programmes.insert_one({"_id": f"{SCHOOL}:{PROGRAMME}", "school_id": SCHOOL,
                                               "programme_id": PROGRAMME, "enabled": True})
        await db.members.insert_many([{"_id": f"{SCHOOL}:{uid}", "school_id": SCHOOL, "user_id": uid,
                                       "roles": [PEOPLE[h]]} for h, uid in staff.items()])
        operator = issuer.headers("operator", {}, operator=True)
        exam_ids = []
        for n in range(1, EXAMS + 1):
            r = await http.post("/exams/v1/catalog/exams", json=exam_body(n), headers=operator)
            r.raise_for_status()
            exam_ids.append(r.json()["id"])
        rng, now = random.Random(7), datetime.now(UTC)
        students = []
        for n in range(STUDENTS):
            sid = f"stu_{n:05d}"
            # the first students' first exam is left to the real commands below
            cells = json.dumps({e: c for e in exam_ids
                                if (n >= 5 or e != exam_ids[0]) and (c := cell(sid, e, rng, now))})
            students.append({
                "_id": sid, "school_id": SCHOOL, "student_code": f"{200000 + n}", "first_name": "Student",
                "last_name": f"Nummer {n}", "programme_ids": [PROGRAMME], "user_id": f"usr_stu_{n:05d}",
                "supervisor_ids": [staff["supervisor"]], "assessor_ids": [staff["assessor"]],
                "trainer_ids": [staff["trainer"]], "assessing_ids": [], "group_ids": [f"grp_{n % GROUPS}"],
                "archived": False, "cells": cells})
        rosters: dict[str, list[str]] = {}
        for s in students:
            s["roster_lines"] = lines_for(s)
            for reader, line in s["roster_lines"].items():
                rosters.setdefault(reader, []).append(line)
        for start_at in range(0, len(students), 200):
            await db.students.insert_many(students[start_at:start_at + 200])
        await db.rosters.insert_many([{"_id": f"{SCHOOL}:{r}", "school_id": SCHOOL, "lines": lines}
                                      for r, lines in rosters.items()])
        await db.members.insert_many([{"_id": f"{SCHOOL}:{s['user_id']}", "school_id": SCHOOL,
                                       "user_id": s["user_id"], "roles": ["student"]} for s in students])
        await db.groups.insert_many([{"_id": f"grp_{g}", "school_id": SCHOOL, "name": f"Groep {g}",
                                      "archived": False} for g in range(GROUPS)])
        await through_the_commands(http, issuer, staff, exam_ids[0], students[:5])
        return exam_ids
    finally:
        await client.close()


async def through_the_commands(http: httpx.AsyncClient, issuer: TestIssuer, staff: dict[str, str], exam_id: str,
                               students: list[dict[str, Any]]) -> None:
    """A few students' cells are made by the real commands, as schools make them."""
    def h(handle: str) -> dict[str, str]:
        return issuer.headers(staff[handle], {SCHOOL: [Role(PEOPLE[handle])]})

    base = f"/exams/v1/schools/{SCHOOL}"
    r = await http.post(f"{base}/assignments", headers=h("supervisor"), json={
        "exam_id": exam_id, "student_ids": [s["_id"] for s in students], "title": "Zorgplan", "text": "Voer uit.",
        "first_assessor_id": staff["assessor"], "adopter_id": staff["board"]})
    r.raise_for_status()
    for a, s in zip(r.json(), students, strict=True):
        student = issuer.headers(s["user_id"], {SCHOOL: [Role.STUDENT]})
        for headers in (student, h("supervisor"), h("trainer")):
            (await http.post(f"{base}/assignments/{a['id']}/approve", json={"confirm": True},
                             headers=headers)).raise_for_status()
        (await http.post(f"{base}/assignments/{a['id']}/adopt", headers=h("board"))).raise_for_status()
    start_at = datetime.now(UTC) + timedelta(days=21)
    (await http.post(f"{base}/schedules", headers=h("supervisor"), json={
        "assignment_ids": [a["id"] for a in r.json()],
        "all_parts": {"starts_at": start_at.isoformat()}})).raise_for_status()


async def measure(stack: Stack, issuer: TestIssuer) -> None:
    """Seed, warm up, then read every page ROUNDS times and some group pages."""
    staff = {h: f"usr_{h}" for h in PEOPLE}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:
        deadline = time.monotonic() + 60
        while (await http.get("/exams/readyz")).status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError("exams not ready through the gateway")
            await asyncio.sleep(0.3)
        seeded = time.monotonic()
        await seed(stack, http, issuer, staff)
        print(f"seeded {STUDENTS} students x {EXAMS} exams in {time.monotonic() - seeded:.1f}s", flush=True)
        supervisor = issuer.headers(staff["supervisor"], {SCHOOL: [Role.SCHOOL_SUPERVISOR]})
        url = f"/exams/v1/schools/{SCHOOL}/overview"

        async def page(params: dict[str, str]) -> tuple[float, dict[str, Any]]:
            began = time.perf_counter()
            r = await http.get(url, params={"programme_id": PROGRAMME, "limit": str(PAGE), **params},
                               headers=supervisor)
            elapsed = (time.perf_counter() - began) * 1000
            r.raise_for_status()
            return elapsed, r.json()

        samples: list[float] = []
        states: dict[str, int] = {}
        for round_no in range(ROUNDS + 1):
            cursor: str | None = None
            rows = 0
            while True:
                elapsed, body = await page({"cursor": cursor} if cursor else {})
                rows += len(body["rows"])
                if round_no:  # round 0 warms up
                    samples.append(elapsed)
                else:
                    for row in body["rows"]:
                        for c in row["cells"]:
                            states[c["state"]] = states.get(c["state"], 0) + 1
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert rows == STUDENTS, rows
            elapsed, body = await page({"group_id": f"grp_{round_no % GROUPS}"})
            if round_no:
                samples.append(elapsed)
    p50, p95, p99 = percentiles(samples)
    print("cell states: " + ", ".join(f"{k}={v}" for k, v in sorted(states.items())))
    print(f"requests={len(samples)} page={PAGE} students p50_ms={p50:.1f} p99_ms={p99:.1f}")
    print(f"overview_p95_ms={p95:.1f}")


def main() -> None:
    """Run the bench and print its figures."""
    with throwaway("bench-overview-") as bench:
        stack, issuer = bench.stack, TestIssuer(bench.data)
        for server in stack.infrastructure():
            if server.name in ("mongo", "kafka"):
                bench.start(server)
        bench.start(stack.api("exams", {"AUTH_JWKS_URL": str(issuer.jwks_path), "OTEL_TRACES_EXPORTER": "none",
                                        "LOG_LEVEL": "WARNING"}))
        bench.start(stack.gateway())
        asyncio.run(measure(stack, issuer))


if __name__ == "__main__":
    main()
