"""Finding students regardless of accents and case, and an Excel export people can read as it is."""

from __future__ import annotations

import io
import logging

import pytest
from openpyxl import load_workbook

from enrollment.app import create_app
from enrollment.repository import prepare, refresh_search_fields
from kit.testing.service import service_client

from .conftest import SCHOOL, Env
from .test_students import create


async def codes(env: Env, q: str) -> list[str]:
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students", params={"q": q}, headers=env.admin)
    assert r.status_code == 200, r.text
    return [s["student_code"] for s in r.json()["items"]]


async def test_search_ignores_accents_and_case(env: Env) -> None:
    await create(env, code="1001", first_name="Emre", last_name="Çelik")
    await create(env, code="1002", first_name="Zoë", last_name="Müller")
    await create(env, code="1003", first_name="Celine", last_name="Dijkstra")
    assert await codes(env, "cel") == ["1001", "1003"]
    assert await codes(env, "ÇEL") == ["1001", "1003"]
    assert await codes(env, "zoe") == ["1002"]
    assert await codes(env, "MULL") == ["1002"]


async def test_students_stored_before_the_folded_search_are_found_after_a_restart(env: Env) -> None:
    await create(env, code="2001", first_name="Emre", last_name="Çelik")
    # as a student stored by the previous version: unfolded terms and no search version
    await env.db.students.update_one({"student_code": "2001"},
                                     {"$set": {"terms": ["2001", "emre", "çelik"]}, "$unset": {"search_v": ""}})
    assert await codes(env, "cel") == []
    # and the previous version's index, which served its _id-ordered pages
    await env.db.students.create_index([("school_id", 1), ("terms", 1), ("_id", 1)], name="terms")
    async with service_client(create_app(env.settings)) as http:  # the next start backfills
        r = await http.get(f"/v1/schools/{SCHOOL}/students", params={"q": "cel"}, headers=env.admin)
        assert [s["student_code"] for s in r.json()["items"]] == ["2001"]
    assert "terms" not in await env.db.students.index_information()
    await prepare(env.db)  # idempotent: a second run changes nothing
    assert (await env.db.students.find_one({"student_code": "2001"}))["terms"] == ["2001", "celik", "emre"]


async def sheet_rows(env: Env, headers: dict[str, str], **params: str) -> list[tuple]:
    r = await env.http.get(f"/v1/schools/{SCHOOL}/students/export.xlsx", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))


async def test_the_export_speaks_the_sheets_language_and_names_the_linked_people(env: Env) -> None:
    await env.user("u-sup", "sup@school.nl", {SCHOOL: ["school_supervisor"]})
    await env.user("u-ass", "ass@school.nl", {SCHOOL: ["assessor"]})
    await env.user("u-tr", "tr@bedrijf.nl", {})
    await env.db.users.update_many({}, [{"$set": {"display_name": {"$concat": ["Naam van ", "$_id"]}}}])
    pid = await env.programme("25604", 2024)
    s = await create(env, code="3001", gender="female", start_year=2023, programme_ids=[pid])
    for relation, user in (("school_supervisor", "u-sup"), ("assessor", "u-ass"), ("workplace_trainer", "u-tr")):
        r = await env.http.post(f"/v1/schools/{SCHOOL}/students/{s['id']}/links",
                                json={"relation": relation, "user_id": user}, headers=env.admin)
        assert r.status_code == 200, r.text
    dutch = await sheet_rows(env, env.admin)
    row = dict(zip(dutch[0], dutch[1], strict=True))
    assert row["Geslacht"] == "vrouw" and row["Actief"] == "ja"
    assert row["Cohort (startjaar student)"] == 2023
    assert row["Opleidingen (crebo, naam, cohort kwalificatiedossier)"] == "25604 Opleiding 25604 (cohort 2024)"
    assert (row["Praktijkbegeleiders"], row["Examinatoren"], row["Praktijkopleiders"]) == (
        "Naam van u-sup", "Naam van u-ass", "Naam van u-tr")
    english = await sheet_rows(env, {**env.admin, "Accept-Language": "en"})
    row = dict(zip(english[0], english[1], strict=True))
    assert row["Gender"] == "female" and row["Active"] == "yes" and row["Assessors"] == "Naam van u-ass"
    assert (await sheet_rows(env, env.admin, language="en"))[0][0] == "Student code"


async def test_a_stored_control_character_does_not_break_the_export_nor_reach_the_log(
        env: Env, caplog: pytest.LogCaptureFixture) -> None:
    await create(env, code="4001")
    await create(env, code="4002")
    # stored before the API refused it, or written by hand
    await env.db.students.update_one({"student_code": "4002"}, {"$set": {"first_name": "An\x0ena"}})
    # and one whose record lost a field and holds values of other shapes
    await env.db.students.update_one({"student_code": "4001"}, {"$unset": {"email": "", "group_ids": ""},
                                                                 "$set": {"gender": "onbekend", "start_year": [1]}})
    with caplog.at_level(logging.DEBUG):
        rows = await sheet_rows(env, env.admin)
    assert [r[0] for r in rows[1:]] == ["4001", "4002"]
    assert rows[2][1] == "An\ufffdna"
    assert (rows[1][3], rows[1][4], rows[1][6]) == (None, "onbekend", "[1]")
    assert "An\x0ena" not in caplog.text and "Anna" not in caplog.text and "An\ufffdna" not in caplog.text


async def test_the_backfill_walks_every_stale_student_in_batches(env: Env) -> None:
    for i, name in enumerate(["Çelik", "Öztürk", "Ünal", "Şahin", "Doğan"]):
        await create(env, code=f"500{i}", last_name=name)
    await env.db.students.update_many({}, {"$unset": {"search_v": ""}, "$set": {"terms": []}})
    assert await refresh_search_fields(env.db, batch=2) == 5
    assert await refresh_search_fields(env.db, batch=2) == 0
    assert [await codes(env, q) for q in ("cel", "oz", "un", "sa", "do")] == [
        ["5000"], ["5001"], ["5002"], ["5003"], ["5004"]]
