"""The Mongo-wire server restarted while commands run: clean 503s meanwhile, recovery without restarting services."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.timeout(240, func_only=True)  # the suite starting is bounded on its own

DOWN_S = 15.0
RUN_AFTER_S = 15.0  # commands keep coming this long after the server is back
DELIVERY_DEADLINE_S = 90.0


def test_services_answer_503_while_mongo_restarts_and_recover_by_themselves(suite: Any) -> None:
    admin = suite.headers("admin@demo-roc.example")
    service_pids = {n: r.proc.pid for n, r in suite.running.items() if n.endswith(("-api", "-worker"))}
    calls: list[dict[str, Any]] = []
    with httpx.Client(base_url=suite.stack.gateway_url, timeout=30) as http:

        def command() -> None:
            started = time.monotonic()
            response = suite.new_student(http, admin, "m")
            body = response.json() if response.headers.get("content-type", "").endswith("json") else None
            calls.append({"at": started, "took": time.monotonic() - started, "status": response.status_code,
                          "type": response.headers.get("content-type", ""), "body": body,
                          "code": json.loads(response.request.content)["student_code"]})

        for _ in range(5):
            command()
        suite.stop("mongo")
        down_at = time.monotonic()
        while time.monotonic() - down_at < DOWN_S:
            command()
            time.sleep(0.2)
        suite.start("mongo")
        up_at = time.monotonic()
        while time.monotonic() - up_at < RUN_AFTER_S:
            command()
            time.sleep(0.2)

    failed = [c for c in calls if c["status"] != 201]
    statuses = Counter(c["status"] for c in calls)
    failing_s = (max(c["at"] for c in failed) - min(c["at"] for c in failed)) if failed else 0.0
    unclean = [c for c in failed if c["status"] != 503 or not c["type"].startswith("application/problem+json")]
    created = {c["body"].get("student_id") or c["body"]["id"] for c in calls if c["status"] == 201}
    handled, _ = suite.wait_handled(created, DELIVERY_DEADLINE_S)
    codes = {c["code"] for c in calls}
    with suite.mongo() as client:
        stored = {s["student_code"]: s["_id"] for s in client["enrollment"]["students"].find(
            {"school_id": suite.school["school_id"], "student_code": {"$in": sorted(codes)}},
            {"student_code": 1})}
    half_written = [code for code, sid in stored.items() if sid not in handled]
    recovered = calls[-10:]
    suite.report("mongo restarted", sent=len(calls), accepted=statuses[201], failed=len(failed),
                 statuses=dict(statuses), failing_for_s=round(failing_s, 1),
                 slowest_call_s=round(max(c["took"] for c in calls), 1), unclean_failures=len(unclean),
                 delivered=len(handled), lost=len(created) - len(handled), half_written=len(half_written))
    assert all(suite.running[n].proc.pid == pid and suite.is_up(n) for n, pid in service_pids.items()), \
        "a service process was restarted or died"
    assert failed, "no request failed: the server was not really away"
    assert all(c["status"] == 201 for c in recovered), f"not recovered: {[c['status'] for c in recovered]}"
    assert not unclean, f"failures that were not a clean 503 problem: {[(c['status'], c['body']) for c in unclean][:3]}"
    assert all(c["body"] and c["body"].get("type") for c in failed)
    assert not half_written, f"stored students whose event never arrived: {len(half_written)}"
    assert len(handled) == len(created)
