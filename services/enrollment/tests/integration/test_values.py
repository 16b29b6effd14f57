"""Every text field refuses control characters at the edge, and an e-mail address is what identity says it is."""

from __future__ import annotations

import pytest

from .conftest import SCHOOL, Env
from .test_students import create, student

BAD_TEXTS = ["An\x0ena", "Bo\x00b", "line\nbreak", "tab\there", "zero\u200bwidth"]


@pytest.mark.parametrize("bad", BAD_TEXTS, ids=repr)
@pytest.mark.parametrize("field", ["student_code", "first_name", "last_name"])
async def test_a_student_with_a_control_character_is_refused_naming_the_field(env: Env, field: str,
                                                                             bad: str) -> None:
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students", json={**student("1001"), field: bad},
                            headers=env.admin)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await env.db.students.count_documents({}) == 0


async def test_edits_groups_and_programmes_refuse_control_characters_too(env: Env) -> None:
    s = await create(env, code="2001")
    r = await env.http.patch(f"/v1/schools/{SCHOOL}/students/{s['id']}", json={"last_name": "Jan\x1bsen"},
                             headers=env.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "last_name"
    for body, field in (({"name": "VIG\x0e3"}, "name"), ({"name": "G", "category": "kl\x07as"}, "category"),
                        ({"name": "G", "description": "regel\x00"}, "description")):
        r = await env.http.post(f"/v1/schools/{SCHOOL}/groups", json=body, headers=env.admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    # a description is free text: line breaks are fine there
    r = await env.http.post(f"/v1/schools/{SCHOOL}/groups", json={"name": "G", "description": "a\nb"},
                            headers=env.admin)
    assert r.status_code == 201
    operator = env.issuer.headers("op", {}, operator=True)
    r = await env.http.post("/v1/programmes", json={"crebo": "25604", "name": "Zorg\x0b", "level": 3, "cohort": 2024},
                            headers=operator)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"


@pytest.mark.parametrize("email", ["0@0.0", "a@b", "a b@school.nl", "anna@@school.nl", "anna@school..nl"])
async def test_an_address_identity_would_refuse_is_refused_here(env: Env, email: str) -> None:
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students", json={**student("3001"), "email": email},
                            headers=env.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email", r.text
    s = await create(env, code="3002")
    r = await env.http.patch(f"/v1/schools/{SCHOOL}/students/{s['id']}", json={"email": email}, headers=env.admin)
    assert r.status_code == 422
    r = await env.http.post(f"/v1/schools/{SCHOOL}/students/{s['id']}/links",
                            json={"relation": "assessor", "email": email}, headers=env.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"
    assert len(await env.events("enrollment.student_created")) == 1  # only the good one


async def test_an_address_is_stored_in_its_normal_form(env: Env) -> None:
    s = await create(env, code="4001", email="  Anouk.Jansen@Student.NL ")
    assert s["email"] == "anouk.jansen@student.nl"
    [event] = await env.events("enrollment.student_created")
    assert event["email"] == "anouk.jansen@student.nl"
