"""Every illegal step through the API is refused with problem+json saying why, and nothing is half-written."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.enrollment import PersonUnlinkedV1
from kit.testing.outbox import staged_events

School = Any


def reason(r: Any) -> str:
    assert r.headers["content-type"] == "application/problem+json", r.text
    return str(r.json().get("detail", "")) + str(r.json().get("errors", ""))


async def test_illegal_approvals_and_adoptions(school: School) -> None:
    http, sid = school.world.http, school.school_id
    student = school.students[0]
    [a] = await school.prepare([student])
    base = f"/v1/schools/{sid}/assignments/{a['id']}"
    en = {"Accept-Language": "en"}
    r = await http.post(f"{base}/adopt", headers={**school.h("board"), **en})
    assert r.status_code == 409 and "Not everyone approved yet" in reason(r)
    assert (await http.post(f"{base}/approve", json={"confirm": True}, headers=student.headers)).status_code == 200
    r = await http.post(f"{base}/approve", json={"confirm": True}, headers={**student.headers, **en})
    assert r.status_code == 409 and "already approved" in reason(r)
    r = await http.post(f"{base}/approve", json={"confirm": True}, headers={**school.students[1].headers, **en})
    assert r.status_code == 404  # another student's assignment does not exist for them
    r = await http.post(f"{base}/approve", json={"confirm": True}, headers={**school.h("supervisor2"), **en})
    assert r.status_code == 404
    r = await http.post(f"{base}/approve", json={"confirm": False}, headers=school.h("supervisor"))
    assert r.status_code == 422 and "confirm" in reason(r)
    for who in ("supervisor", "trainer"):
        assert (await http.post(f"{base}/approve", json={"confirm": True}, headers=school.h(who))).status_code == 200
    r = await http.post(f"{base}/approve", json={"confirm": True}, headers={**school.h("trainer"), **en})
    assert r.status_code == 409 and "locked" in reason(r)
    version = (await http.get(base, headers=school.h("supervisor"))).headers["ETag"]
    r = await http.patch(base, json={"text": "Andere tekst"}, headers={**school.h("supervisor"), "If-Match": version})
    assert r.status_code == 409 and "tekst" in reason(r)
    other_board = school.world.issuer.headers("usr_other_board", {sid: ["exam_board"]})
    r = await http.post(f"{base}/adopt", headers={**other_board, **en})
    assert r.status_code in (403, 404)
    assert (await http.post(f"{base}/adopt", headers=school.h("board"))).status_code == 200
    r = await http.post(f"{base}/adopt", headers={**school.h("board"), **en})
    assert r.status_code == 409 and "already adopted" in reason(r)


async def test_an_adopter_not_named_is_refused_as_such(school: School) -> None:
    """A board member who can read the student but is not the named adopter gets 403 not_named."""
    http, sid = school.world.http, school.school_id
    [a] = await school.prepare()
    await school.approve_all(a, school.students[0])
    from contracts.identity import MembershipGrantedV1

    await school.world.feed(MembershipGrantedV1(user_id="usr_board2", school_id=sid, role="exam_board",
                                                roles=["exam_board"]), sid)
    r = await http.post(f"/v1/schools/{sid}/assignments/{a['id']}/adopt",
                        headers=school.world.issuer.headers("usr_board2", {sid: ["exam_board"]}))
    assert r.status_code == 403 and r.json()["type"].endswith("not_named")


async def test_deleted_assignments_refuse_everything_and_can_be_prepared_again(school: School) -> None:
    http, sid = school.world.http, school.school_id
    student = school.students[0]
    [a] = await school.prepare([student])
    r = await http.post(f"/v1/schools/{sid}/assignments", headers=school.h("supervisor"), json={
        "exam_id": school.exam_id, "student_ids": [student.student_id], "title": "t", "text": "x",
        "first_assessor_id": school.staff["assessor"], "adopter_id": school.staff["board"]})
    assert r.status_code == 409 and "already has an assignment" in r.json()["errors"][0]["reason"]
    deleted = await http.delete(f"/v1/schools/{sid}/assignments/{a['id']}", headers=school.h("supervisor"))
    assert deleted.status_code == 200 and deleted.json()["state"] == "deleted"
    r = await http.post(f"/v1/schools/{sid}/assignments/{a['id']}/approve", json={"confirm": True},
                        headers=student.headers)
    assert r.status_code == 409 and "verwijderd" in reason(r)
    assert len(await school.prepare([student])) == 1


async def test_deleting_after_execution_started_is_refused(school: School) -> None:
    http, sid = school.world.http, school.school_id
    a = await school.adopted()
    await school.schedule(a)
    r = await http.delete(f"/v1/schools/{sid}/assignments/{a['id']}", headers=school.h("supervisor"))
    assert r.status_code == 409 and "uitvoering" in reason(r)


async def test_scheduling_refusals(school: School) -> None:
    http, sid = school.world.http, school.school_id
    [fresh] = await school.prepare([school.students[1]])
    start = datetime.now(UTC) + timedelta(days=20)
    url = f"/v1/schools/{sid}/schedules"
    r = await http.post(url, headers=school.h("supervisor"), json={
        "assignment_ids": [fresh["id"]], "all_parts": {"starts_at": start.isoformat()}})
    assert r.status_code == 409 and "niet vastgesteld" in reason(r)
    a = await school.adopted()
    r = await http.post(url, headers=school.h("supervisor"), json={"assignment_ids": [a["id"]], "all_parts": {
        "starts_at": start.isoformat(), "ends_at": (start - timedelta(hours=1)).isoformat()}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parts.0.ends_at"
    r = await http.post(url, headers=school.h("supervisor"), json={"assignment_ids": [a["id"]], "all_parts": {
        "starts_at": start.isoformat(), "first_assessor_id": school.staff["trainer"]}})
    assert r.status_code == 422 and "not an assessor" in r.json()["errors"][0]["reason"]
    r = await http.post(url, headers=school.h("supervisor"), json={"assignment_ids": [a["id"]], "all_parts": {
        "starts_at": "2026-12-01T09:00:00"}})
    assert r.status_code == 422  # a moment without a time zone is ambiguous
    assert await staged_events(school.world.db, "exams.part_scheduled") == []
    await school.schedule(a)
    r = await http.post(url, headers=school.h("supervisor"), json={"assignment_ids": [a["id"]], "parts": [
        {"part_code": "p1", "starts_at": start.isoformat()}]})
    assert r.status_code == 409 and "verzet" in reason(r)


async def test_a_student_without_a_supervisor_gets_no_assignment_and_a_group_is_all_or_none(school: School) -> None:
    http, sid = school.world.http, school.school_id
    lonely = school.students[1]
    await school.world.feed(PersonUnlinkedV1(student_id=lonely.student_id, school_id=sid,
                                             user_id=school.staff["supervisor"], relation="school_supervisor"), sid)
    r = await http.post(f"/v1/schools/{sid}/assignments", headers=school.h("admin"), json={
        "exam_id": school.exam_id, "group_id": school.group_id, "title": "t", "text": "x",
        "first_assessor_id": school.staff["assessor"], "adopter_id": school.staff["board"]})
    assert r.status_code == 409
    assert [e["student_id"] for e in r.json()["errors"]] == [lonely.student_id]
    assert r.json()["errors"][0]["reason"] == "has no supervisor"
    listed = await http.get(f"/v1/schools/{sid}/assignments", headers=school.h("admin"))
    assert listed.json()["items"] == [] and await staged_events(school.world.db) == []


@pytest.mark.parametrize("field,user", [("first_assessor_id", "trainer"), ("adopter_id", "assessor"),
                                        ("workplace_trainer_id", "supervisor")])
async def test_people_must_hold_their_role_in_the_school(school: School, field: str, user: str) -> None:
    r = await school.world.http.post(f"/v1/schools/{school.school_id}/assignments", headers=school.h("supervisor"),
                                     json={"exam_id": school.exam_id, "student_ids": [school.students[0].student_id],
                                           "title": "t", "text": "x", "first_assessor_id": school.staff["assessor"],
                                           "adopter_id": school.staff["board"], field: school.staff[user]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


async def test_unknown_exam_and_bad_bodies(school: School) -> None:
    http, sid = school.world.http, school.school_id
    r = await http.put(f"/v1/schools/{sid}/exams/exm_nope/unavailable", headers=school.h("admin"),
                       json={"student_ids": [school.students[0].student_id]})
    assert r.status_code == 404
    r = await http.put(f"/v1/schools/{sid}/exams/{school.exam_id}/unavailable", headers=school.h("admin"),
                       json={"student_ids": ["stu_nope"]})
    assert r.status_code == 422 and "stu_nope" in reason(r)
    r = await http.post(f"/v1/schools/{sid}/assignments", headers=school.h("supervisor"), json={
        "exam_id": school.exam_id, "student_ids": "not-a-list", "first_assessor_id": 7, "extra": True})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} >= {"student_ids", "extra"}
    r = await http.post(f"/v1/schools/{sid}/assignments", headers=school.h("supervisor"), json={
        "exam_id": school.exam_id, "student_ids": [school.students[0].student_id], "title": "a\u0000b",
        "text": "x", "first_assessor_id": school.staff["assessor"], "adopter_id": school.staff["board"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "title"


async def test_an_unavailable_exam_cannot_be_prepared_and_is_hidden_from_the_student(school: School) -> None:
    http, sid = school.world.http, school.school_id
    student = school.students[0]
    r = await http.put(f"/v1/schools/{sid}/exams/{school.exam_id}/unavailable", headers=school.h("admin"),
                       json={"student_ids": [student.student_id]})
    assert r.status_code == 200
    mine = await http.get(f"/v1/schools/{sid}/me/exams", headers=student.headers)
    assert mine.json()["exams"] == []
    r = await http.post(f"/v1/schools/{sid}/assignments", headers=school.h("supervisor"), json={
        "exam_id": school.exam_id, "student_ids": [student.student_id], "title": "t", "text": "x",
        "first_assessor_id": school.staff["assessor"], "adopter_id": school.staff["board"]})
    assert r.status_code == 409 and "unavailable" in r.json()["errors"][0]["reason"]


async def test_enrollments_unavailable_marking_hides_the_exam_too(school: School) -> None:
    from contracts.enrollment import ExamUnavailableMarkedV1

    http, sid = school.world.http, school.school_id
    student = school.students[0]
    await school.world.feed(ExamUnavailableMarkedV1(exam_id=school.exam_id, school_id=sid,
                                                    student_ids=[student.student_id]), sid)
    assert (await http.get(f"/v1/schools/{sid}/me/exams", headers=student.headers)).json()["exams"] == []
    await school.world.feed(ExamUnavailableMarkedV1(exam_id=school.exam_id, school_id=sid,
                                                    student_ids=[student.student_id], unavailable=False), sid)
    [exam] = (await http.get(f"/v1/schools/{sid}/me/exams", headers=student.headers)).json()["exams"]
    assert (exam["exam_id"], exam["state"], exam["assignment"]) == (school.exam_id, "not_scheduled", None)
