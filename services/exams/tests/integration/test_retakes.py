"""Retakes: after a failed, adopted result a new attempt within the maximum and window, or by the board's decision."""

from __future__ import annotations

import importlib.util
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kit.testing.outbox import staged_events

# The result-making helpers of test_results (pytest's importlib mode makes test modules no package).
_spec = importlib.util.spec_from_file_location("results_helpers", Path(__file__).with_name("test_results.py"))
assert _spec is not None and _spec.loader is not None
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)
finalizer, assess, assessed, finalized, cell = (helpers.finalizer, helpers.assess, helpers.assessed,
                                                helpers.finalized, helpers.cell)
PASS, FAIL, EN = helpers.PASS, helpers.FAIL, helpers.EN
WEAK_FAIL = {"p1": {"c1a": "pass", "c1b": "2"}, "p2": {"c2a": "pass", "c2b": "2"}}  # 3.2: fails on the grade
School = Any

__all__ = ["finalizer"]


async def adopt(school: School, attempt_id: str) -> dict[str, Any]:
    result = await school.world.db.results.find_one({"attempt_id": attempt_id, "superseded_by": None})
    r = await school.world.http.post(f"/v1/schools/{school.school_id}/results/{result['_id']}/adopt",
                                     headers=school.h("board"))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def retake(school: School, attempt_id: str, who: str = "supervisor", **body: Any) -> Any:
    return await school.world.http.post(f"/v1/schools/{school.school_id}/attempts/{attempt_id}/retake",
                                        json=body or None, headers={**school.h(who), **EN})


async def outlook(school: School, attempt_id: str, headers: dict[str, str]) -> dict[str, Any]:
    r = await school.world.http.get(f"/v1/schools/{school.school_id}/attempts/{attempt_id}/retake",
                                    headers={**headers, **EN})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def exam_with(school: School, make_exam_spec: Any, **rules: Any) -> None:
    """Publish another exam of the programme with these rules and make it the school's exam in the tests."""
    spec = {**make_exam_spec(school.programme_id, code=f"R{uuid.uuid4().hex[:6]}"), "rules": rules}
    r = await school.world.http.post("/v1/catalog/exams", json=spec, headers=school.world.operator)
    assert r.status_code == 201, r.text
    school.exam_id = r.json()["id"]


async def test_a_failed_student_retakes_as_attempt_two_with_new_scheduling(school: School, finalizer: Any) -> None:
    http, sid, db = school.world.http, school.school_id, school.world.db
    jan = school.students[0]
    assignment = await school.adopted(jan)
    first = await helpers.assessed(school, finalizer, jan, FAIL, assignment)
    first_id = first[0]["attempt_id"]

    early = await retake(school, first_id)
    assert early.status_code == 409 and "not been adopted" in early.json()["detail"]
    look = await outlook(school, first_id, school.h("supervisor"))
    assert (look["allowed"], look["reason"]) == (False, early.json()["detail"])
    late_schedule = await http.post(f"/v1/schools/{sid}/schedules", headers={**school.h("supervisor"), **EN}, json={
        "assignment_ids": [assignment["id"]], "all_parts": {"starts_at": datetime.now(UTC).isoformat()}})
    assert late_schedule.status_code == 409 and "open a retake first" in late_schedule.json()["detail"]
    await adopt(school, first_id)
    for headers in (school.h("supervisor"), jan.headers):  # the student sees it as staff do, once adopted
        look = await outlook(school, first_id, headers)
        assert (look["allowed"], look["reason"], look["next_number"], look["max_attempts"]) == (True, None, 2, 3)

    opened = await retake(school, first_id)
    assert opened.status_code == 201, opened.text
    second = opened.json()
    assert (second["number"], second["previous_attempt_id"], second["state"]) == (2, first_id, "in_execution")
    [event] = [e for e in await staged_events(db, "exams.retake_opened") if e["subject"] == second["id"]]
    assert (event["data"]["attempt_number"], event["data"]["opened_by"]) == (2, school.staff["supervisor"])
    shown = await cell(school, jan)
    assert (shown["state"], shown["attempt_number"]) == ("not_scheduled", 2)
    twice = await retake(school, first_id)
    assert twice.status_code == 409 and "later attempt" in twice.json()["detail"]
    running = await retake(school, second["id"])
    assert running.status_code == 409 and "still running" in running.json()["detail"]

    parts = await school.schedule(assignment, starts_at=datetime.now(UTC) - timedelta(minutes=5))
    assert {(p["attempt_id"], p["attempt_number"]) for p in parts} == {(second["id"], 2)}
    assert (await cell(school, jan))["state"] == "fully_scheduled_started"
    await assess(school, parts, PASS)
    assert (await finalizer(finalized(school, parts))).status == "handled"
    shown = await cell(school, jan)
    assert (shown["state"], shown["attempt_number"]) == ("passed", 2)
    staff_look = await outlook(school, second["id"], school.h("supervisor"))
    assert not staff_look["allowed"] and "has been passed" in staff_look["reason"]
    jans_look = await outlook(school, second["id"], jan.headers)  # not adopted yet: Jan may not learn he passed
    assert not jans_look["allowed"] and "passed" not in jans_look["reason"]
    await adopt(school, second["id"])
    after_pass = await retake(school, second["id"])
    assert after_pass.status_code == 409 and "has been passed" in after_pass.json()["detail"]

    mine = (await http.get(f"/v1/schools/{sid}/students/{jan.student_id}/results", headers=jan.headers)).json()
    [exam] = mine["exams"]
    assert [(a["attempt_number"], a["outcome"]) for a in exam["attempts"]] == [(1, "failed"), (2, "passed")]
    assert exam["counts"] == "last" and exam["counting_result_id"] == exam["attempts"][1]["id"]


async def test_beyond_the_maximum_only_with_an_unused_extra_attempt(school: School, finalizer: Any,
                                                                     make_exam_spec: Any) -> None:
    db, jan = school.world.db, school.students[0]
    await exam_with(school, make_exam_spec, max_attempts=1)
    first = (await helpers.assessed(school, finalizer, jan, FAIL))[0]["attempt_id"]
    await adopt(school, first)
    refused = await retake(school, first)
    assert refused.status_code == 409 and "maximum of 1 attempts" in refused.json()["detail"]
    look = await outlook(school, first, school.h("board"))
    assert (look["allowed"], look["beyond_limits"], look["extra_attempt_case_id"]) == (False, True, None)
    assert look["reason"] == refused.json()["detail"]
    dutch = await school.world.http.post(f"/v1/schools/{school.school_id}/attempts/{first}/retake",
                                         headers=school.h("supervisor"))
    assert "examencommissie" in dutch.json()["detail"]
    assert await db.attempts.count_documents({"student_id": jan.student_id, "exam_id": school.exam_id}) == 1

    case_id = f"case_{uuid.uuid4().hex[:8]}"
    await db.cases.insert_many([
        {"_id": case_id, "school_id": school.school_id, "student_id": jan.student_id, "exam_id": school.exam_id,
         "kind": "extra_attempt", "state": "decided", "decision": {"outcome": "granted"}},
        {"_id": f"{case_id}_refused", "school_id": school.school_id, "student_id": jan.student_id,
         "exam_id": school.exam_id, "kind": "extra_attempt", "state": "decided", "decision": {"outcome": "refused"}},
    ])
    look = await outlook(school, first, school.h("supervisor"))
    assert (look["allowed"], look["beyond_limits"], look["extra_attempt_case_id"]) == (True, True, case_id)
    opened = await retake(school, first)
    assert opened.status_code == 201, opened.text
    assert (opened.json()["number"], opened.json()["case_id"]) == (2, case_id)
    case = await db.cases.find_one({"_id": case_id})
    assert case["decision"]["used_by_attempt_id"] == opened.json()["id"]

    assignment = await db.assignments.find_one({"student_id": jan.student_id, "exam_id": school.exam_id})
    parts = await school.schedule({"id": assignment["_id"]}, starts_at=datetime.now(UTC) - timedelta(minutes=5))
    await assess(school, parts, FAIL)
    await finalizer(finalized(school, parts))
    await adopt(school, opened.json()["id"])
    used = await retake(school, opened.json()["id"])
    assert used.status_code == 409 and "maximum" in used.json()["detail"]


async def test_the_highest_result_counts_when_the_exam_says_so(school: School, finalizer: Any,
                                                               make_exam_spec: Any) -> None:
    http, jan = school.world.http, school.students[0]
    await exam_with(school, make_exam_spec, counts="highest", final_grade="one_decimal")
    assignment = await school.adopted(jan)
    first = (await helpers.assessed(school, finalizer, jan, FAIL, assignment))[0]["attempt_id"]  # 10.0, knocked out
    await adopt(school, first)
    second = (await retake(school, first)).json()["id"]
    parts = await school.schedule(assignment, starts_at=datetime.now(UTC) - timedelta(minutes=5))
    await assess(school, parts, WEAK_FAIL)
    await finalizer(finalized(school, parts))
    await adopt(school, second)
    body = (await http.get(f"/v1/schools/{school.school_id}/students/{jan.student_id}/results",
                           headers=school.h("supervisor"))).json()
    [exam] = body["exams"]
    assert [(a["attempt_number"], a["final_grade"]) for a in exam["attempts"]] == [(1, 10.0), (2, 3.2)]
    assert exam["counts"] == "highest" and exam["counting_result_id"] == exam["attempts"][0]["id"]
    assert (await cell(school, jan))["state"] == "failed"


async def test_a_retake_after_the_window_needs_the_board(school: School, finalizer: Any,
                                                         make_exam_spec: Any) -> None:
    await exam_with(school, make_exam_spec, attempt_window_days=30)
    jan = school.students[0]
    assignment = await school.adopted(jan)
    parts = await school.schedule(assignment, starts_at=datetime.now(UTC) - timedelta(days=40))
    await assess(school, parts, FAIL)
    await finalizer(finalized(school, parts))
    await adopt(school, parts[0]["attempt_id"])
    r = await retake(school, parts[0]["attempt_id"])
    assert r.status_code == 409 and "attempt window has passed" in r.json()["detail"]
    look = await outlook(school, parts[0]["attempt_id"], school.h("admin"))
    assert (look["allowed"], look["beyond_limits"], look["reason"]) == (False, True, r.json()["detail"])
    first_moment = datetime.fromisoformat(parts[0]["starts_at"])
    assert abs(datetime.fromisoformat(look["window_ends"]) - (first_moment + timedelta(days=30))) < timedelta(seconds=1)
    other = await retake(school, parts[0]["attempt_id"], who="supervisor2")
    assert other.status_code in (403, 404)  # not linked to the student
