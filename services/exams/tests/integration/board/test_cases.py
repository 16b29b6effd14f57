"""Exam-board cases through the API: opening within the terms, deciding once, the effects of decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from exams.cases.models import latest_exclusion_day
from exams.cases.workdays import add_working_days, local_date
from kit.testing.outbox import staged_events

School = Any
EN = {"Accept-Language": "en"}


def why(r: Any) -> str:
    assert r.headers["content-type"] == "application/problem+json", r.text
    return str(r.json().get("detail", "")) + str(r.json().get("errors", ""))


async def test_an_objection_amends_the_result_keeping_the_original(school: School, make_assessed: Any) -> None:
    http, sid, db = school.world.http, school.school_id, school.world.db
    done = await make_assessed(school)
    student = done["student"]
    r = await http.post(f"/v1/schools/{sid}/cases", headers=student.headers, json={
        "kind": "objection", "attempt_id": done["attempt_id"], "reason": "De beoordeling van onderdeel 2 klopt niet."})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["kind"] == "objection" and case["state"] == "open" and case["student_id"] == student.student_id
    assert case["exam_id"] == school.exam_id and not case["overdue"]
    due = datetime.fromisoformat(case["deadline"])
    opened = local_date(datetime.fromisoformat(case["opened_at"]))  # not now: the school's day may turn meanwhile
    today = local_date(datetime.now(UTC))
    assert opened in (today, today - timedelta(days=1))
    assert local_date(due) == add_working_days(opened, 20, frozenset())
    assert r.headers["ETag"] == '"1"'

    path = f"/v1/schools/{sid}/cases/{case['id']}/decision"
    r = await http.post(path, headers={**school.h("board"), **EN}, json={
        "outcome": "granted", "note": "Toegekend."})
    assert r.status_code == 422 and "new_assessment, amended, refused" in why(r)
    r = await http.post(path, headers=school.h("board"), json={
        "outcome": "amended", "note": "Rekenfout in onderdeel 2 hersteld.", "result": {"outcome": "passed",
                                                                                       "grade": 6.27}})
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["state"] == "decided" and decided["decision"]["outcome"] == "amended"
    assert decided["decision"]["decided_by"] == school.staff["board"]
    assert decided["decision"]["result"] == {"outcome": "passed", "grade": 6.2, "final_grade": 6}
    new_id = decided["decision"]["result_id"]
    original = await db.results.find_one({"_id": done["result"]["_id"]})
    assert original["superseded_by"] == new_id and original["grade"] == 4.8 and original["outcome"] == "failed"
    amended = await db.results.find_one({"_id": new_id})
    assert amended["supersedes"] == original["_id"] and amended["superseded_by"] is None
    assert amended["case_id"] == case["id"] and amended["state"] == "adopted" and amended["outcome"] == "passed"

    r = await http.post(path, headers={**school.h("board"), **EN}, json={"outcome": "refused", "note": "Nee."})
    assert r.status_code == 409 and "already decided" in why(r)
    r = await http.post(path, headers=school.h("board"), json={"outcome": "refused", "note": "Nee."})
    assert r.status_code == 409 and "al besloten (amended" in why(r)  # Dutch unless asked otherwise
    assert r.json()["title"] == "Deze stap is nu niet toegestaan"
    [opened] = await staged_events(db, "exams.board_case_opened")
    [event] = await staged_events(db, "exams.board_case_decided")
    assert opened["data"]["kind"] == "objection" and opened["data"]["opened_by"] == student.user_id
    assert event["data"] | {"decided_at": None} == {
        "case_id": case["id"], "school_id": sid, "student_id": student.student_id, "kind": "objection",
        "decided_at": None, "outcome": "amended", "decided_by": school.staff["board"], "exam_id": school.exam_id,
        "attempt_id": done["attempt_id"], "result_id": new_id}
    seen = await http.get(f"/v1/schools/{sid}/cases/{case['id']}", headers=student.headers)
    assert seen.status_code == 200 and seen.json()["decision"]["outcome"] == "amended"


async def test_an_objection_can_appoint_a_new_assessor_for_a_new_assessment(school: School,
                                                                              make_assessed: Any) -> None:
    http, sid, db = school.world.http, school.school_id, school.world.db
    done = await make_assessed(school)
    r = await http.post(f"/v1/schools/{sid}/cases", headers=done["student"].headers, json={
        "kind": "objection", "attempt_id": done["attempt_id"], "reason": "Ik wil een andere examinator."})
    case = r.json()
    path = f"/v1/schools/{sid}/cases/{case['id']}/decision"
    same = {"outcome": "new_assessment", "note": "Opnieuw beoordelen.", "new_assessor_id": school.staff["assessor"]}
    r = await http.post(path, headers={**school.h("board"), **EN}, json=same)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "new_assessor_id"
    r = await http.post(path, headers={**school.h("board"), **EN}, json={**same, "new_assessor_id":
                                                                           school.staff["trainer"]})
    assert r.status_code == 422 and "not an assessor" in why(r)
    other_assessor = {"new_assessor_id": school.staff["assessor2"]}
    r = await http.post(path, headers={**school.h("board"), **EN}, json={**same, "part_ids": ["p9"], **other_assessor})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "part_ids"
    r = await http.post(path, headers=school.h("board"), json={**same, "part_ids": ["p2"],
                                                                "new_assessor_id": school.staff["assessor2"]})
    assert r.status_code == 200, r.text
    decision = r.json()["decision"]
    [new_schedule] = decision["schedule_ids"]
    old = next(p for p in done["parts"] if p["part_id"] == "p2")
    assert decision["superseded_assessment_ids"] == [old["id"]]
    assessment = await db.assessments.find_one({"_id": old["id"]})
    assert assessment["superseded_by"] == new_schedule and assessment["state"] == "final"  # scores kept
    other = await db.assessments.find_one({"_id": next(p["id"] for p in done["parts"] if p["part_id"] == "p1")})
    assert other["superseded_by"] is None
    assert (await db.schedules.find_one({"_id": old["id"]}))["state"] == "superseded"
    seen = await http.get(f"/v1/schools/{sid}/schedules/{new_schedule}", headers=school.h("assessor2"))
    assert seen.status_code == 200, seen.text
    part = seen.json()
    assert (part["part_id"], part["first_assessor_id"], part["state"]) == ("p2", school.staff["assessor2"], "scheduled")
    assert part["attempt_id"] == done["attempt_id"]
    attempt = await http.get(f"/v1/schools/{sid}/attempts/{done['attempt_id']}", headers=school.h("board"))
    assert sorted(p["id"] for p in attempt.json()["parts"]) == sorted(
        [new_schedule, next(p["id"] for p in done["parts"] if p["part_id"] == "p1")])
    scheduled = await staged_events(db, "exams.part_scheduled")
    assert scheduled[-1]["data"]["first_assessor_id"] == school.staff["assessor2"]
    assert (await db.results.find_one({"_id": done["result"]["_id"]}))["superseded_by"] is None


async def test_a_repeated_request_with_its_idempotency_key_opens_one_case(school: School, make_assessed: Any) -> None:
    http, sid = school.world.http, school.school_id
    done = await make_assessed(school)
    headers = {**done["student"].headers, "Idempotency-Key": "bezwaar-1"}
    body = {"kind": "objection", "attempt_id": done["attempt_id"], "reason": "Bezwaar tegen de beoordeling."}
    first = await http.post(f"/v1/schools/{sid}/cases", headers=headers, json=body)
    again = await http.post(f"/v1/schools/{sid}/cases", headers=headers, json=body)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert await school.world.db.cases.count_documents({"school_id": sid}) == 1


async def test_fraud_supersedes_the_result_with_fraud(school: School, make_assessed: Any) -> None:
    http, sid, db = school.world.http, school.school_id, school.world.db
    done = await make_assessed(school, grade=7.5, outcome="passed")
    student = done["student"]
    r = await http.post(f"/v1/schools/{sid}/cases", headers={**student.headers, **EN}, json={
        "kind": "fraud", "attempt_id": done["attempt_id"], "reason": "x"})
    assert r.status_code == 403 and "cannot open" in why(r)
    r = await http.post(f"/v1/schools/{sid}/cases", headers=school.h("board"), json={
        "kind": "fraud", "student_id": student.student_id, "attempt_id": done["attempt_id"],
        "reason": "Verslag grotendeels overgenomen van een medestudent."})
    assert r.status_code == 201, r.text
    case = r.json()
    r = await http.post(f"/v1/schools/{sid}/cases/{case['id']}/decision", headers=school.h("board"), json={
        "outcome": "fraud", "note": "Fraude vastgesteld na hoor en wederhoor."})
    assert r.status_code == 200, r.text
    new = await db.results.find_one({"_id": r.json()["decision"]["result_id"]})
    assert (new["outcome"], new["grade"], new["final_grade"]) == ("fraud", None, None)
    assert (await db.results.find_one({"_id": done["result"]["_id"]}))["outcome"] == "passed"


async def test_fraud_may_exclude_the_student_for_up_to_twelve_months(school: School, make_assessed: Any) -> None:
    http, sid = school.world.http, school.school_id
    done = await make_assessed(school, grade=7.5, outcome="passed")
    student, attempt_id = done["student"], done["attempt_id"]
    r = await http.post(f"/v1/schools/{sid}/cases", headers=school.h("board"), json={
        "kind": "fraud", "student_id": student.student_id, "attempt_id": attempt_id, "reason": "Spiekbriefje."})
    url = f"/v1/schools/{sid}/cases/{r.json()['id']}/decision"
    today = local_date(datetime.now(UTC))
    for until, field in ((latest_exclusion_day(today) + timedelta(days=1), "excluded_until"),
                         (today, "excluded_until")):
        r = await http.post(url, headers={**school.h("board"), **EN}, json={
            "outcome": "fraud", "note": "Fraude vastgesteld.", "excluded_until": until.isoformat()})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
        assert "twelve months" in why(r)
    r = await http.post(url, headers={**school.h("board"), **EN}, json={
        "outcome": "dismissed", "note": "x", "excluded_until": (today + timedelta(days=30)).isoformat()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "excluded_until"
    until = today + timedelta(days=90)
    r = await http.post(url, headers=school.h("board"), json={
        "outcome": "fraud", "note": "Fraude vastgesteld.", "excluded_until": until.isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["exclusion_scope"] == "exam"
    # fraud counts as a fail, but while the exclusion runs no retake is opened and nothing is scheduled
    r = await http.post(f"/v1/schools/{sid}/attempts/{attempt_id}/retake", headers={**school.h("supervisor"), **EN},
                        json={})
    assert r.status_code == 409 and f"until and including {until.isoformat()}" in why(r), r.text
    r = await http.post(f"/v1/schools/{sid}/schedules", headers=school.h("supervisor"), json={
        "assignment_ids": [done["assignment"]["id"]],
        "all_parts": {"starts_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}})
    assert r.status_code == 409 and "uitgesloten" in why(r), r.text


async def test_terms_in_working_days_with_the_schools_holidays(school: School, make_assessed: Any) -> None:
    http, sid = school.world.http, school.school_id
    late = datetime.now(UTC) - timedelta(days=40)
    done = await make_assessed(school, adopted_at=late)
    student = done["student"]
    r = await http.post(f"/v1/schools/{sid}/cases", headers={**student.headers, **EN}, json={
        "kind": "inspection", "attempt_id": done["attempt_id"], "reason": "Ik wil mijn werk inzien."})
    assert r.status_code == 409 and "15 working days" in why(r)
    # A holiday covering the weeks since the result keeps the term open.
    today = local_date(datetime.now(UTC))
    holidays = {"holidays": [{"start": (today - timedelta(days=100)).isoformat(),
                              "end": (today - timedelta(days=1)).isoformat(), "name": "Studieverlof"}]}
    r = await http.put(f"/v1/schools/{sid}/calendar", headers=school.h("admin"), json=holidays)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "holidays.0.end"  # over 92 days
    holidays["holidays"][0]["start"] = (today - timedelta(days=41)).isoformat()
    r = await http.put(f"/v1/schools/{sid}/calendar", headers=school.h("admin"), json=holidays)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.headers["ETag"] == '"1"'
    r = await http.put(f"/v1/schools/{sid}/calendar", headers={**school.h("admin"), "If-Match": '"0"'}, json=holidays)
    assert r.status_code == 412
    seen = await http.get(f"/v1/schools/{sid}/calendar", headers=student.headers)
    assert seen.json()["holidays"] == [{**holidays["holidays"][0]}] and seen.json()["version"] == 1
    r = await http.post(f"/v1/schools/{sid}/cases", headers=student.headers, json={
        "kind": "inspection", "attempt_id": done["attempt_id"], "reason": "Ik wil mijn werk inzien."})
    assert r.status_code == 201, r.text
    r = await http.post(f"/v1/schools/{sid}/cases", headers={**student.headers, **EN}, json={
        "kind": "inspection", "attempt_id": done["attempt_id"], "reason": "Nog een keer."})
    assert r.status_code == 409 and "already open" in why(r)


async def test_a_result_not_adopted_cannot_be_objected_to(school: School, make_assessed: Any) -> None:
    http, sid, db = school.world.http, school.school_id, school.world.db
    done = await make_assessed(school)
    await db.results.update_one({"_id": done["result"]["_id"]}, {"$set": {"state": "awaiting_adoption",
                                                                        "adopted_at": None}})
    r = await http.post(f"/v1/schools/{sid}/cases", headers={**done["student"].headers, **EN}, json={
        "kind": "objection", "attempt_id": done["attempt_id"], "reason": "Bezwaar."})
    assert r.status_code == 409 and "adopted result" in why(r)
