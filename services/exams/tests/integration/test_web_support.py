"""What the exam pages need beside the workflow: names, the staff directory, an assignment's parts, attachments."""

import uuid
from typing import Any

from contracts.evidence import FileUploadedV1
from contracts.identity import UserCreatedV1, UserUpdatedV1
from kit.testing.outbox import staged_events

School = Any


def uploaded(school: School, assignment_id: str, file_id: str) -> FileUploadedV1:
    return FileUploadedV1(file_id=file_id, school_id=school.school_id, kind="assignment_attachment",
                          uploaded_by=school.staff["supervisor"], assignment_id=assignment_id, filename="plan.pdf",
                          content_type="application/pdf", size=10, sha256="a" * 64)


async def test_the_directory_lists_staff_by_name_and_role_never_students(school: School) -> None:
    world, sid = school.world, school.school_id
    for handle, name in (("assessor", "Erik Examinator"), ("assessor2", "Anna Tweede"), ("board", "Eva Commissie")):
        await world.feed(UserCreatedV1(user_id=school.staff[handle], email=f"{handle}@example.org",
                                       display_name=name), None)
    await world.feed(UserUpdatedV1(user_id=school.staff["assessor"], email="e@example.org",
                                   display_name="Erik de Examinator"), None)
    r = await world.http.get(f"/v1/schools/{sid}/people?role=assessor", headers=school.h("supervisor"))
    assert r.status_code == 200, r.text
    assert [(p["display_name"], p["roles"]) for p in r.json()] == [
        ("Anna Tweede", ["assessor"]), ("Erik de Examinator", ["assessor"])]
    everyone = await world.http.get(f"/v1/schools/{sid}/people", headers=school.h("supervisor"))
    listed = {p["user_id"] for p in everyone.json()}
    assert set(school.staff.values()) <= listed
    assert not listed & {s.user_id for s in school.students}
    bad = await world.http.get(f"/v1/schools/{sid}/people?role=student", headers=school.h("supervisor"))
    assert bad.status_code == 422


async def test_an_assignment_names_its_student_people_and_signers(school: School) -> None:
    world, sid = school.world, school.school_id
    await world.feed(UserCreatedV1(user_id=school.staff["supervisor"], email="s@example.org",
                                   display_name="Sanne Begeleider"), None)
    student = school.students[0]
    [assignment] = await school.prepare([student])
    await world.http.post(f"/v1/schools/{sid}/assignments/{assignment['id']}/approve", json={"confirm": True},
                          headers=student.headers)
    r = await world.http.get(f"/v1/schools/{sid}/assignments/{assignment['id']}", headers=school.h("trainer"))
    body = r.json()
    assert body["student_name"] == "Jan Student 0" and body["student_code"] == "100000"
    assert body["student_user_id"] == student.user_id
    assert body["names"][school.staff["supervisor"]] == "Sanne Begeleider"
    assert body["names"][student.user_id] == "Jan Student 0"  # the student who signed
    listed = await world.http.get(f"/v1/schools/{sid}/assignments", headers=school.h("supervisor"))
    assert listed.json()["items"][0]["student_name"] == "Jan Student 0"


async def test_the_parts_of_an_assignment_for_its_readers_only(school: School) -> None:
    world, sid = school.world, school.school_id
    assignment = await school.adopted()
    parts = await school.schedule(assignment)
    path = f"/v1/schools/{sid}/assignments/{assignment['id']}/parts"
    r = await world.http.get(path, headers=school.h("supervisor"))
    assert r.status_code == 200 and [p["id"] for p in r.json()] == [p["id"] for p in parts]
    assert (await world.http.get(path, headers=school.students[1].headers)).status_code == 404
    assert (await world.http.get(path, headers=school.students[0].headers)).status_code == 200


async def test_an_uploaded_attachment_joins_the_assignment_and_asks_for_approval_again(school: School) -> None:
    world, sid = school.world, school.school_id
    student = school.students[0]
    [assignment] = await school.prepare([student])
    path = f"/v1/schools/{sid}/assignments/{assignment['id']}"
    await world.http.post(f"{path}/approve", json={"confirm": True}, headers=student.headers)
    file_id = f"fil_{uuid.uuid4().hex[:8]}"
    await world.feed(uploaded(school, assignment["id"], file_id), sid)
    await world.feed(uploaded(school, assignment["id"], file_id), sid)  # a replay changes nothing
    after = (await world.http.get(path, headers=school.h("supervisor"))).json()
    assert after["attachment_ids"] == [file_id] and after["version"] == assignment["version"] + 2
    assert after["approvals"] == [] and after["content_hash"] != assignment["content_hash"]
    asked = await staged_events(world.db, "exams.assignment_prepared")
    assert len(asked) == 2  # prepared, then asked again after the attachment
    locked = await school.approve_all(after, student)
    late = f"fil_{uuid.uuid4().hex[:8]}"
    await world.feed(uploaded(school, assignment["id"], late), sid)
    final = (await world.http.get(path, headers=school.h("supervisor"))).json()
    assert final["late_attachment_ids"] == [late] and final["content_hash"] == locked["content_hash"]
    assert final["state"] == "locked"
