"""The first half of a practical exam through the API: prepare, approve, adopt, schedule, and the events."""

from datetime import UTC, datetime, timedelta
from typing import Any

from kit.testing.outbox import staged_events

School = Any


async def test_prepare_approve_adopt_and_schedule_publish_their_facts(school: School) -> None:
    world, sid = school.world, school.school_id
    student = school.students[0]
    [assignment] = await school.prepare([student])
    assert assignment["state"] == "preparing" and assignment["pending_approvals"] == [
        "student", "school_supervisor", "workplace_trainer"]
    assert assignment["people"]["workplace_trainer"] == school.staff["trainer"]
    locked = await school.approve_all(assignment, student)
    assert locked["state"] == "locked" and len(locked["approvals"]) == 3
    adopted = await world.http.post(f"/v1/schools/{sid}/assignments/{assignment['id']}/adopt",
                                    headers=school.h("board"))
    assert adopted.status_code == 200 and adopted.json()["state"] == "adopted"
    assert adopted.headers["ETag"] == f'"{adopted.json()["version"]}"'
    parts = await school.schedule(adopted.json())
    assert [p["part_id"] for p in parts] == ["p1", "p2"] and {p["attempt_number"] for p in parts} == {1}

    types = [e["type"] for e in await staged_events(world.db)]
    assert types == ["exams.assignment_prepared", *["exams.assignment_approved"] * 3,
                     "exams.assignment_awaiting_adoption", "exams.assignment_adopted", *["exams.part_scheduled"] * 2]
    prepared = (await staged_events(world.db, "exams.assignment_prepared"))[0]["data"]
    assert set(prepared["approver_ids"]) == {student.user_id, school.staff["supervisor"], school.staff["trainer"]}
    scheduled = (await staged_events(world.db, "exams.part_scheduled"))[0]
    assert scheduled["data"]["student_id"] == student.student_id
    assert scheduled["data"]["first_assessor_id"] == school.staff["assessor"]
    assert scheduled["subject"] == scheduled["data"]["attempt_id"]


async def test_the_overview_and_the_students_own_view_follow_the_steps(school: School) -> None:
    world, sid = school.world, school.school_id
    url = f"/v1/schools/{sid}/overview?programme_id={school.programme_id}"

    async def states() -> dict[str, tuple[str, int | None]]:
        r = await world.http.get(url, headers=school.h("supervisor"))
        assert r.status_code == 200, r.text
        return {row["student_id"]: (row["cells"][0]["state"], row["cells"][0]["attempt_number"])
                for row in r.json()["rows"]}

    first, second = school.students
    assert await states() == {first.student_id: ("not_scheduled", None), second.student_id: ("not_scheduled", None)}
    assignment = await school.adopted(first)
    await school.schedule(assignment, parts=[{"part_code": "p1", "starts_at": datetime.now(UTC).isoformat()}],
                          all_parts=None)
    assert (await states())[first.student_id] == ("partly_scheduled_started", 1)
    mine = await world.http.get(f"/v1/schools/{sid}/me/exams", headers=first.headers)
    assert mine.status_code == 200
    [exam] = mine.json()["exams"]
    assert exam["state"] == "partly_scheduled_started" and exam["assignment"]["id"] == assignment["id"]
    assert [p["part_id"] for p in exam["parts"]] == ["p1"]
    later = datetime.now(UTC) + timedelta(days=40)
    await school.schedule(assignment, parts=[{"part_code": "p2", "starts_at": later.isoformat()}], all_parts=None)
    assert (await states())[first.student_id] == ("fully_scheduled_started", 1)


async def test_the_assessor_dashboard_splits_open_actions_from_planning(school: School) -> None:
    world, sid = school.world, school.school_id
    assignment = await school.adopted()
    now = datetime.now(UTC)
    await school.schedule(assignment, all_parts=None, parts=[
        {"part_code": "p1", "starts_at": (now - timedelta(hours=1)).isoformat()},
        {"part_code": "p2", "starts_at": (now + timedelta(days=3)).isoformat(), "copy_from_above": True}])
    r = await world.http.get(f"/v1/schools/{sid}/dashboard", headers=school.h("assessor"))
    assert r.status_code == 200
    assert [p["part_id"] for p in r.json()["open_actions"]] == ["p1"]
    assert [p["part_id"] for p in r.json()["planning"]] == ["p2"]
    other = await world.http.get(f"/v1/schools/{sid}/dashboard", headers=school.h("assessor2"))
    assert other.json() == {"open_actions": [], "planning": []}


async def test_a_workplace_trainer_sees_their_students_of_every_school(world: Any, school: School) -> None:
    other = await world.school(students=1)
    trainer = school.staff["trainer"]
    from contracts.enrollment import PersonLinkedV1
    from contracts.identity import MembershipGrantedV1

    await world.feed(MembershipGrantedV1(user_id=trainer, school_id=other.school_id, role="workplace_trainer",
                                         roles=["workplace_trainer"]), other.school_id)
    await world.feed(PersonLinkedV1(student_id=other.students[0].student_id, school_id=other.school_id,
                                    user_id=trainer, relation="workplace_trainer"), other.school_id)
    [assignment] = await school.prepare()
    headers = world.issuer.headers(trainer, {school.school_id: ["workplace_trainer"],
                                             other.school_id: ["workplace_trainer"]})
    r = await world.http.get("/v1/me/students", headers=headers)
    assert r.status_code == 200, r.text
    seen = {(s["school_id"], s["student_id"]) for s in r.json()}
    assert seen == {(school.school_id, s.student_id) for s in school.students} | {
        (other.school_id, other.students[0].student_id)}
    mine = next(s for s in r.json() if s["student_id"] == school.students[0].student_id)
    assert mine["assignments"][0]["id"] == assignment["id"] and mine["assignments"][0]["awaiting_my_approval"]
