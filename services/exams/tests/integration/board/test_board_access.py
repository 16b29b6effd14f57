"""Every exam-board and audit endpoint refuses another school, a role it is not for, and no token; students
see only their own cases; a case is only for a current student of the school."""

from __future__ import annotations

from typing import Any

import pytest

from kit.auth import Role

School = Any
ALL = list(Role)
S = "{school}"
NOT_BOARD_OR_STUDENT = [r for r in ALL if r not in (Role.EXAM_BOARD, Role.STUDENT)]
ROUTES: list[tuple[str, str, dict[str, Any] | None, list[Role]]] = [
    ("POST", f"/v1/schools/{S}/cases", {"kind": "exemption", "exam_id": "{exam}", "reason": "x"},
     NOT_BOARD_OR_STUDENT),
    ("GET", f"/v1/schools/{S}/cases", None, NOT_BOARD_OR_STUDENT),
    ("GET", f"/v1/schools/{S}/cases/{{case}}", None, NOT_BOARD_OR_STUDENT),
    ("POST", f"/v1/schools/{S}/cases/{{case}}/decision", {"outcome": "refused", "note": "x"},
     [r for r in ALL if r != Role.EXAM_BOARD]),
    ("GET", f"/v1/schools/{S}/calendar", None, []),
    ("PUT", f"/v1/schools/{S}/calendar", {"holidays": []}, [r for r in ALL if r != Role.SCHOOL_ADMIN]),
    ("GET", f"/v1/schools/{S}/audit/verify", None, [r for r in ALL if r not in (Role.EXAM_BOARD, Role.SCHOOL_ADMIN)]),
    ("GET", f"/v1/schools/{S}/students/{{student}}/audit", None,
     [r for r in ALL if r not in (Role.EXAM_BOARD, Role.SCHOOL_ADMIN)]),
]


@pytest.fixture
async def ids(school: School) -> dict[str, str]:
    """Real ids, so a refusal is about access, not existence."""
    student = school.students[0]
    r = await school.world.http.post(f"/v1/schools/{school.school_id}/cases", headers=student.headers,
                                     json={"kind": "exemption", "exam_id": school.exam_id, "reason": "Diploma"})
    assert r.status_code == 201, r.text
    return {"school": school.school_id, "exam": school.exam_id, "case": r.json()["id"],
            "student": student.student_id}


@pytest.mark.parametrize("method,path,body,wrong_roles", ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
async def test_another_school_and_a_wrong_role_are_refused(school: School, ids: dict[str, str], method: str,
                                                           path: str, body: Any, wrong_roles: list[Role]) -> None:
    url = path.format(**ids)
    body = {k: (v.format(**ids) if isinstance(v, str) else v) for k, v in body.items()} if body else None
    await school.assert_refused(method, url, body, wrong_roles)


async def test_students_see_and_open_only_their_own(school: School, ids: dict[str, str]) -> None:
    http, sid = school.world.http, school.school_id
    mine, theirs = school.students
    url = f"/v1/schools/{sid}/cases"
    assert (await http.get(f"{url}/{ids['case']}", headers=theirs.headers)).status_code == 404
    assert (await http.get(url, headers=theirs.headers)).json()["items"] == []
    assert [c["id"] for c in (await http.get(url, headers=mine.headers)).json()["items"]] == [ids["case"]]
    r = await http.get(url, params={"student_id": mine.student_id}, headers=theirs.headers)
    assert r.status_code == 403
    r = await http.post(url, headers={**theirs.headers, "Accept-Language": "en"}, json={
        "kind": "exemption", "exam_id": school.exam_id, "student_id": mine.student_id, "reason": "x"})
    assert r.status_code == 403 and "for themselves" in r.json()["detail"]
    assert (await http.get(f"{url}/{ids['case']}", headers=school.h("board"))).status_code == 200


async def test_a_case_is_only_for_a_current_student_of_the_school(school: School) -> None:
    http, sid = school.world.http, school.school_id
    other = await school.world.school(students=1)
    foreign = other.students[0].student_id
    r = await http.post(f"/v1/schools/{sid}/cases", headers={**school.h("board"), "Accept-Language": "en"}, json={
        "kind": "accommodation", "student_id": foreign, "reason": "Dyslexie"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "student_id"
    assert "not a (current) student of this school" in r.json()["detail"]
    r = await http.post(f"/v1/schools/{sid}/cases", headers=school.h("board"), json={
        "kind": "accommodation", "reason": "Dyslexie"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "student_id"
    assert r.json()["title"] == "De invoer is ongeldig"
    r = await http.post(f"/v1/schools/{sid}/cases", headers=school.h("board"), json={
        "kind": "extra_attempt", "student_id": school.students[0].student_id, "exam_id": other.exam_id,
        "reason": "Extra kans"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "exam_id"  # the other school's programme
    r = await http.post(f"/v1/schools/{sid}/cases", headers=school.h("board"), json={
        "kind": "burglary", "student_id": school.students[0].student_id, "reason": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = await http.post(f"/v1/schools/{sid}/cases", headers=school.h("board"), json={
        "kind": "accommodation", "student_id": school.students[0].student_id, "reason": "x" * 4001})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
