"""The Kafka-protocol broker stopped for 30 s while a school keeps working."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.timeout(240, func_only=True)  # the suite starting is bounded on its own

OUTAGE_S = 30.0
DELIVERY_DEADLINE_S = 90.0


def test_commands_are_accepted_while_the_broker_is_away_and_every_event_arrives_once(suite: Any) -> None:
    admin = suite.headers("admin@demo-roc.example")
    sent: list[str] = []
    accepted: list[str] = []
    readiness: list[dict[str, Any]] = []
    with httpx.Client(base_url=suite.stack.gateway_url, timeout=30) as http:
        suite.stop("kafka")
        stopped_at = time.monotonic()
        try:
            while time.monotonic() - stopped_at < OUTAGE_S:
                response = suite.new_student(http, admin, "b")
                sent.append(response.request.url.path)
                if response.status_code == 201:
                    accepted.append(response.json().get("student_id") or response.json()["id"])
                else:
                    pytest.fail(f"command refused while the broker was away: {response.status_code} {response.text}")
                if len(readiness) < 1:
                    ready = http.get("/enrollment/readyz")
                    readiness.append({"status": ready.status_code, "body": ready.json()})
                time.sleep(0.4)
        finally:
            suite.start("kafka")

        # /readyz named what was missing while the broker was away, and nothing else.
        assert readiness[0]["status"] == 503, readiness
        body = readiness[0]["body"]
        assert body["missing"] == ["kafka"] and "kafka" in body["detail"], body

        handled, delivered_s = suite.wait_handled(set(accepted), DELIVERY_DEADLINE_S)
    records = [e for e in suite.events("enrollment.events", set(accepted)) if e["type"] == "enrollment.student_created"]
    per_event = Counter(e["event_id"] for e in records)
    duplicated = sum(n - 1 for n in per_event.values())
    lost = len(accepted) - len(handled)
    suite.report("broker stopped 30s", sent=len(sent), accepted=len(accepted), on_topic=len(per_event),
                 delivered=len(handled), duplicated=duplicated, lost=lost,
                 applied_twice=sum(1 for n in handled.values() if n > 1), delivered_after_s=round(delivered_s, 1))
    assert len(accepted) == len(sent) >= 20
    assert lost == 0, f"{lost} students never reached identity"
    assert len(per_event) == len(accepted), "an accepted command's event is missing from the topic"
    assert all(n == 1 for n in handled.values()), "an event was applied more than once"
