"""A person who already has an account hears that they now have access to another school."""

from .conftest import Harness


async def test_an_existing_account_added_to_another_school_gets_a_notice(identity: Harness) -> None:
    midden = await identity.school_with_admin("anne@roc-midden.example", "ROC Midden")
    noord = await identity.school_with_admin("bert@roc-noord.example", "ROC Noord")
    await identity.add_member(midden, await identity.token("anne@roc-midden.example"), "piet@bedrijf.example",
                              ["workplace_trainer"])  # invited, and chose a password
    invitations = len(await identity.staged("identity.invitation_requested"))

    bert = await identity.token("bert@roc-noord.example")
    added = await identity.client.post(f"/v1/schools/{noord}/users", headers=bert,
                                       json={"email": "piet@bedrijf.example", "display_name": "Piet",
                                             "roles": ["workplace_trainer", "assessor"], "send_invitation": True})
    assert added.status_code == 201, added.text
    [notice] = [e for e in await identity.staged("identity.school_access_granted")]
    assert notice["school_id"] == noord and notice["subject"] == added.json()["user_id"]
    assert notice["data"] | {"link": None} == {
        "user_id": added.json()["user_id"], "school_id": noord, "school_name": "ROC Noord",
        "email": "piet@bedrijf.example", "display_name": "piet", "language": "nl",
        "roles": ["assessor", "workplace_trainer"], "link": None}
    assert notice["data"]["link"].startswith(identity.settings.public_url)
    # no login code: the account has a password, and a link to set one would let anyone holding it in
    assert len(await identity.staged("identity.invitation_requested")) == invitations


async def test_without_send_invitation_nobody_is_told(identity: Harness) -> None:
    midden = await identity.school_with_admin("anne@roc-midden.example", "ROC Midden")
    noord = await identity.school_with_admin("bert@roc-noord.example", "ROC Noord")
    await identity.add_member(midden, await identity.token("anne@roc-midden.example"), "piet@bedrijf.example",
                              ["workplace_trainer"])
    bert = await identity.token("bert@roc-noord.example")
    added = await identity.client.post(f"/v1/schools/{noord}/users", headers=bert,
                                       json={"email": "piet@bedrijf.example", "display_name": "Piet",
                                             "roles": ["workplace_trainer"]})
    assert added.status_code == 201
    assert await identity.staged("identity.school_access_granted") == []


async def test_a_student_enrolled_at_a_second_school_gets_a_notice_not_a_second_login_code(identity: Harness) -> None:
    from .test_handlers import deliver, student

    midden = await identity.school_with_admin("anne@roc-midden.example", "ROC Midden")
    noord = await identity.school_with_admin("bert@roc-noord.example", "ROC Noord")
    await deliver(identity, (student(midden, "1"), "stu-1"), school_id=midden)
    await identity.accept_invitation("jan@student.example")
    await deliver(identity, (student(noord, "9"), "stu-9"), school_id=noord)
    [notice] = await identity.staged("identity.school_access_granted")
    assert (notice["data"]["school_name"], notice["data"]["roles"]) == ("ROC Noord", ["student"])
    invitations = [e for e in await identity.staged("identity.invitation_requested")
                   if e["data"]["email"] == "jan@student.example"]
    assert [e["school_id"] for e in invitations] == [midden]
