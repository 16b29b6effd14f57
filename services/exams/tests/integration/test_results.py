"""Results through the real worker handler and the API: computed on AssessmentFinalizedV1, adopted, read, retaken.

The final `assessments` documents are inserted in the shape assessment writes them, then
exams' own AssessmentFinalizedV1 goes through the consumer runner with the exams worker's handler table.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from contracts import Envelope
from contracts.exams import AssessmentFinalizedV1
from exams.results.handlers import build_handlers
from kit.consumer import ConsumerRunner, Outcome
from kit.outbox import Outbox
from kit.testing.outbox import staged_events

School = Any
EN = {"Accept-Language": "en"}


@pytest.fixture
async def finalizer(school: School) -> Any:
    """Delivers AssessmentFinalizedV1 envelopes to the exams worker's handlers, as its consumer would."""
    world = school.world
    runner = ConsumerRunner(world.runner.settings, world.runner.client, world.db, world.runner.producer,
                            group="exams-results", topics=["exams.events"],
                            handlers=build_handlers(world.db, Outbox(world.db, "exams")), backoff_s=0.01)
    offsets = iter(range(1, 10_000))

    async def deliver(envelope: Envelope) -> Outcome:
        value = envelope.to_bytes()
        record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
            "exams.events", 0, next(offsets), 0, 0, b"k", value, None, 0, len(value), [])
        return await runner.process(record)

    return deliver


def finalized(school: School, parts: list[dict[str, Any]]) -> Envelope:
    """The event assessment publishes once an attempt's last part is finalized."""
    part = parts[0]
    event = AssessmentFinalizedV1(attempt_id=part["attempt_id"], school_id=school.school_id,
                                  student_id=part["student_id"], exam_id=part["exam_id"],
                                  finalized_by=school.staff["assessor"], finalized_at=datetime.now(UTC))
    return Envelope.wrap(event, producer="exams", subject=part["attempt_id"], school_id=school.school_id)


async def assess(school: School, parts: list[dict[str, Any]], scores: dict[str, dict[str, str]]) -> None:
    """Final assessments of the scheduled parts (part code -> criterion scores), as assessment stores them."""
    db, at = school.world.db, datetime.now(UTC)
    assignment = await db.assignments.find_one({"_id": parts[0]["assignment_id"]})
    for p in parts:
        form = {"scores": scores[p["part_id"]], "justifications": {}, "finalized_by": school.staff["assessor"],
                "finalized_role": "first", "finalized_at": at, "divergences": [], "divergence_note": None}
        await db.assessments.insert_one({
            "_id": p["id"], "school_id": school.school_id, "attempt_id": p["attempt_id"],
            "student_id": p["student_id"], "exam_id": p["exam_id"], "exam_version_id": assignment["exam_version_id"],
            "part_id": p["part_id"], "forms": {school.staff["assessor"]: {"role": "first", **form}},
            "state": "final", "final": form, "superseded_by": None})
    await db.attempts.update_one({"_id": parts[0]["attempt_id"]}, {"$set": {"assessed_at": at}})


PASS = {"p1": {"c1a": "pass", "c1b": "4"}, "p2": {"c2a": "pass", "c2b": "3"}}   # (7.7 + 5.5) / 2 = 6.6 -> 7
FAIL = {"p1": {"c1a": "pass", "c1b": "5"}, "p2": {"c2a": "fail", "c2b": "5"}}   # a knock-out in p2


async def assessed(school: School, finalizer: Any, student: Any, scores: dict[str, dict[str, str]],
                   assignment: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A student's attempt scheduled, assessed and finalized; returns its scheduled parts."""
    assignment = assignment or await school.adopted(student)
    parts = await school.schedule(assignment, starts_at=datetime.now(UTC) - timedelta(hours=1))
    await assess(school, parts, scores)
    assert (await finalizer(finalized(school, parts))).status == "handled"
    return parts


async def cell(school: School, student: Any) -> dict[str, Any]:
    r = await school.world.http.get(f"/v1/schools/{school.school_id}/overview?programme_id={school.programme_id}"
                                    f"&student_id={student.student_id}", headers=school.h("supervisor"))
    assert r.status_code == 200, r.text
    return dict(next(c for c in r.json()["rows"][0]["cells"] if c["exam_id"] == school.exam_id))


async def test_a_result_is_computed_once_adopted_by_the_board_and_only_then_seen_by_the_student(
        school: School, finalizer: Any) -> None:
    http, sid, db = school.world.http, school.school_id, school.world.db
    jan = school.students[0]
    parts = await assessed(school, finalizer, jan, PASS)
    attempt_id = parts[0]["attempt_id"]
    path = f"/v1/schools/{sid}/attempts/{attempt_id}/result"

    r = await http.get(path, headers=school.h("supervisor"))
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    assert (result["outcome"], result["grade"], result["final_grade"], result["state"]) == (
        "passed", 6.6, 7, "awaiting_adoption")
    assert [(p["part_id"], p["outcome"], p["grade"]) for p in result["parts"]] == [("p1", "passed", 7.7),
                                                                                  ("p2", "passed", 5.5)]
    assert result["core_tasks"] == [{"code": "B1-K1", "outcome": "passed", "grade": 6.6}]
    assert (result["attempt_number"], r.json()["superseded"]) == (1, [])
    [available] = [e for e in await staged_events(db, "exams.result_available") if e["subject"] == attempt_id]
    assert "grade" not in str(available["data"])
    assert (await cell(school, jan))[("state")] == "passed"

    # The student: nothing before adoption, not in the result, their list, nor their exams page.
    r = await http.get(path, headers={**jan.headers, **EN})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert "no adopted result" in r.json()["detail"]
    mine = await http.get(f"/v1/schools/{sid}/students/{jan.student_id}/results", headers=jan.headers)
    assert mine.status_code == 200 and mine.json()["exams"] == []
    my_exams = (await http.get(f"/v1/schools/{sid}/me/exams", headers=jan.headers)).json()["exams"]
    assert my_exams[0]["state"] == "fully_scheduled_started"
    other = await http.get(f"/v1/schools/{sid}/attempts/{attempt_id}/result", headers=school.students[1].headers)
    assert other.status_code == 404

    adopted = await http.post(f"/v1/schools/{sid}/results/{result['id']}/adopt", headers=school.h("board"))
    assert adopted.status_code == 200, adopted.text
    assert adopted.json()["state"] == "adopted" and adopted.json()["adopted_by"] == school.staff["board"]
    again = await http.post(f"/v1/schools/{sid}/results/{result['id']}/adopt", headers={**school.h("board"), **EN})
    assert again.status_code == 409 and "already adopted" in again.json()["detail"]
    dutch = await http.post(f"/v1/schools/{sid}/results/{result['id']}/adopt", headers=school.h("board"))
    assert "al vastgesteld" in dutch.json()["detail"]
    [event] = [e for e in await staged_events(db, "exams.result_adopted") if e["subject"] == attempt_id]
    assert event["data"]["result_id"] == result["id"] and "grade" not in str(event["data"])

    seen = await http.get(path, headers=jan.headers)
    assert seen.status_code == 200 and seen.json()["result"]["final_grade"] == 7
    mine = (await http.get(f"/v1/schools/{sid}/students/{jan.student_id}/results", headers=jan.headers)).json()
    assert [(e["counts"], e["counting_result_id"], e["outcome"]) for e in mine["exams"]] == [
        ("last", result["id"], "passed")]
    my_exams = (await http.get(f"/v1/schools/{sid}/me/exams", headers=jan.headers)).json()["exams"]
    assert my_exams[0]["state"] == "passed"


async def test_replays_and_repeats_of_the_event_make_one_result_and_one_notice(
        school: School, finalizer: Any) -> None:
    db = school.world.db
    parts = await assessed(school, finalizer, school.students[0], FAIL)
    attempt_id = parts[0]["attempt_id"]
    envelope = finalized(school, parts)
    assert (await finalizer(envelope)).status == "handled"
    assert (await finalizer(envelope)).status == "duplicate"  # the same envelope again: the inbox absorbs it
    assert (await finalizer(finalized(school, parts))).status == "handled"  # a repeat with a new event id
    assert await db.results.count_documents({"attempt_id": attempt_id}) == 1
    notices = [e for e in await staged_events(db, "exams.result_available") if e["subject"] == attempt_id]
    assert len(notices) == 1
    result = await db.results.find_one({"attempt_id": attempt_id})
    assert (result["outcome"], result["grade"], result["final_grade"]) == ("failed", 10.0, 10)
    assert (await cell(school, school.students[0]))["state"] == "failed"


async def test_a_new_final_assessment_supersedes_the_result_and_keeps_the_original(
        school: School, finalizer: Any) -> None:
    db, http, sid = school.world.db, school.world.http, school.school_id
    parts = await assessed(school, finalizer, school.students[0], FAIL)
    attempt_id = parts[0]["attempt_id"]
    first = await db.results.find_one({"attempt_id": attempt_id})
    # The board ordered a new assessment of p2 (it marks the old one superseded; assessment writes the new one).
    p2 = next(p for p in parts if p["part_id"] == "p2")
    old = await db.assessments.find_one({"_id": p2["id"]})
    await db.assessments.update_one({"_id": p2["id"]}, {"$set": {"superseded_by": "new-p2"}})
    await db.assessments.insert_one({**old, "_id": "new-p2", "final": {**old["final"], "scores": PASS["p2"]}})
    assert (await finalizer(finalized(school, parts))).status == "handled"
    r = await http.get(f"/v1/schools/{sid}/attempts/{attempt_id}/result", headers=school.h("board"))
    body = r.json()
    assert body["result"]["outcome"] == "passed" and body["result"]["supersedes"] == first["_id"]
    assert [(o["id"], o["outcome"], o["superseded_by"]) for o in body["superseded"]] == [
        (first["_id"], "failed", body["result"]["id"])]
    assert (await cell(school, school.students[0]))["state"] == "passed"


async def test_granted_exemptions_make_core_tasks_exempt(school: School, finalizer: Any) -> None:
    db, jan = school.world.db, school.students[0]
    now = datetime.now(UTC)
    await db.cases.insert_one({
        "_id": f"case_{uuid.uuid4().hex[:8]}", "school_id": school.school_id, "student_id": jan.student_id,
        "exam_id": school.exam_id, "attempt_id": None, "kind": "exemption", "state": "decided",
        "decision": {"outcome": "granted", "core_tasks": ["B1-K1"], "valid_from": now - timedelta(days=1),
                     "valid_until": now + timedelta(days=5 * 365)}})
    parts = await assessed(school, finalizer, jan, FAIL)
    result = await db.results.find_one({"attempt_id": parts[0]["attempt_id"]})
    assert (result["outcome"], result["grade"], result["exempt_core_tasks"]) == ("exempt", None, ["B1-K1"])
    assert {p["outcome"] for p in result["parts"]} == {"exempt"}


async def test_adopting_for_a_group_and_the_boards_list(school: School, finalizer: Any) -> None:
    http, sid = school.world.http, school.school_id
    for student, scores in zip(school.students, (PASS, FAIL), strict=True):
        await assessed(school, finalizer, student, scores)
    listing = await http.get(f"/v1/schools/{sid}/results?state=awaiting_adoption&group_id={school.group_id}",
                             headers=school.h("board"))
    assert listing.status_code == 200 and len(listing.json()["items"]) == 2
    # Whose result it is, so the board's page names the student it adopts for.
    assert {(r["student_name"] or "").startswith("Jan Student") and bool(r["student_code"])
            for r in listing.json()["items"]} == {True}
    adopted = await http.post(f"/v1/schools/{sid}/results/adopt-group", json={"group_id": school.group_id},
                              headers=school.h("board"))
    assert adopted.status_code == 200, adopted.text
    assert sorted(r["outcome"] for r in adopted.json()) == ["failed", "passed"]
    assert {r["state"] for r in adopted.json()} == {"adopted"}
    left = await http.get(f"/v1/schools/{sid}/results?state=awaiting_adoption", headers=school.h("board"))
    assert left.json()["items"] == []
    again = await http.post(f"/v1/schools/{sid}/results/adopt-group", json={"group_id": school.group_id},
                            headers=school.h("board"))
    assert again.json() == []
    unknown = await http.post(f"/v1/schools/{sid}/results/adopt-group", json={"group_id": "grp_none"},
                              headers=school.h("board"))
    assert unknown.status_code == 404


async def test_roles_and_schools_on_every_results_endpoint(school: School, finalizer: Any) -> None:
    http, sid, issuer = school.world.http, school.school_id, school.world.issuer
    jan = school.students[0]
    parts = await assessed(school, finalizer, jan, FAIL)
    attempt_id = parts[0]["attempt_id"]
    result = await school.world.db.results.find_one({"attempt_id": attempt_id})
    elsewhere = {"Authorization": issuer.headers(school.staff["board"], {"sch_other": ["exam_board"]})[
        "Authorization"]}
    endpoints = [("get", f"/attempts/{attempt_id}/result", None), ("get", f"/students/{jan.student_id}/results", None),
                 ("get", "/results", None), ("post", f"/results/{result['_id']}/adopt", None),
                 ("post", "/results/adopt-group", {"group_id": school.group_id}),
                 ("post", f"/attempts/{attempt_id}/retake", {}), ("get", f"/attempts/{attempt_id}/retake", None)]
    for method, path, body in endpoints:
        kwargs = {"json": body} if body is not None else {}
        r = await http.request(method.upper(), f"/v1/schools/{sid}{path}", headers=elsewhere, **kwargs)
        assert r.status_code == 403, (path, r.status_code)
        r = await http.request(method.upper(), f"/v1/schools/{sid}{path}", headers=school.h("trainer"), **kwargs)
        assert r.status_code == 403, (path, r.status_code)
        assert r.headers["content-type"] == "application/problem+json"
    adopt = f"/results/{result['_id']}/adopt"
    for who, path in (("supervisor", adopt), ("assessor", adopt), ("supervisor", "/results"),
                      ("board", f"/attempts/{attempt_id}/retake"),
                      ("assessor", f"/attempts/{attempt_id}/retake")):
        method = "GET" if path == "/results" else "POST"
        r = await http.request(method, f"/v1/schools/{sid}{path}", headers=school.h(who))
        assert r.status_code == 403, (who, path, r.status_code)
    for path in ("/results", f"/students/{jan.student_id}/results", f"/attempts/{attempt_id}/retake"):
        r = await http.get(f"/v1/schools/{sid}{path}", headers=school.students[1].headers)
        assert r.status_code in (403, 404), path
    assert (await http.post(f"/v1/schools/{sid}/results/{result['_id']}/adopt",
                            headers=jan.headers)).status_code == 403
    r = await http.get(f"/v1/schools/{sid}/results?state=bogus&limit=0", headers={**school.h("board"), **EN})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} >= {"state", "limit"}
    r = await http.post(f"/v1/schools/{sid}/results/adopt-group", json={"group_id": 5, "extra": 1},
                        headers=school.h("board"))
    assert r.status_code == 422 and r.json()["title"] == "De invoer is ongeldig"
    r = await http.post(f"/v1/schools/{sid}/attempts/{attempt_id}/retake", json={"case_id": ["x"]},
                        headers=school.h("supervisor"))
    assert r.status_code == 422
