"""Logging in, tokens, lockout and one-time links, as people and attackers meet them."""

import asyncio
import base64
import json

import httpx

from kit.testing.tokens import TestIssuer

from .conftest import OPERATOR_EMAIL, OPERATOR_PASSWORD, PASSWORD, Harness


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def test_operator_creates_a_school_whose_admin_logs_in_with_their_invitation(identity: Harness) -> None:
    school_id = await identity.school_with_admin("anne@roc-midden.example")
    response = await identity.login("anne@roc-midden.example")
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] <= 900
    assert claims(body["access_token"])["sch"] == {school_id: ["school_admin"]}
    created = await identity.staged("identity.school_created")
    assert created[-1]["data"]["brin"] == "25PZ"
    me = await identity.client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["memberships"][0]["school_name"] == "ROC Midden"


async def test_unknown_accounts_and_wrong_passwords_get_the_same_answer(identity: Harness) -> None:
    await identity.school_with_admin("anne@roc-midden.example")
    wrong = await identity.login("anne@roc-midden.example", "Niet-Het-Wachtwoord-1")
    unknown = await identity.login("nobody@roc-midden.example", "Niet-Het-Wachtwoord-1")
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: {k: v for k, v in r.json().items() if k != "correlation_id"}  # noqa: E731
    assert strip(wrong) == strip(unknown)


async def test_forgot_password_answers_the_same_and_the_link_works_once(identity: Harness) -> None:
    await identity.school_with_admin("anne@roc-midden.example")
    known = await identity.client.post("/v1/auth/password-reset", json={"email": "anne@roc-midden.example"})
    unknown = await identity.client.post("/v1/auth/password-reset", json={"email": "nobody@roc-midden.example"})
    invalid = await identity.client.post("/v1/auth/password-reset", json={"email": "not an address"})
    assert known.status_code == unknown.status_code == invalid.status_code == 202
    assert known.json() == unknown.json() == invalid.json()
    assert len(await identity.staged("identity.password_reset_requested")) == 1
    token = await identity.last_link_token("identity.password_reset_requested", "anne@roc-midden.example")
    new_password = "Nieuw-Wachtwoord-Zomer-9"
    assert (
        await identity.client.post("/v1/auth/set-password", json={"token": token, "password": new_password})
    ).status_code == 204
    again = await identity.client.post("/v1/auth/set-password", json={"token": token, "password": new_password})
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "token"
    assert (await identity.login("anne@roc-midden.example")).status_code == 401
    assert (await identity.login("anne@roc-midden.example", new_password)).status_code == 200


async def test_weak_passwords_are_refused_with_the_reason(identity: Harness) -> None:
    await identity.client.post(
        "/v1/schools",
        headers=await identity.operator(),
        json={"name": "ROC", "admin_email": "anne@roc-midden.example", "admin_name": "Anne"},
    )
    token = await identity.last_link_token("identity.invitation_requested", "anne@roc-midden.example")
    for password, reason in (
        ("kort", "at least 10"),
        ("1234567890", "commonly used"),
        ("anne@roc-midden.example", "e-mail"),
    ):
        r = await identity.client.post("/v1/auth/set-password", json={"token": token, "password": password})
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "password" and reason in r.json()["errors"][0]["reason"]
    # the refused attempts did not use up the link
    ok = await identity.client.post("/v1/auth/set-password", json={"token": token, "password": PASSWORD})
    assert ok.status_code == 204


async def test_lockout_after_repeated_failures_with_a_way_back(identity: Harness) -> None:
    school_id = await identity.school_with_admin("anne@roc-midden.example")
    admin = await identity.token("anne@roc-midden.example")
    trainer = await identity.add_member(school_id, admin, "piet@bedrijf.example", ["workplace_trainer"])
    for _ in range(4):
        assert (await identity.login("piet@bedrijf.example", "Fout-Wachtwoord-123")).status_code == 401
    locked = await identity.login("piet@bedrijf.example", "Fout-Wachtwoord-123")
    assert locked.status_code == 429
    assert locked.json()["type"].endswith("account_locked") and int(locked.headers["retry-after"]) > 60
    assert "wachtwoord opnieuw in" in locked.json()["detail"]
    assert (await identity.login("piet@bedrijf.example")).status_code == 429  # even the right password
    # unknown addresses lock the same way, so a lockout reveals nothing
    for _ in range(5):
        await identity.login("ghost@bedrijf.example", "Fout-Wachtwoord-123")
    assert (await identity.login("ghost@bedrijf.example", "Fout-Wachtwoord-123")).status_code == 429
    unlocked = await identity.client.post(f"/v1/schools/{school_id}/users/{trainer['user_id']}/unlock", headers=admin)
    assert unlocked.status_code == 200
    assert (await identity.login("piet@bedrijf.example")).status_code == 200
    audit = (await identity.client.get(f"/v1/schools/{school_id}/audit", headers=admin)).json()["items"]
    assert "account_unlocked" in {a["action"] for a in audit}


async def test_too_many_failures_from_one_address_are_throttled(identity: Harness, kit_settings) -> None:
    from identity.app import create_app
    from kit.testing.service import service_client

    from .conftest import identity_settings

    settings = identity_settings(kit_settings, address_failures_per_window=5)
    async with service_client(create_app(settings)) as client:
        for n in range(5):
            await client.post("/v1/auth/login", json={"email": f"user{n}@x.example", "password": "Whatever-123"})
        r = await client.post("/v1/auth/login", json={"email": "other@x.example", "password": "Whatever-123"})
        assert r.status_code == 429 and r.json()["type"].endswith("too_many_requests")


async def test_refresh_tokens_rotate_and_reuse_revokes_the_family(identity: Harness) -> None:
    await identity.school_with_admin("anne@roc-midden.example")
    first = (await identity.login("anne@roc-midden.example")).json()
    second = await identity.client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    # an attacker replays the first refresh token: the whole family ends, the thief and the victim alike
    replay = await identity.client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    victim = await identity.client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert victim.status_code == 401
    operator = await identity.operator()
    audit = (await identity.client.get("/v1/audit", headers=operator, params={"action": "refresh_token_reuse"})).json()
    assert len(audit["items"]) == 1


async def test_logout_ends_the_session(identity: Harness) -> None:
    await identity.school_with_admin("anne@roc-midden.example")
    pair = (await identity.login("anne@roc-midden.example")).json()
    assert (
        await identity.client.post("/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 204
    r = await identity.client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 401


async def test_expired_tampered_and_foreign_tokens_are_refused(identity: Harness, tmp_path) -> None:
    await identity.school_with_admin("anne@roc-midden.example")
    token = (await identity.login("anne@roc-midden.example")).json()["access_token"]
    header, payload, signature = token.split(".")
    data = claims(token)
    data["op"] = True
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    tampered = {"Authorization": f"Bearer {header}.{forged}.{signature}"}
    assert (await identity.client.get("/v1/audit", headers=tampered)).status_code == 401
    foreign = TestIssuer(tmp_path).headers("usr_x", operator=True)
    assert (await identity.client.get("/v1/audit", headers=foreign)).status_code == 401
    from kit.auth import Principal, access_claims, sign

    key = await identity.client._transport.app.state.keys.signing_key()  # type: ignore[attr-defined]
    expired = sign(access_claims(Principal("usr_x", "user", operator=True), ttl_s=-120), key)
    r = await identity.client.get("/v1/audit", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "verlopen" in r.json()["detail"]  # Dutch by default


async def test_key_rotation_keeps_everyone_logged_in(identity: Harness) -> None:
    operator = await identity.operator()
    before = (await identity.client.get("/.well-known/jwks.json")).json()["keys"]
    rotated = await identity.client.post("/v1/signing-keys/rotate", headers=operator)
    assert rotated.status_code == 202
    await asyncio.sleep(5.1)  # past the signing-key cache
    keys = (await identity.client.get("/.well-known/jwks.json")).json()["keys"]
    assert {k["kid"] for k in before} < {k["kid"] for k in keys}
    assert all("d" not in k for k in keys)
    assert (await identity.client.get("/v1/audit", headers=operator)).status_code == 200  # old token still good
    fresh = await identity.operator()
    assert claims(fresh["Authorization"][7:])["sub"]
    header = json.loads(base64.urlsafe_b64decode(fresh["Authorization"][7:].split(".")[0] + "=="))
    assert header["kid"] == rotated.json()["kid"]


async def test_a_trainer_in_two_schools_has_one_login_for_both(identity: Harness) -> None:
    first = await identity.school_with_admin("anne@roc-midden.example", "ROC Midden")
    second = await identity.school_with_admin("bert@roc-noord.example", "ROC Noord")
    a = await identity.add_member(
        first, await identity.token("anne@roc-midden.example"), "piet@bedrijf.example", ["workplace_trainer"]
    )
    b = await identity.add_member(
        second, await identity.token("bert@roc-noord.example"), "Piet@Bedrijf.example", ["workplace_trainer"]
    )
    assert a["user_id"] == b["user_id"]
    token = (await identity.login("piet@bedrijf.example")).json()["access_token"]
    assert claims(token)["sch"] == {first: ["workplace_trainer"], second: ["workplace_trainer"]}
    assert len(await identity.staged("identity.user_created")) == 4  # operator, 2 admins, 1 trainer


async def test_read_only_view_tokens_cannot_change_anything(identity: Harness) -> None:
    school_id = await identity.school_with_admin("anne@roc-midden.example")
    admin = await identity.token("anne@roc-midden.example")
    await identity.client.post(
        f"/v1/schools/{school_id}/users",
        headers=admin,
        json={"email": "jan@student.example", "display_name": "Jan", "roles": ["student"], "student_code": "100200"},
    )
    await identity.db.memberships.update_one(
        {"school_id": school_id, "student_code": "100200"}, {"$set": {"student_id": "stu-1"}}
    )
    view = await identity.client.post(f"/v1/schools/{school_id}/students/stu-1/view-as", headers=admin)
    assert view.status_code == 200 and view.json()["read_only"] is True
    as_student = {"Authorization": f"Bearer {view.json()['access_token']}"}
    me = await identity.client.get("/v1/me", headers=as_student)
    assert me.status_code == 200 and me.json()["viewing_as_actor"] == claims(admin["Authorization"][7:])["sub"]
    r = await identity.client.patch("/v1/me", headers=as_student, json={"language": "en"})
    assert r.status_code == 403 and "alleen lezen" in r.json()["detail"]  # Dutch by default
    audit = (
        await identity.client.get(f"/v1/schools/{school_id}/audit", headers=admin, params={"action": "view_as_student"})
    ).json()["items"]
    assert audit[0]["target"] == "stu-1"


async def test_client_credentials_are_limited_to_their_school_and_revocable(identity: Harness) -> None:
    school_id = await identity.school_with_admin("anne@roc-midden.example")
    other = await identity.school_with_admin("bert@roc-noord.example", "ROC Noord")
    admin = await identity.token("anne@roc-midden.example")
    created = await identity.client.post(
        f"/v1/schools/{school_id}/api-clients",
        headers=admin,
        json={"name": "Studentinformatiesysteem", "roles": ["school_admin"]},
    )
    assert created.status_code == 201
    cid, secret = created.json()["client_id"], created.json()["client_secret"]
    listed = (await identity.client.get(f"/v1/schools/{school_id}/api-clients", headers=admin)).json()
    assert listed[0]["client_secret"] is None
    assert secret not in json.dumps(await identity.db.api_clients.find_one({"_id": cid}), default=str)
    token = await identity.client.post(
        "/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
    )
    assert token.status_code == 200
    client_auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert claims(token.json()["access_token"])["sch"] == {school_id: ["school_admin"]}
    assert (await identity.client.get(f"/v1/schools/{school_id}/users", headers=client_auth)).status_code == 200
    assert (await identity.client.get(f"/v1/schools/{other}/users", headers=client_auth)).status_code == 403
    basic = await identity.client.post(
        "/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=httpx.BasicAuth(cid, "wrong-secret")
    )
    assert basic.status_code == 401
    await identity.client.delete(f"/v1/schools/{school_id}/api-clients/{cid}", headers=admin)
    refused = await identity.client.post(
        "/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
    )
    assert refused.status_code == 401
    bad_roles = await identity.client.post(
        f"/v1/schools/{school_id}/api-clients", headers=admin, json={"name": "x", "roles": ["student"]}
    )
    assert bad_roles.status_code == 422 and bad_roles.json()["errors"][0]["field"] == "roles"


async def test_operator_bootstrap_is_idempotent_and_keeps_the_password(identity: Harness, kit_settings) -> None:
    from identity.app import create_app
    from kit.testing.service import service_client

    from .conftest import identity_settings

    changed = identity_settings(kit_settings, operator_password="Een-Ander-Wachtwoord-77")
    async with service_client(create_app(changed)) as client:
        r = await client.post("/v1/auth/login", json={"email": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD})
        assert r.status_code == 200
    assert await identity.db.users.count_documents({"operator": True}) == 1


def test_production_refuses_to_start_without_an_operator_password(kit_settings) -> None:
    import pytest

    from identity.app import create_app

    from .conftest import identity_settings

    with pytest.raises(RuntimeError, match="OPERATOR_PASSWORD"):
        create_app(identity_settings(kit_settings, environment="production", operator_password=None))
    with pytest.raises(RuntimeError, match="OPERATOR_PASSWORD"):
        create_app(identity_settings(kit_settings, operator_password="password12"))


async def test_the_link_opens_a_page_to_choose_a_password(identity: Harness) -> None:
    page = await identity.client.get("/set-password", params={"kind": "invitation", "token": "abc"})
    assert page.status_code == 200 and "Wachtwoord instellen" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "abc" not in page.text  # the token is read by the browser, never echoed into the page
