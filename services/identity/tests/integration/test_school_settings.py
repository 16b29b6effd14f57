"""A school's settings change one field at a time: only what is sent changes, each field validated."""

from .conftest import Harness


async def test_retention_changes_only_the_record_classes_sent(identity: Harness) -> None:
    school = await identity.school_with_admin("anne@roc-midden.example")
    other = await identity.school_with_admin("bert@roc-noord.example", "ROC Noord")
    admin = await identity.token("anne@roc-midden.example")
    path = f"/v1/schools/{school}"

    videos = await identity.client.patch(path, headers=admin, json={"retention": {"videos": 2}})
    assert videos.status_code == 200, videos.text
    assert videos.json()["retention"] == {"personal_data": 10, "results": 10, "evidence": 10, "videos": 2,
                                          "audit": 10}
    results = await identity.client.patch(path, headers=admin, json={"retention": {"results": 15}})
    assert results.json()["retention"] == {"personal_data": 10, "results": 15, "evidence": 10, "videos": 2,
                                           "audit": 10}
    assert (await identity.client.get(path, headers=admin)).json()["retention"]["videos"] == 2

    for bad, field in (({"videos": 0}, "retention.videos"), ({"audit": 51}, "retention.audit"),
                       ({"evidence": None}, "retention.evidence"), ({"evidence": "lang"}, "retention.evidence"),
                       ({"photos": 3}, "retention.photos")):
        refused = await identity.client.patch(path, headers=admin, json={"retention": bad})
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    after = (await identity.client.get(path, headers=admin)).json()["retention"]
    assert after == {"personal_data": 10, "results": 15, "evidence": 10, "videos": 2, "audit": 10}

    # the wrong school's admin and a member without the admin role are refused
    other_admin = await identity.token("bert@roc-noord.example")
    assert (await identity.client.patch(path, headers=other_admin, json={"retention": {"videos": 1}})).status_code \
        == 403
    await identity.add_member(school, admin, "sanne@roc-midden.example", ["school_supervisor"])
    supervisor = await identity.token("sanne@roc-midden.example")
    assert (await identity.client.patch(path, headers=supervisor, json={"retention": {"videos": 1}})).status_code \
        == 403
    assert (await identity.client.get(f"/v1/schools/{other}", headers=other_admin)).json()["retention"]["videos"] \
        == 10
    audit = (await identity.client.get(f"{path}/audit", headers=admin,
                                       params={"action": "school_settings_changed"})).json()["items"]
    assert [a["details"]["fields"] for a in audit] == [["retention.results"], ["retention.videos"]]
