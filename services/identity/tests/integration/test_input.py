"""Text with control characters and addresses that are not e-mail addresses are refused at the edge, by field."""

import pytest

from .conftest import Harness


@pytest.fixture
async def school_and_admin(identity: Harness):
    school = await identity.school_with_admin("anne@roc-midden.example")
    return school, await identity.token("anne@roc-midden.example")


def refused(response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


async def test_control_characters_are_refused_in_every_text_field(identity: Harness, school_and_admin) -> None:
    school, admin = school_and_admin
    operator = await identity.operator()
    member = await identity.add_member(school, admin, "sanne@roc-midden.example", ["school_supervisor"])
    users = f"/v1/schools/{school}/users"
    cases = [
        ("POST", users, admin, {"email": "an@roc.example", "display_name": "An\x0ena", "roles": ["assessor"]},
         "display_name"),
        ("PATCH", f"{users}/{member['user_id']}", admin, {"display_name": "Sanne\x00"}, "display_name"),
        ("PATCH", "/v1/me", admin, {"display_name": "Anne\u202eBeheer"}, "display_name"),
        ("POST", "/v1/schools", operator, {"name": "ROC\x1bZuid", "admin_email": "a@b.example", "admin_name": "A"},
         "name"),
        ("POST", "/v1/schools", operator, {"name": "ROC Zuid", "admin_email": "a@b.example", "admin_name": "A\nB"},
         "admin_name"),
        ("PATCH", f"/v1/schools/{school}", admin, {"contact": {"name": "Loket\x07"}}, "contact.name"),
        ("PATCH", f"/v1/schools/{school}", admin, {"terminology": {"assessor": "beoor\x0edelaar"}},
         "terminology.assessor"),
        ("POST", f"/v1/schools/{school}/api-clients", admin, {"name": "SIS\x0e", "roles": ["school_admin"]}, "name"),
        ("POST", "/v1/auth/password-reset", None, {"email": "anne@roc-midden.example\x0e"}, "email"),
    ]
    for method, path, headers, body, field in cases:
        refused(await identity.client.request(method, path, headers=headers or {}, json=body), field)
    search = await identity.client.get(users, headers=admin, params={"q": "an\x0ena"})
    refused(search, "q")
    # nothing of it was written
    assert await identity.db.users.count_documents({"email": "an@roc.example"}) == 0
    assert (await identity.client.get(f"{users}/{member['user_id']}", headers=admin)).json()["display_name"] == "sanne"


async def test_identity_accepts_exactly_the_addresses_the_contracts_accept(identity: Harness, school_and_admin) -> None:
    school, admin = school_and_admin
    operator = await identity.operator()
    users = f"/v1/schools/{school}/users"
    for address in ("0@0.0", "geen-adres", "a@b", "jan@@roc.example"):
        refused(await identity.client.post(users, headers=admin, json={
            "email": address, "display_name": "X", "roles": ["assessor"]}), "email")
        refused(await identity.client.post("/v1/schools", headers=operator, json={
            "name": "X", "admin_email": address, "admin_name": "A"}), "admin_email")
        refused(await identity.client.patch(f"/v1/schools/{school}", headers=admin, json={
            "contact": {"email": address}}), "contact.email")
        refused(await identity.client.post("/v1/auth/login", json={"email": address, "password": "x"}), "email")
    added = await identity.client.post(users, headers=admin, json={
        "email": " Jan.de.Vries@ROC-Midden.example ", "display_name": "Jan", "roles": ["assessor"]})
    assert added.status_code == 201 and added.json()["email"] == "jan.de.vries@roc-midden.example"
    staged = [e["data"]["email"] for e in await identity.staged("identity.user_created")]
    assert "jan.de.vries@roc-midden.example" in staged
