"""School admins manage their people; every endpoint refuses the wrong school and the wrong role."""

import pytest

from .conftest import Harness

# Every school-scoped endpoint with the roles that may use it (school_admin unless stated).
SCHOOL_ENDPOINTS = [
    ("GET", "/v1/schools/{school}/users", None),
    ("POST", "/v1/schools/{school}/users", {"email": "x@y.example", "display_name": "X", "roles": ["assessor"]}),
    ("GET", "/v1/schools/{school}/users/{user}", None),
    ("PATCH", "/v1/schools/{school}/users/{user}", {"display_name": "Nieuw"}),
    ("POST", "/v1/schools/{school}/users/{user}/deactivate", None),
    ("POST", "/v1/schools/{school}/users/{user}/reactivate", None),
    ("PUT", "/v1/schools/{school}/users/{user}/roles/assessor", {}),
    ("DELETE", "/v1/schools/{school}/users/{user}/roles/school_supervisor", None),
    ("POST", "/v1/schools/{school}/users/{user}/unlock", None),
    ("POST", "/v1/schools/{school}/users/{user}/invitation", None),
    ("POST", "/v1/schools/{school}/api-clients", {"name": "SIS", "roles": ["school_admin"]}),
    ("GET", "/v1/schools/{school}/api-clients", None),
    ("DELETE", "/v1/schools/{school}/api-clients/cli_x", None),
    ("GET", "/v1/schools/{school}/audit", None),
    ("PATCH", "/v1/schools/{school}", {"name": "Nieuwe naam"}),
    ("POST", "/v1/schools/{school}/students/stu-1/view-as", None),  # supervisors only when linked
]
OPERATOR_ENDPOINTS = [
    ("POST", "/v1/schools", {"name": "X", "admin_email": "a@b.example", "admin_name": "A"}),
    ("GET", "/v1/audit", None),
    ("POST", "/v1/signing-keys/rotate", None),
]


@pytest.fixture
async def two_schools(identity: Harness):
    school = await identity.school_with_admin("anne@roc-midden.example")
    other = await identity.school_with_admin("bert@roc-noord.example", "ROC Noord")
    admin = await identity.token("anne@roc-midden.example")
    supervisor = await identity.add_member(school, admin, "sanne@roc-midden.example", ["school_supervisor"])
    return school, other, admin, supervisor


async def test_every_school_endpoint_refuses_other_schools_other_roles_and_strangers(
    identity: Harness, two_schools
) -> None:
    school, other, admin, supervisor = two_schools
    other_admin = await identity.token("bert@roc-noord.example")
    supervisor_token = await identity.token("sanne@roc-midden.example")
    for method, template, body in SCHOOL_ENDPOINTS:
        path = template.format(school=school, user=supervisor["user_id"])
        kwargs = {"json": body} if body is not None else {}
        wrong_school = await identity.client.request(method, path, headers=other_admin, **kwargs)
        wrong_role = await identity.client.request(method, path, headers=supervisor_token, **kwargs)
        nobody = await identity.client.request(method, path, **kwargs)
        assert (wrong_school.status_code, wrong_role.status_code, nobody.status_code) == (403, 403, 401), path
        assert wrong_school.headers["content-type"] == "application/problem+json"
    for method, path, body in OPERATOR_ENDPOINTS:
        kwargs = {"json": body} if body is not None else {}
        assert (await identity.client.request(method, path, headers=admin, **kwargs)).status_code == 403, path


async def test_schools_are_visible_to_their_members_only(identity: Harness, two_schools) -> None:
    school, other, admin, _ = two_schools
    assert (await identity.client.get(f"/v1/schools/{other}", headers=admin)).status_code == 403
    assert [s["school_id"] for s in (await identity.client.get("/v1/schools", headers=admin)).json()] == [school]
    everything = (await identity.client.get("/v1/schools", headers=await identity.operator())).json()
    assert {school, other} <= {s["school_id"] for s in everything}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "geen-adres", "display_name": "X", "roles": ["assessor"]}, "email"),
        ({"email": "x@y.example", "display_name": "X" * 201, "roles": ["assessor"]}, "display_name"),
        ({"email": "x@y.example", "display_name": "X", "roles": ["koning"]}, "roles.0"),
        ({"email": "x@y.example", "display_name": "X", "roles": []}, "roles"),
        ({"email": "x@y.example", "display_name": "X", "roles": ["student"]}, "body"),
        ({"email": "x@y.example", "display_name": "X", "roles": ["student"], "student_code": "a/b"}, "student_code"),
        ({"display_name": "X", "roles": ["assessor"]}, "email"),
    ],
)
async def test_bad_member_input_names_the_field(identity: Harness, two_schools, body, field) -> None:
    school, _, admin, _ = two_schools
    r = await identity.client.post(f"/v1/schools/{school}/users", headers=admin, json=body)
    assert r.status_code == 422
    assert field in {e["field"] for e in r.json()["errors"]}


async def test_duplicates_are_conflicts_naming_the_field(identity: Harness, two_schools) -> None:
    school, _, admin, _ = two_schools
    dup = await identity.client.post(
        f"/v1/schools/{school}/users",
        headers=admin,
        json={"email": "SANNE@roc-midden.example", "display_name": "Sanne", "roles": ["assessor"]},
    )
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "email"
    first = await identity.client.post(
        f"/v1/schools/{school}/users",
        headers=admin,
        json={"email": "jan@student.example", "display_name": "Jan", "roles": ["student"], "student_code": "100200"},
    )
    assert first.status_code == 201
    same_code = await identity.client.post(
        f"/v1/schools/{school}/users",
        headers=admin,
        json={"email": "kees@student.example", "display_name": "Kees", "roles": ["student"], "student_code": "100200"},
    )
    assert same_code.status_code == 409 and same_code.json()["errors"][0]["field"] == "student_code"
    assert await identity.db.memberships.count_documents({"school_id": school}) == 3  # nothing half-written


async def test_search_pages_through_members_by_name(identity: Harness, two_schools) -> None:
    school, _, admin, _ = two_schools
    for n in range(5):
        await identity.client.post(
            f"/v1/schools/{school}/users",
            headers=admin,
            json={
                "email": f"assessor{n}@roc-midden.example",
                "display_name": f"Beoordelaar {n}",
                "roles": ["assessor"],
            },
        )
    page = (
        await identity.client.get(f"/v1/schools/{school}/users", headers=admin, params={"role": "assessor", "limit": 3})
    ).json()
    assert [m["display_name"] for m in page["items"]] == ["Beoordelaar 0", "Beoordelaar 1", "Beoordelaar 2"]
    rest = (
        await identity.client.get(
            f"/v1/schools/{school}/users",
            headers=admin,
            params={"role": "assessor", "limit": 3, "cursor": page["next_cursor"]},
        )
    ).json()
    assert [m["display_name"] for m in rest["items"]] == ["Beoordelaar 3", "Beoordelaar 4"]
    assert rest["next_cursor"] is None
    found = (await identity.client.get(f"/v1/schools/{school}/users", headers=admin, params={"q": "SANNE"})).json()
    assert [m["email"] for m in found["items"]] == ["sanne@roc-midden.example"]
    bad = await identity.client.get(f"/v1/schools/{school}/users", headers=admin, params={"cursor": "%%%"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


async def test_deactivated_members_lose_access_and_are_never_deleted(identity: Harness, two_schools) -> None:
    school, _, admin, supervisor = two_schools
    session = (await identity.login("sanne@roc-midden.example")).json()
    r = await identity.client.post(f"/v1/schools/{school}/users/{supervisor['user_id']}/deactivate", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert (
        await identity.client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    ).status_code == 401
    fresh = (await identity.login("sanne@roc-midden.example")).json()["access_token"]
    from .test_login import claims

    assert claims(fresh)["sch"] == {}
    assert await identity.db.users.count_documents({"_id": supervisor["user_id"]}) == 1
    assert (await identity.staged("identity.user_deactivated"))[-1]["data"]["school_id"] == school
    await identity.client.post(f"/v1/schools/{school}/users/{supervisor['user_id']}/reactivate", headers=admin)
    again = (await identity.login("sanne@roc-midden.example")).json()["access_token"]
    assert claims(again)["sch"] == {school: ["school_supervisor"]}


async def test_roles_are_granted_and_revoked_but_the_last_admin_stays(identity: Harness, two_schools) -> None:
    school, _, admin, supervisor = two_schools
    uid = supervisor["user_id"]
    granted = await identity.client.put(f"/v1/schools/{school}/users/{uid}/roles/assessor", headers=admin, json={})
    assert granted.json()["roles"] == ["assessor", "school_supervisor"]
    no_code = await identity.client.put(f"/v1/schools/{school}/users/{uid}/roles/student", headers=admin, json={})
    assert no_code.status_code == 422 and no_code.json()["errors"][0]["field"] == "student_code"
    revoked = await identity.client.delete(f"/v1/schools/{school}/users/{uid}/roles/assessor", headers=admin)
    assert revoked.json()["roles"] == ["school_supervisor"]
    events = [e["data"] for e in await identity.staged("identity.membership_revoked")]
    assert events[-1] == {"user_id": uid, "school_id": school, "role": "assessor", "roles": ["school_supervisor"]}
    me = (await identity.client.get("/v1/me", headers=admin)).json()["user_id"]
    last = await identity.client.delete(f"/v1/schools/{school}/users/{me}/roles/school_admin", headers=admin)
    assert last.status_code == 409 and last.json()["errors"][0]["field"] == "roles"
    still = (await identity.client.get(f"/v1/schools/{school}/users/{me}", headers=admin)).json()
    assert still["roles"] == ["school_admin"]


async def test_people_of_other_schools_are_not_visible(identity: Harness, two_schools) -> None:
    school, other, admin, _ = two_schools
    other_admin_id = (
        await identity.client.get("/v1/me", headers=await identity.token("bert@roc-noord.example"))
    ).json()["user_id"]
    r = await identity.client.get(f"/v1/schools/{school}/users/{other_admin_id}", headers=admin)
    assert r.status_code == 404


async def test_school_settings_are_validated(identity: Harness, two_schools) -> None:
    school, _, admin, _ = two_schools
    ok = await identity.client.patch(
        f"/v1/schools/{school}",
        headers=admin,
        json={
            "terminology": {"assessor": "beoordelaar"},
            "retention": {"personal_data": 10, "results": 10, "evidence": 7, "videos": 2, "audit": 10},
        },
    )
    assert ok.status_code == 200 and ok.json()["retention"]["videos"] == 2
    bad = await identity.client.patch(
        f"/v1/schools/{school}",
        headers=admin,
        json={"retention": {"personal_data": 0, "results": 10, "evidence": 7, "videos": 2, "audit": 10}},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "retention.personal_data"
    brin = await identity.client.post(
        "/v1/schools",
        headers=await identity.operator(),
        json={"name": "X", "brin": "ABCD", "admin_email": "a@b.example", "admin_name": "A"},
    )
    assert brin.status_code == 422 and brin.json()["errors"][0]["field"] == "brin"


async def test_huge_bodies_are_refused(identity: Harness, two_schools) -> None:
    school, _, admin, _ = two_schools
    r = await identity.client.post(
        f"/v1/schools/{school}/users",
        headers={**admin, "content-type": "application/json"},
        content=b'{"email": "' + b"a" * 2_000_000 + b'"}',
    )
    assert r.status_code == 413
