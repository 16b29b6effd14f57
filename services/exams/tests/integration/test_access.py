"""Every endpoint refuses another school and a role it is not for; reading follows the links."""

from typing import Any

import pytest

from kit.auth import Role

School = Any
ALL = list(Role)
S = "{school}"
ROUTES: list[tuple[str, str, dict[str, Any] | None, list[Role]]] = [
    # method, path, body, roles that may NOT use it (beside another school)
    ("GET", f"/v1/schools/{S}/exams", None, []),
    ("GET", f"/v1/schools/{S}/exams/{{exam}}", None, []),
    ("PUT", f"/v1/schools/{S}/exams/{{exam}}/unavailable", {"student_ids": ["x"]},
     [r for r in ALL if r != Role.SCHOOL_ADMIN]),
    ("POST", f"/v1/schools/{S}/assignments", {"exam_id": "e", "student_ids": ["x"], "first_assessor_id": "a"},
     [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.ASSESSOR, Role.EXAM_BOARD]),
    ("GET", f"/v1/schools/{S}/assignments", None, []),
    ("GET", f"/v1/schools/{S}/assignments/{{assignment}}", None, []),
    ("PATCH", f"/v1/schools/{S}/assignments/{{assignment}}", {"text": "x"},
     [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.ASSESSOR, Role.EXAM_BOARD]),
    ("POST", f"/v1/schools/{S}/assignments/{{assignment}}/approve", {"confirm": True},
     [Role.SCHOOL_ADMIN, Role.ASSESSOR, Role.EXAM_BOARD]),
    ("POST", f"/v1/schools/{S}/assignments/{{assignment}}/adopt", None,
     [r for r in ALL if r != Role.EXAM_BOARD]),
    ("POST", f"/v1/schools/{S}/assignments/adopt-group", {"group_id": "g"}, [r for r in ALL if r != Role.EXAM_BOARD]),
    ("DELETE", f"/v1/schools/{S}/assignments/{{assignment}}", None,
     [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.ASSESSOR, Role.EXAM_BOARD]),
    ("POST", f"/v1/schools/{S}/bank", {"exam_id": "e", "title": "t", "text": "x"},
     [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.ASSESSOR, Role.EXAM_BOARD]),
    ("GET", f"/v1/schools/{S}/bank", None, [Role.STUDENT, Role.WORKPLACE_TRAINER]),
    ("GET", f"/v1/schools/{S}/bank/{{bank}}", None, [Role.STUDENT, Role.WORKPLACE_TRAINER]),
    ("PATCH", f"/v1/schools/{S}/bank/{{bank}}", {"title": "t"},
     [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.ASSESSOR, Role.EXAM_BOARD]),
    ("POST", f"/v1/schools/{S}/schedules", {"assignment_ids": ["a"], "all_parts": {}},
     [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.EXAM_BOARD]),
    ("GET", f"/v1/schools/{S}/schedules/{{schedule}}", None, []),
    ("PATCH", f"/v1/schools/{S}/schedules/{{schedule}}", {"location": "x"},
     [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.EXAM_BOARD]),
    ("POST", f"/v1/schools/{S}/schedules/{{schedule}}/cancel", None,
     [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.EXAM_BOARD]),
    ("GET", f"/v1/schools/{S}/attempts/{{attempt}}", None, []),
    ("PUT", f"/v1/schools/{S}/scheduling-settings", {"assessors_may_schedule": True},
     [r for r in ALL if r != Role.SCHOOL_ADMIN]),
    ("GET", f"/v1/schools/{S}/overview?programme_id={{programme}}", None, [Role.STUDENT, Role.WORKPLACE_TRAINER]),
    ("GET", f"/v1/schools/{S}/dashboard", None, [r for r in ALL if r != Role.ASSESSOR]),
    ("GET", f"/v1/schools/{S}/me/exams", None, [r for r in ALL if r != Role.STUDENT]),
    ("GET", f"/v1/schools/{S}/people", None, [Role.STUDENT, Role.WORKPLACE_TRAINER]),
    ("GET", f"/v1/schools/{S}/assignments/{{assignment}}/parts", None, []),
]


@pytest.fixture
async def ids(school: School) -> dict[str, str]:
    """Real ids of every kind of thing in the school, so a refusal is about access, not existence."""
    http, sid = school.world.http, school.school_id
    assignment = await school.adopted()
    [part, _] = await school.schedule(assignment)
    bank = await http.post(f"/v1/schools/{sid}/bank", headers=school.h("admin"),
                           json={"exam_id": school.exam_id, "title": "Bank", "text": "Tekst"})
    return {"school": sid, "exam": school.exam_id, "assignment": assignment["id"], "bank": bank.json()["id"],
            "schedule": part["id"], "attempt": part["attempt_id"], "programme": school.programme_id}


@pytest.mark.parametrize("method,path,body,wrong_roles", ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
async def test_another_school_and_a_wrong_role_are_refused(school: School, ids: dict[str, str], method: str,
                                                           path: str, body: Any, wrong_roles: list[Role]) -> None:
    url = path.format(**ids)
    await school.assert_refused(method, url, body, wrong_roles)


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/v1/catalog/exams", {}), ("POST", "/v1/catalog/exams/x/versions", {}),
    ("GET", "/v1/catalog/exams?programme_id=p", None), ("GET", "/v1/catalog/exams/x", None)])
async def test_the_catalog_is_the_operators(school: School, method: str, path: str, body: Any) -> None:
    headers = school.world.issuer.headers(school.staff["admin"], {school.school_id: ALL})
    r = await school.world.http.request(method, path, json=body, headers=headers)
    assert r.status_code == 403


async def test_trainer_view_is_for_workplace_trainers_only(school: School) -> None:
    r = await school.world.http.get("/v1/me/students", headers=school.h("supervisor"))
    assert r.status_code == 403


async def test_reading_follows_links_roles_and_archiving(school: School) -> None:
    from contracts.enrollment import StudentArchivedV1

    world, sid = school.world, school.school_id
    first, second = school.students
    [assignment] = await school.prepare([first])
    path = f"/v1/schools/{sid}/assignments/{assignment['id']}"
    # the other student, an unlinked supervisor and an assessor of nobody do not see it; a 404, not a hint
    for headers in (second.headers, school.h("supervisor2"), school.h("assessor2")):
        assert (await world.http.get(path, headers=headers)).status_code == 404
    for headers in (first.headers, school.h("supervisor"), school.h("trainer"), school.h("board"), school.h("admin")):
        assert (await world.http.get(path, headers=headers)).status_code == 200
    listed = await world.http.get(f"/v1/schools/{sid}/assignments", headers=second.headers)
    assert listed.json()["items"] == []
    for headers in (first.headers, school.h("supervisor"), school.h("trainer"), school.h("board")):
        listed = await world.http.get(f"/v1/schools/{sid}/assignments", headers=headers)
        assert [a["id"] for a in listed.json()["items"]] == [assignment["id"]]
    assert (await world.http.get(f"/v1/schools/{sid}/assignments", headers=school.h("supervisor2"))).json()[
        "items"] == []
    await world.feed(StudentArchivedV1(student_id=first.student_id, school_id=sid), sid)
    assert (await world.http.get(path, headers=school.h("board"))).status_code == 404
    assert (await world.http.get(path, headers=school.h("admin"))).status_code == 200
    overview = await world.http.get(f"/v1/schools/{sid}/overview?programme_id={school.programme_id}",
                                    headers=school.h("board"))
    assert [r["student_id"] for r in overview.json()["rows"]] == [second.student_id]
