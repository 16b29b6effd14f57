"""A worker SIGKILLed in the middle of relaying a burst of 500 events, then restarted."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.timeout(480, func_only=True)  # the suite starting is bounded on its own

BURST = 500
KILL_AFTER = 100  # outbox rows of the burst marked sent before the relay is killed
# The default batch (500 rows) goes out and is marked sent within ~0.1 s, faster than a kill can be aimed; in
# batches of 5 the kill lands between "published" and "marked sent" of some batch, the window that matters.
BATCH = "5"
DELIVERY_DEADLINE_S = 360.0  # 500 events through one Mongo-wire process on a shared, loaded machine


def kill_mid_relay(suite: Any) -> tuple[int, int]:
    """Let the frozen relay go, and SIGKILL it once KILL_AFTER rows of the burst are marked sent.

    Returns the pending rows just before and just after the kill.
    """
    with suite.mongo() as client:
        outbox = client["enrollment"]["outbox"]
        pending_before = outbox.count_documents({"sent_at": None})
        suite.resume("enrollment-worker")
        deadline = time.monotonic() + 60
        while outbox.count_documents({"sent_at": None}) > pending_before - KILL_AFTER:
            assert time.monotonic() < deadline, "the relay did not start on the burst"
        suite.kill("enrollment-worker")
        return pending_before, outbox.count_documents({"sent_at": None})


def test_a_relay_killed_mid_burst_resumes_and_every_event_is_applied_once(suite: Any) -> None:
    admin = suite.headers("admin@demo-roc.example")
    worker = suite.servers["enrollment-worker"]
    suite.stop("enrollment-worker")
    suite.start("enrollment-worker", replace(worker, env={**worker.env, "OUTBOX_BATCH_SIZE": BATCH}))
    suite.servers["enrollment-worker"] = worker  # restarts use the default settings
    time.sleep(3)  # let it settle (relay lease, consumer group) before freezing it
    suite.pause("enrollment-worker")  # the burst piles up in the outbox, then goes out at once
    # Straight to the api: the gateway's per-token ceiling would (rightly) throttle a burst this size.
    with httpx.Client(base_url=suite.url("enrollment"), timeout=60) as http, ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda i: suite.new_student(http, admin, "w", prefix=""), range(BURST)))
    accepted = {r.json().get("student_id") or r.json()["id"] for r in responses if r.status_code == 201}
    refused = [f"{r.status_code} {r.text[:200]}" for r in responses if r.status_code != 201]
    assert not refused, refused[:5]

    pending_before, unsent_at_kill = kill_mid_relay(suite)
    suite.start("enrollment-worker")
    handled, delivered_s = suite.wait_handled(accepted, DELIVERY_DEADLINE_S)
    records = [e for e in suite.events("enrollment.events", accepted) if e["type"] == "enrollment.student_created"]
    per_event = Counter(e["event_id"] for e in records)
    with suite.mongo() as client:
        stuck = client["enrollment"]["outbox"].count_documents({"key": {"$in": sorted(accepted)}, "sent_at": None})
    suite.report("worker SIGKILL mid-burst", sent=BURST, accepted=len(accepted), pending_before=pending_before,
                 unsent_rows_at_kill=unsent_at_kill, delivered=len(handled),
                 duplicated=sum(n - 1 for n in per_event.values()), lost=len(accepted) - len(handled),
                 applied_twice=sum(1 for n in handled.values() if n > 1), stuck_rows=stuck,
                 delivered_after_restart_s=round(delivered_s, 1))
    assert 0 < unsent_at_kill < pending_before, "the relay was not killed mid-burst"
    assert len(handled) == len(accepted) == BURST, f"{len(accepted) - len(handled)} events never applied"
    assert all(n == 1 for n in handled.values()), "an event was applied more than once"
    assert len(per_event) == BURST and stuck == 0
