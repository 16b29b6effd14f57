"""Students, links, groups, bulk actions, export and the catalog, as the people using them see it."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from kit.auth import Role

from .conftest import OTHER, SCHOOL, Env


def student(code: str = "1001", **extra) -> dict:
    return {"student_code": code, "first_name": "Anouk", "last_name": f"Jansen {code}",
            "email": f"s{code}@student.nl", **extra}


async def create(env: Env, headers=None, **body) -> dict:
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students", json=student(**body), headers=headers or env.admin)
    assert r.status_code == 201, r.text
    return r.json()


async def test_creating_a_student_asks_identity_for_an_account_and_refuses_a_second_code(env: Env) -> None:
    pid = await env.programme()
    s = await create(env, programme_ids=[pid], gender="female", date_of_birth="2006-03-14")
    assert s["programme_ids"] == [pid] and s["schedulable"] is False and s["active"] and not s["archived"]
    [event] = await env.events("enrollment.student_created")
    assert event["student_id"] == s["id"] and event["invite"] is True and event["email"] == "s1001@student.nl"
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students", json=student(), headers=env.admin)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "student_code"
    bad = {**student("1002"), "email": "no-address", "gender": "m", "programme_ids": ["nope"]}
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students", json=bad, headers=env.admin)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"email", "gender"}
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students", json=student("1003", programme_ids=["prg-x"]),
                            headers=env.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "programme_ids"


async def test_who_sees_which_student(env: Env) -> None:
    await env.user("u-sup", "sup@school.nl", {SCHOOL: ["school_supervisor"]})
    sup = env.as_("u-sup", [Role.SCHOOL_SUPERVISOR])
    mine = await create(env, headers=sup, code="2001")  # a supervisor who adds a student is linked to it
    other = await create(env, code="2002")
    assert mine["links"]["school_supervisor"] == ["u-sup"] and mine["schedulable"]

    async def codes(headers, **params) -> list[str]:
        r = await env.http.get(f"/v1/schools/{SCHOOL}/students", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [s["student_code"] for s in r.json()["items"]]

    board = env.as_("u-board", [Role.EXAM_BOARD])
    assert await codes(sup) == ["2001"]
    assert await codes(board) == ["2001", "2002"]
    assert await codes(env.as_("u-assessor", [Role.ASSESSOR])) == []
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students/{other['id']}", headers=sup)
    assert r.status_code == 404
    r = await env.http.patch(f"/v1/schools/{SCHOOL}/students/{other['id']}", json={"first_name": "X"}, headers=sup)
    assert r.status_code == 404

    # archived: hidden from everyone but the school admin
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students/{mine['id']}/archive", headers=env.admin)
    assert r.status_code == 200 and r.json()["archived"]
    assert await codes(sup) == [] and await codes(board) == ["2002"]
    assert await codes(env.admin, archived="true") == ["2001"]
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students", params={"archived": "true"}, headers=board)
    assert r.status_code == 403
    assert (await env.events("enrollment.student_archived"))[0]["student_id"] == mine["id"]
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students/{mine['id']}/restore", headers=env.admin)
    assert await codes(sup) == ["2001"]
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students/{mine['id']}/deactivate", headers=env.admin)
    assert r.json()["active"] is False and r.json()["schedulable"] is False
    assert (await env.events("enrollment.student_updated"))[-1]["active"] is False


async def test_a_student_sees_their_own_record_once_identity_links_the_account(env: Env) -> None:
    s = await create(env, code="3001")
    me = env.as_("u-stud", [Role.STUDENT])
    assert (await env.http.get(f"/v1/schools/{SCHOOL}/students/{s['id']}", headers=me)).status_code == 404
    await env.user("u-stud", "s3001@student.nl")
    from contracts import Envelope
    from contracts.identity import MembershipGrantedV1
    from enrollment.handlers import handlers
    from kit.mongo import run_in_transaction

    event = MembershipGrantedV1(user_id="u-stud", school_id=SCHOOL, role="student", roles=["student"],
                                student_code="3001", student_id=s["id"])
    envelope = Envelope.wrap(event, producer="identity", subject="u-stud", school_id=SCHOOL)
    await run_in_transaction(env.client, lambda session: handlers(env.db)[MembershipGrantedV1](
        envelope, event, session))
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students/{s['id']}", headers=me)
    assert r.status_code == 200 and r.json()["user_id"] == "u-stud"
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students", headers=me)
    assert [x["id"] for x in r.json()["items"]] == [s["id"]]


async def test_linking_people_checks_their_roles(env: Env) -> None:
    await env.user("u-sup", "sup@school.nl", {SCHOOL: ["school_supervisor"]})
    await env.user("u-ass", "ass@school.nl", {SCHOOL: ["assessor"]})
    await env.user("u-trainer", "trainer@bedrijf.nl", {OTHER: ["workplace_trainer"]})
    s = await create(env, code="4001")
    url = f"/v1/schools/{SCHOOL}/students/{s['id']}/links"
    r = await env.http.post(url, json={"relation": "school_supervisor", "user_id": "u-ass"}, headers=env.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "user_id"
    r = await env.http.post(url, json={"relation": "school_supervisor", "email": "SUP@school.nl"}, headers=env.admin)
    assert r.status_code == 200 and r.json()["schedulable"]
    r = await env.http.post(url, json={"relation": "assessor", "user_id": "u-ass"}, headers=env.admin)
    r = await env.http.post(url, json={"relation": "workplace_trainer", "user_id": "u-trainer"}, headers=env.admin)
    assert r.json()["links"] == {"school_supervisor": ["u-sup"], "assessor": ["u-ass"],
                                 "workplace_trainer": ["u-trainer"]}
    r = await env.http.post(url, json={"relation": "assessor", "user_id": "u-nobody"}, headers=env.admin)
    assert r.status_code == 422
    linked = await env.events("enrollment.person_linked")
    assert [(e["relation"], e["user_id"]) for e in linked] == [
        ("school_supervisor", "u-sup"), ("assessor", "u-ass"), ("workplace_trainer", "u-trainer")]
    # the assessor now sees the student; filter by linked person
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students", headers=env.as_("u-ass", [Role.ASSESSOR]))
    assert [x["id"] for x in r.json()["items"]] == [s["id"]]
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students", params={"linked_user_id": "u-trainer"},
                           headers=env.admin)
    assert len(r.json()["items"]) == 1
    r = await env.http.delete(f"{url}/assessor/u-ass", headers=env.admin)
    assert r.status_code == 200 and r.json()["links"]["assessor"] == []
    assert (await env.events("enrollment.person_unlinked"))[0]["user_id"] == "u-ass"
    r = await env.http.delete(f"{url}/assessor/u-ass", headers=env.admin)
    assert r.status_code == 404


async def test_groups_members_archive_and_filter(env: Env) -> None:
    ids = [(await create(env, code=str(5000 + i)))["id"] for i in range(3)]
    r = await env.http.post(f"/v1/schools/{SCHOOL}/groups", json={"name": "VIG3-2024A", "category": "klas",
                                                                   "description": "cohort 2024"}, headers=env.admin)
    assert r.status_code == 201
    group = r.json()
    r = await env.http.post(f"/v1/schools/{SCHOOL}/groups", json={"name": "vig3-2024a"}, headers=env.admin)
    assert r.status_code == 409
    r = await env.http.post(f"/v1/schools/{SCHOOL}/groups/{group['id']}/members", json={"add": ids},
                            headers=env.admin)
    assert r.json() == {"group_id": group["id"], "added": 3, "removed": 0}
    r = await env.http.post(f"/v1/schools/{SCHOOL}/groups/{group['id']}/members", json={"remove": ids[:1]},
                            headers=env.admin)
    assert r.json()["removed"] == 1
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students", params={"group_id": group["id"]}, headers=env.admin)
    assert sorted(x["id"] for x in r.json()["items"]) == sorted(ids[1:])
    r = await env.http.post(f"/v1/schools/{SCHOOL}/groups/{group['id']}/members", json={"add": ["nope"]},
                            headers=env.admin)
    assert r.status_code == 422
    r = await env.http.post(f"/v1/schools/{SCHOOL}/groups/{group['id']}/archive", headers=env.admin)
    assert r.json()["archived"] is True
    board = env.as_("u-board", [Role.EXAM_BOARD])
    assert (await env.http.get(f"/v1/schools/{SCHOOL}/groups", headers=board)).json()["items"] == []
    r = await env.http.get(f"/v1/schools/{SCHOOL}/groups", params={"archived": "true"}, headers=env.admin)
    assert [g["name"] for g in r.json()["items"]] == ["VIG3-2024A"]
    assert (await env.http.get(f"/v1/schools/{SCHOOL}/groups/{group['id']}", headers=board)).status_code == 404
    assert (await env.http.get(f"/v1/schools/{SCHOOL}/groups/{group['id']}", headers=env.admin)).status_code == 200
    changes = await env.events("enrollment.group_members_changed")
    assert [(len(c["added"]), len(c["removed"])) for c in changes] == [(3, 0), (0, 1)]
    assert (await env.events("enrollment.group_changed"))[-1]["archived"] is True


async def test_bulk_actions_on_a_selection(env: Env) -> None:
    pid = await env.programme()
    await env.user("u-sup", "sup@school.nl", {SCHOOL: ["school_supervisor"]})
    ids = [(await create(env, code=str(6000 + i)))["id"] for i in range(3)]
    group = (await env.http.post(f"/v1/schools/{SCHOOL}/groups", json={"name": "G"}, headers=env.admin)).json()
    url = f"/v1/schools/{SCHOOL}/students/bulk"
    for body in ({"action": "link_programme", "programme_id": pid},
                 {"action": "add_to_group", "group_id": group["id"]},
                 {"action": "link_person", "relation": "school_supervisor", "email": "sup@school.nl"},
                 {"action": "mark_exam_unavailable", "exam_id": "exm-9"},
                 {"action": "enable_progress_view"}):
        r = await env.http.post(url, json={"student_ids": ids, **body}, headers=env.admin)
        assert r.status_code == 200, r.text
        assert r.json()["changed"] == 3
        again = await env.http.post(url, json={"student_ids": ids, **body}, headers=env.admin)
        assert again.json()["changed"] == 0  # repeating changes nothing
    docs = await env.db.students.find({}).to_list()
    assert all(d["programme_ids"] == [pid] and d["group_ids"] == [group["id"]] and d["supervisor_ids"] == ["u-sup"]
               and d["unavailable_exam_ids"] == ["exm-9"] and d["progress_view"] for d in docs)
    assert (await env.events("enrollment.exam_unavailable_marked"))[0]["student_ids"] == ids
    assert sorted((await env.events("enrollment.progress_view_changed"))[0]["student_ids"]) == sorted(ids)
    r = await env.http.post(url, json={"student_ids": ids, "action": "link_programme"}, headers=env.admin)
    assert r.status_code == 422
    # a supervisor may act on their linked students only
    sup = env.as_("u-sup", [Role.SCHOOL_SUPERVISOR])
    other = await create(env, code="6999")
    r = await env.http.post(url, json={"student_ids": [*ids, other["id"]], "action": "enable_progress_view"},
                            headers=sup)
    assert r.status_code == 422 and other["id"] in r.json()["errors"][0]["reason"]


async def test_search_and_cursor_pagination(env: Env) -> None:
    for i in range(5):
        await create(env, code=f"70{i}")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await env.http.get(f"/v1/schools/{SCHOOL}/students", params=params, headers=env.admin)).json()
        seen += [s["student_code"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["700", "701", "702", "703", "704"]
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students", params={"q": "jansen 70"}, headers=env.admin)
    assert len(r.json()["items"]) == 5
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students", params={"q": "703"}, headers=env.admin)
    assert [s["student_code"] for s in r.json()["items"]] == ["703"]


async def test_the_export_keeps_formulas_as_text_reading_as_entered(env: Env) -> None:
    await create(env, code="8001")
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students", headers=env.admin,
                            json={**student("8002"), "first_name": "=HYPERLINK(\"http://x\")",
                                  "last_name": "+31 6", "email": "a@b.nl"})
    assert r.status_code == 201
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students/export.xlsx", headers=env.admin)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Studentnummer" and len(rows) == 3
    # a text cell is never run as a formula, so the name reads as entered: no apostrophe in front
    assert rows[2][1] == "=HYPERLINK(\"http://x\")" and rows[2][2] == "+31 6"
    assert sheet.cell(row=3, column=2).data_type == "s"
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students/export.xlsx", params={"q": "8001"}, headers=env.admin)
    assert len(list(load_workbook(io.BytesIO(r.content)).active.iter_rows())) == 2


async def test_the_catalog_is_the_operators_and_staff_link_to_programmes(env: Env) -> None:
    body = {"crebo": "25604", "name": "Verzorgende-IG", "level": 3, "cohort": 2024, "kind": "qualification"}
    r = await env.http.post("/v1/programmes", json=body, headers=env.admin)
    assert r.status_code == 403
    r = await env.http.post("/v1/programmes", json={**body, "level": 9}, headers=env.issuer.headers(
        "op", {}, operator=True))
    assert r.status_code == 422
    pid = await env.programme()
    await env.user("u-sup", "sup@school.nl", {SCHOOL: ["school_supervisor"]})
    await env.user("u-stud", "stud@school.nl", {SCHOOL: ["student"]})
    url = f"/v1/schools/{SCHOOL}/programmes/{pid}"
    r = await env.http.put(url, json={"staff_ids": ["u-stud"]}, headers=env.admin)
    assert r.status_code == 422
    r = await env.http.put(url, json={"staff_ids": ["u-sup"]}, headers=env.admin)
    assert r.status_code == 200 and r.json()["staff_ids"] == ["u-sup"]
    r = await env.http.get(f"/v1/schools/{SCHOOL}/programmes", headers=env.as_("u-sup", [Role.SCHOOL_SUPERVISOR]))
    assert [(p["id"], p["staff_ids"]) for p in r.json()["items"]] == [(pid, ["u-sup"])]
    assert (await env.http.get(f"/v1/schools/{OTHER}/programmes", headers=env.admin)).status_code == 403
    assert (await env.events("enrollment.programme_published"))[0]["crebo"] == "25604"
    assert (await env.events("enrollment.programme_enabled"))[-1]["staff_ids"] == ["u-sup"]


ENDPOINTS = [
    ("GET", "/students", None, set()),  # every role may list: each sees their own selection
    ("POST", "/students", student("9001"), {Role.EXAM_BOARD, Role.STUDENT, Role.ASSESSOR}),
    ("GET", "/students/export.xlsx", None, {Role.STUDENT, Role.WORKPLACE_TRAINER}),
    ("GET", "/students/{id}", None, set()),
    ("PATCH", "/students/{id}", {"first_name": "X"}, {Role.EXAM_BOARD, Role.STUDENT}),
    ("POST", "/students/{id}/archive", None, {Role.SCHOOL_SUPERVISOR, Role.EXAM_BOARD}),
    ("POST", "/students/{id}/restore", None, {Role.SCHOOL_SUPERVISOR}),
    ("POST", "/students/{id}/deactivate", None, {Role.SCHOOL_SUPERVISOR}),
    ("POST", "/students/{id}/activate", None, {Role.SCHOOL_SUPERVISOR}),
    ("POST", "/students/{id}/links", {"relation": "assessor", "user_id": "u"}, {Role.ASSESSOR, Role.STUDENT}),
    ("DELETE", "/students/{id}/links/assessor/u", None, {Role.ASSESSOR, Role.WORKPLACE_TRAINER}),
    ("POST", "/students/bulk", {"student_ids": ["{id}"], "action": "enable_progress_view"}, {Role.EXAM_BOARD}),
    ("POST", "/groups", {"name": "G"}, {Role.SCHOOL_SUPERVISOR}),
    ("GET", "/groups", None, {Role.STUDENT, Role.WORKPLACE_TRAINER}),
    ("GET", "/groups/{gid}", None, {Role.STUDENT}),
    ("PATCH", "/groups/{gid}", {"name": "H"}, {Role.SCHOOL_SUPERVISOR}),
    ("POST", "/groups/{gid}/archive", None, {Role.EXAM_BOARD}),
    ("POST", "/groups/{gid}/members", {"add": []}, {Role.SCHOOL_SUPERVISOR}),
    ("GET", "/programmes", None, set()),
    ("PUT", "/programmes/prg-x", {"enabled": True}, {Role.SCHOOL_SUPERVISOR}),
    ("GET", "/imports/example.csv", None, {Role.SCHOOL_SUPERVISOR}),
    ("GET", "/imports/fields", None, {Role.EXAM_BOARD}),
    ("GET", "/imports", None, {Role.SCHOOL_SUPERVISOR}),
]


@pytest.mark.parametrize(("method", "path", "body", "wrong_roles"), ENDPOINTS, ids=lambda v: str(v)[:30])
async def test_wrong_school_and_wrong_role_are_refused(env: Env, method, path, body, wrong_roles) -> None:
    s = await create(env, code="9000")
    group = (await env.http.post(f"/v1/schools/{SCHOOL}/groups", json={"name": "G0"}, headers=env.admin)).json()

    def fill(value):
        if isinstance(value, str):
            return value.replace("{id}", s["id"]).replace("{gid}", group["id"])
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    url = f"/v1/schools/{SCHOOL}{fill(path)}"
    every_role = list(Role)
    r = await env.http.request(method, url, json=fill(body), headers=env.as_("u-x", every_role, OTHER))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    for role in wrong_roles:
        r = await env.http.request(method, url, json=fill(body), headers=env.as_("u-x", [role]))
        assert r.status_code in (403, 404), (role, r.status_code, r.text)
    r = await env.http.request(method, url, json=fill(body))
    assert r.status_code == 401
