"""Concurrent edits never lose a write (If-Match, 412), POSTs honour Idempotency-Key, people changes are recorded."""

from typing import Any

from kit.testing.outbox import staged_events

School = Any


async def test_a_stale_write_gets_412_and_a_missing_version_428(school: School) -> None:
    http, sid = school.world.http, school.school_id
    [a] = await school.prepare()
    url = f"/v1/schools/{sid}/assignments/{a['id']}"
    seen = (await http.get(url, headers=school.h("supervisor"))).headers["ETag"]
    assert (await http.patch(url, json={"location": "Elders"}, headers=school.h("supervisor"))).status_code == 428
    first = await http.patch(url, json={"location": "Elders"}, headers={**school.h("supervisor"), "If-Match": seen})
    assert first.status_code == 200 and first.headers["ETag"] != seen
    second = await http.patch(url, json={"text": "Mijn versie"}, headers={**school.h("admin"), "If-Match": seen})
    assert second.status_code == 412 and second.json()["current_version"] == first.json()["version"]
    assert (await http.get(url, headers=school.h("admin"))).json()["location"] == "Elders"
    r = await http.post(f"{url}/approve", json={"confirm": True}, headers={**school.students[0].headers,
                                                                            "If-Match": seen})
    assert r.status_code == 412
    for garbage in (b"abc", "\u00b2".encode("latin-1"), b"9" * 30):  # "²" passes str.isdigit() but not int()
        r = await http.patch(url, json={"location": "X"}, headers={**school.h("supervisor"), "If-Match": garbage})
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "If-Match"


async def test_a_repeated_post_with_the_same_idempotency_key_acts_once(school: School) -> None:
    http, sid = school.world.http, school.school_id
    body = {"exam_id": school.exam_id, "student_ids": [school.students[0].student_id], "title": "t", "text": "x",
            "first_assessor_id": school.staff["assessor"], "adopter_id": school.staff["board"]}
    headers = {**school.h("supervisor"), "Idempotency-Key": "prep-1"}
    first = await http.post(f"/v1/schools/{sid}/assignments", json=body, headers=headers)
    again = await http.post(f"/v1/schools/{sid}/assignments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await staged_events(school.world.db, "exams.assignment_prepared")) == 1
    approve = f"/v1/schools/{sid}/assignments/{first.json()[0]['id']}/approve"
    student = {**school.students[0].headers, "Idempotency-Key": "sign-1"}
    assert (await http.post(approve, json={"confirm": True}, headers=student)).status_code == 200
    assert (await http.post(approve, json={"confirm": True}, headers=student)).status_code == 200
    assert len(await staged_events(school.world.db, "exams.assignment_approved")) == 1


async def test_after_adoption_only_the_admin_changes_people_and_each_change_is_recorded(school: School) -> None:
    http, sid = school.world.http, school.school_id
    a = await school.adopted()
    url = f"/v1/schools/{sid}/assignments/{a['id']}"
    change = {"first_assessor_id": school.staff["assessor2"]}
    r = await http.patch(url, json=change, headers={**school.h("supervisor"), "If-Match": f'"{a["version"]}"'})
    assert r.status_code == 409
    r = await http.patch(url, json=change, headers={**school.h("admin"), "If-Match": f'"{a["version"]}"'})
    assert r.status_code == 200
    [recorded] = r.json()["people_changes"]
    assert recorded["by"] == school.staff["admin"]
    assert (recorded["before"]["first_assessor"], recorded["after"]["first_assessor"]) == (
        school.staff["assessor"], school.staff["assessor2"])
    [event] = await staged_events(school.world.db, "exams.assignment_people_changed")
    assert event["data"]["people"]["first_assessor"] == school.staff["assessor2"]
    # the new assessor may now read the student
    assert (await http.get(url, headers=school.h("assessor2"))).status_code == 200


async def test_reschedule_and_late_cancellation_forfeit_the_attempt_and_the_next_is_attempt_2(school: School) -> None:
    from datetime import UTC, datetime, timedelta

    http, sid = school.world.http, school.school_id
    a = await school.adopted()
    soon = datetime.now(UTC) + timedelta(days=3)  # inside the 14-day deregistration period
    p1, p2 = await school.schedule(a, starts_at=soon)
    moved = await http.patch(f"/v1/schools/{sid}/schedules/{p1['id']}", headers={
        **school.h("supervisor"), "If-Match": f'"{p1["version"]}"'}, json={"location": "Zaal 2"})
    assert moved.status_code == 200 and moved.json()["location"] == "Zaal 2"
    r = await http.patch(f"/v1/schools/{sid}/schedules/{p1['id']}", headers={
        **school.h("supervisor"), "If-Match": f'"{moved.json()["version"]}"'},
        json={"ends_at": (soon - timedelta(days=1)).isoformat()})
    assert r.status_code == 422
    cancelled = await http.post(f"/v1/schools/{sid}/schedules/{p2['id']}/cancel", headers=school.h("supervisor"))
    assert cancelled.status_code == 200 and cancelled.json()["late"] is True
    attempt = await http.get(f"/v1/schools/{sid}/attempts/{p1['attempt_id']}", headers=school.h("supervisor"))
    assert attempt.json()["state"] == "forfeited" and attempt.json()["parts"] == []
    [event, _] = await staged_events(school.world.db, "exams.part_cancelled")
    assert event["data"]["attempt_forfeited"] is True
    again = await school.schedule(a)
    assert {p["attempt_number"] for p in again} == {2}
    overview = await http.get(f"/v1/schools/{sid}/overview?programme_id={school.programme_id}&"
                              f"student_id={school.students[0].student_id}", headers=school.h("supervisor"))
    assert overview.json()["rows"][0]["cells"][0]["attempt_number"] == 2
    r = await http.post(f"/v1/schools/{sid}/schedules/{p2['id']}/cancel", headers=school.h("supervisor"))
    assert r.status_code == 409


async def test_bank_assignments_marked_adopted_skip_adoption(school: School) -> None:
    http, sid = school.world.http, school.school_id
    r = await http.post(f"/v1/schools/{sid}/bank", headers=school.h("supervisor"),
                        json={"exam_id": school.exam_id, "title": "Bank", "text": "Tekst", "adopted": True})
    assert r.status_code == 403
    bank = await http.post(f"/v1/schools/{sid}/bank", headers=school.h("admin"),
                           json={"exam_id": school.exam_id, "title": "Bank", "text": "Banktekst", "adopted": True})
    assert bank.status_code == 201
    preview = await http.get(f"/v1/schools/{sid}/bank/{bank.json()['id']}", headers=school.h("supervisor"))
    assert preview.json()["text"] == "Banktekst"
    [a] = await school.prepare(source="bank", bank_assignment_id=bank.json()["id"], adopter_id=None, title=None,
                               text=None)
    assert a["text"] == "Banktekst" and a["preadopted"]
    done = await school.approve_all(a, school.students[0])
    assert done["state"] == "adopted"
    assert len(await school.schedule(done)) == 2


async def test_a_group_is_adopted_in_one_call(school: School) -> None:
    http, sid = school.world.http, school.school_id
    prepared = await school.prepare(school.students)
    for a, s in zip(prepared, school.students, strict=True):
        await school.approve_all(a, s)
    r = await http.post(f"/v1/schools/{sid}/assignments/adopt-group", json={"group_id": school.group_id},
                        headers=school.h("board"))
    assert r.status_code == 200 and {a["state"] for a in r.json()} == {"adopted"} and len(r.json()) == 2


async def test_a_new_exam_version_leaves_prepared_assignments_on_theirs(school: School, make_exam_spec: Any) -> None:
    http = school.world.http
    [a] = await school.prepare()
    r = await http.post(f"/v1/catalog/exams/{school.exam_id}/versions", headers=school.world.operator,
                        json=make_exam_spec(school.programme_id, parts=3))
    assert r.status_code == 201 and r.json()["version"] == 2
    v1 = await http.get(f"/v1/catalog/exams/{school.exam_id}?version=1", headers=school.world.operator)
    assert len(v1.json()["parts"]) == 2 and not v1.json()["current"]
    again = await http.get(f"/v1/schools/{school.school_id}/assignments/{a['id']}", headers=school.h("supervisor"))
    assert again.json()["exam_version"] == 1
