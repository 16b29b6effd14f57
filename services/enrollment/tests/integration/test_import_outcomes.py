"""What an import writes: nothing of a rejected row, exactly what the preview said, groups with a category."""

from __future__ import annotations

from .conftest import SCHOOL, Env
from .test_import import csv_file, run_steps

HEADER = "Studentnummer;Voornaam;Achternaam;E-mail;Klas;Categorie;Cohort\r\n"


async def preview_and_commit(env: Env, content: bytes) -> tuple[dict, dict]:
    job = await run_steps(env, content)
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/preview", headers=env.admin)
    assert r.status_code == 200, r.text
    preview = r.json()["preview"]
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/commit", headers=env.admin)
    assert r.status_code == 200, r.text
    return preview, r.json()["result"]


async def groups(env: Env) -> dict[str, dict]:
    r = await env.http.get(f"/v1/schools/{SCHOOL}/groups", headers=env.admin)
    return {g["name"]: g for g in r.json()["items"]}


async def test_a_group_named_only_in_a_rejected_row_is_not_created(env: Env) -> None:
    content = csv_file(["1001;Anouk;Jansen;anouk@student.nl;VIG3A;klas;2024",
                        "1002;Daan;Bakker;geen-adres;ALLEEN-FOUT;klas;2024"], header=HEADER)
    preview, result = await preview_and_commit(env, content)
    assert preview["invalid"] == 1 and result["invalid"] == 1
    assert set(await groups(env)) == {"VIG3A"}
    assert [e["name"] for e in await env.events("enrollment.group_changed")] == ["VIG3A"]
    assert await env.db.students.count_documents({}) == 1


async def test_the_preview_predicts_the_commit_exactly_on_a_second_import(env: Env) -> None:
    rows = [f"{2000 + i};Voor{i};Achter{i};s{i}@student.nl;VIG3A;klas;2024" for i in range(3)]
    first_preview, first = await preview_and_commit(env, csv_file(rows, header=HEADER))
    assert first_preview["create"] == 3 and first["created"] == 3
    # the same file again changes nothing: the preview says so, and the commit agrees
    preview, result = await preview_and_commit(env, csv_file(rows, header=HEADER))
    assert preview == {"valid": 3, "invalid": 0, "create": 0, "update": 0, "unchanged": 3}
    assert result == {"created": 0, "updated": 0, "unchanged": 3, "invalid": 0}
    # one real change, one new group membership, one untouched row
    changed = [rows[0].replace("Achter0", "Anders"), rows[1].replace("VIG3A", "VIG3A|EXTRA"), rows[2]]
    preview, result = await preview_and_commit(env, csv_file(changed, header=HEADER))
    assert preview == {"valid": 3, "invalid": 0, "create": 0, "update": 2, "unchanged": 1}
    assert result == {"created": 0, "updated": 2, "unchanged": 1, "invalid": 0}


async def test_imported_groups_get_the_category_of_the_category_column(env: Env) -> None:
    content = csv_file(["3001;Anouk;Jansen;anouk@student.nl;VIG3A;klas;2024",
                        "3002;Daan;Bakker;daan@student.nl;Excursie Berlijn;activiteit;2023"], header=HEADER)
    job = await run_steps(env, content)
    assert job["mapping"]["5"] == "group_category" and job["mapping"]["6"] == "start_year"
    await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/preview", headers=env.admin)
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/commit", headers=env.admin)
    assert r.json()["result"]["created"] == 2
    found = await groups(env)
    assert {name: g["category"] for name, g in found.items()} == {"VIG3A": "klas", "Excursie Berlijn": "activiteit"}
    assert {e["name"]: e["category"] for e in await env.events("enrollment.group_changed")} == {
        "VIG3A": "klas", "Excursie Berlijn": "activiteit"}
    # the student's own cohort (start year) came along, apart from any programme's cohort
    students = (await env.http.get(f"/v1/schools/{SCHOOL}/students", headers=env.admin)).json()["items"]
    assert {s["student_code"]: s["start_year"] for s in students} == {"3001": 2024, "3002": 2023}


async def test_a_row_with_a_control_character_or_a_bad_address_is_rejected_with_its_reason(env: Env) -> None:
    content = csv_file(["4001;An\x0ena;Jansen;anna@student.nl;;;",
                        "4002;Bo;Bakker;0@0.0;;;",
                        "4003;Cas;Smit;cas@student.nl;;;20x4",
                        "4004;Dirk;de\x07Wit;dirk@student.nl;;;"], encoding="utf-8", header=HEADER)
    preview, result = await preview_and_commit(env, content)
    assert preview["invalid"] == 4 and result == {"created": 0, "updated": 0, "unchanged": 0, "invalid": 4}
    job = (await env.http.get(f"/v1/schools/{SCHOOL}/imports", headers=env.admin)).json()["items"][0]
    r = await env.http.get(f"/v1/schools/{SCHOOL}/imports/{job['id']}/rows", params={"status": "invalid"},
                           headers={**env.admin, "Accept-Language": "en"})
    reasons = {item["row"]: [(x["field"], x["code"]) for x in item["reasons"]] for item in r.json()["items"]}
    assert reasons == {2: [("first_name", "control_character")], 3: [("email", "invalid_email")],
                       4: [("start_year", "invalid_year")], 5: [("last_name", "control_character")]}
    assert "control character" in r.json()["items"][0]["reasons"][0]["reason"]
    assert await env.db.students.count_documents({}) == 0
