"""The four-step import: CSV in Dutch habits and .xlsx, bad rows reported, no duplicates, crash-safe commit."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from enrollment import import_commit, imports
from kit.auth import Role

from .conftest import OTHER, SCHOOL, Env

HEADER = "Studentnummer;Voornaam;Achternaam;E-mail;Geslacht;Geboortedatum;Opleiding;Klas;Praktijkbegeleider\r\n"


def csv_file(rows: list[str], encoding: str = "cp1252", header: str = HEADER) -> bytes:
    return (header + "".join(r + "\r\n" for r in rows)).encode(encoding)


async def run_steps(env: Env, content: bytes, *, invite: bool = False) -> dict:
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports?invite={str(invite).lower()}", content=content,
                            headers=env.admin)
    assert r.status_code == 201, r.text
    job = r.json()
    r = await env.http.put(f"/v1/schools/{SCHOOL}/imports/{job['id']}/mapping",
                           json={"columns": job["suggested_mapping"]}, headers=env.admin)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_semicolon_windows_1252_file_imports_good_rows_and_reports_bad_ones(env: Env) -> None:
    pid = await env.programme("25604")
    await env.user("u-sup", "begeleider@school.nl", {SCHOOL: ["school_supervisor"]})
    await env.user("u-teacher", "docent@school.nl", {SCHOOL: ["assessor"]})
    content = csv_file([
        "1001;Anouk;Jansen;anouk@student.nl;V;14-03-2006;25604;VIG3A;begeleider@school.nl",
        "1002;Daan;Bakker;daan@student.nl;jongen;2.9.2005;25604;VIG3A;",
        "1003;Zoë;Müller;zoe@student.nl;X;31 december 2005;;VIG3B;",
        "1004;Piet;Klaassen;geen-email;M;31-02-2005;99999;;docent@school.nl",
        "1001;Anouk;Dubbel;anouk2@student.nl;V;;;;",
        ";;;;;;;;",
        "1005;Sem;de Boer;sem@student.nl;?;;;;onbekend@school.nl",
    ])
    job = await run_steps(env, content, invite=True)
    assert job["format"] == "csv" and job["delimiter"] == ";" and job["encoding"] == "cp1252"
    assert job["row_count"] == 6  # the empty row is skipped, but row numbers stay those of the file
    assert set(job["mapping"].values()) >= {"student_code", "first_name", "last_name", "email", "gender",
                                            "date_of_birth", "programme", "group", "school_supervisor"}
    assert job["people"]["school_supervisor"] == {"matched": ["begeleider@school.nl", "docent@school.nl"],
                                                  "unmatched": ["onbekend@school.nl"]}
    # step 3: the file's own gender values get a suggestion; the admin maps the one left over
    assert job["value_maps"]["gender"] == {"?": None, "M": "male", "V": "female", "X": "other", "jongen": "male"}
    assert job["value_maps"]["programme"] == {"25604": pid, "99999": None}
    r = await env.http.put(f"/v1/schools/{SCHOOL}/imports/{job['id']}/values", json={"gender": {"?": "other"}},
                           headers=env.admin)
    assert r.status_code == 200, r.text
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/preview", headers=env.admin)
    assert r.json()["preview"] == {"valid": 3, "invalid": 3, "create": 3, "update": 0, "unchanged": 0}
    r = await env.http.get(f"/v1/schools/{SCHOOL}/imports/{job['id']}/rows?status=invalid", headers=env.admin)
    bad = {item["row"]: {(x["field"], x["code"]) for x in item["reasons"]} for item in r.json()["items"]}
    beyond = await env.http.get(f"/v1/schools/{SCHOOL}/imports/{job['id']}/rows?after={2**63}", headers=env.admin)
    assert beyond.status_code == 422 and beyond.json()["errors"][0]["field"] == "after"
    assert bad == {
        5: {("email", "invalid_email"), ("date_of_birth", "invalid_date"), ("programme", "unmapped_value"),
            ("school_supervisor", "not_supervisor")},
        6: {("student_code", "duplicate_code")},
        8: {("school_supervisor", "unknown_person")},
    }
    assert r.json()["items"][0]["reasons"][0]["reason"]  # a human text, Dutch by default

    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/commit", headers=env.admin)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "committed"
    assert r.json()["result"] == {"created": 3, "updated": 0, "unchanged": 0, "invalid": 3}
    students = (await env.http.get(f"/v1/schools/{SCHOOL}/students", headers=env.admin)).json()["items"]
    by_code = {s["student_code"]: s for s in students}
    assert set(by_code) == {"1001", "1002", "1003"}
    assert by_code["1001"]["date_of_birth"] == "2006-03-14" and by_code["1002"]["gender"] == "male"
    assert by_code["1003"]["last_name"] == "Müller" and by_code["1003"]["date_of_birth"] == "2005-12-31"
    assert by_code["1001"]["links"]["school_supervisor"] == ["u-sup"] and by_code["1001"]["schedulable"]
    assert by_code["1001"]["programme_ids"] == [pid]
    groups = (await env.http.get(f"/v1/schools/{SCHOOL}/groups", headers=env.admin)).json()["items"]
    assert sorted(g["name"] for g in groups) == ["VIG3A", "VIG3B"]
    created = await env.events("enrollment.student_created")
    assert len(created) == 3 and all(e["invite"] for e in created)
    assert len(await env.events("enrollment.person_linked")) == 1

    # the same file again: nothing new, nothing twice
    again = await run_steps(env, content)
    await env.http.put(f"/v1/schools/{SCHOOL}/imports/{again['id']}/values", json={"gender": {"?": "other"}},
                       headers=env.admin)
    await env.http.post(f"/v1/schools/{SCHOOL}/imports/{again['id']}/preview", headers=env.admin)
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{again['id']}/commit", headers=env.admin)
    assert r.json()["result"] == {"created": 0, "updated": 0, "unchanged": 3, "invalid": 3}
    assert await env.db.students.count_documents({}) == 3
    assert len(await env.events("enrollment.student_created")) == 3
    assert await env.db.groups.count_documents({}) == 2


async def test_an_xlsx_with_a_bom_free_mapping_and_an_update_by_student_code(env: Env) -> None:
    await env.user("u-trainer", "opleider@bedrijf.nl", {OTHER: ["workplace_trainer"]})
    wb = Workbook()
    ws = wb.active
    ws.append(["Student code", "First name", "Last name", "Email", "Praktijkopleider", "Onbekend"])
    ws.append([2001, "Lotte", "Visser", "lotte@student.nl", "opleider@bedrijf.nl", "x"])
    ws.append(["2002", "Finn", "Smit", "finn@student.nl", None, None])
    buf = io.BytesIO()
    wb.save(buf)
    job = await run_steps(env, buf.getvalue())
    assert job["format"] == "xlsx"
    assert job["mapping"] == {"0": "student_code", "1": "first_name", "2": "last_name", "3": "email",
                              "4": "workplace_trainer"}
    await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/preview", headers=env.admin)
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/commit", headers=env.admin)
    assert r.json()["result"]["created"] == 2
    # a trainer of another school is linked, and sees the student across schools
    mine = await env.http.get("/v1/me/students", headers=env.as_("u-trainer", [Role.WORKPLACE_TRAINER], OTHER))
    assert [s["student_code"] for s in mine.json()["items"]] == ["2001"]

    # a UTF-8 CSV with BOM and commas updates Lotte's name, matched on student code
    content = "\ufeffstudentnummer,voornaam,achternaam,e-mail\r\n2001,Lotte,Visser-de Wit,lotte@student.nl\r\n"
    job = await run_steps(env, content.encode("utf-8"))
    assert job["encoding"] == "utf-8-sig" and job["delimiter"] == ","
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/preview", headers=env.admin)
    assert r.json()["preview"]["update"] == 1
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/commit", headers=env.admin)
    assert r.json()["result"]["updated"] == 1
    lotte = await env.db.students.find_one({"student_code": "2001"})
    assert lotte["last_name"] == "Visser-de Wit" and lotte["trainer_ids"] == ["u-trainer"]
    assert (await env.events("enrollment.student_updated"))[-1]["last_name"] == "Visser-de Wit"


@pytest.mark.parametrize("content", [b"%PDF-1.7 not a spreadsheet", b"PK\x03\x04broken zip", b"\x00\x01\x02"])
async def test_a_file_that_is_not_csv_or_xlsx_is_refused(env: Env, content: bytes) -> None:
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports", content=content, headers=env.admin)
    assert r.status_code == 415
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]


async def test_a_file_over_the_limit_is_refused_even_without_content_length(env: Env) -> None:
    big = b"a;b\r\n" * (env.settings.max_import_bytes // 5 + 10)
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports", content=big, headers=env.admin)
    assert r.status_code == 413

    async def chunks():
        for start in range(0, len(big), 8192):
            yield big[start:start + 8192]

    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports", content=chunks(), headers=env.admin)
    assert r.status_code == 413
    assert await env.db.imports.count_documents({}) == 0


async def test_a_wrong_mapping_is_refused_naming_the_problem(env: Env) -> None:
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports", content=csv_file(["1;a;b;c@d.nl;;;;;"]),
                            headers=env.admin)
    job = r.json()
    r = await env.http.put(f"/v1/schools/{SCHOOL}/imports/{job['id']}/mapping",
                           json={"columns": {"0": "student_code", "1": "student_code", "42": "email"}},
                           headers=env.admin)
    assert r.status_code == 422
    reasons = " ".join(e["reason"] for e in r.json()["errors"])
    assert "already mapped" in reasons and "unknown column" in reasons and "'last_name' is not mapped" in reasons
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/commit", headers=env.admin)
    assert r.status_code == 409


async def stop_commit_halfway(env: Env, monkeypatch) -> dict:
    """An import of 7 rows in blocks of 2 whose commit dies in its second block."""
    monkeypatch.setattr(imports, "BLOCK_ROWS", 2)
    rows = [f"{3000 + i};Voor{i};Achter{i};s{i}@student.nl;;;;;" for i in range(7)]
    job = await run_steps(env, csv_file(rows))
    await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/preview", headers=env.admin)

    real = import_commit._commit_block
    calls = 0

    async def crash_on_second_block(*args, **kwargs):
        nonlocal calls
        calls += 1
        result = await real(*args, **kwargs)
        if calls == 2:
            raise ConnectionError("the process died mid-transaction")
        return result

    monkeypatch.setattr(import_commit, "_commit_block", crash_on_second_block)
    with pytest.raises(ConnectionError):
        await import_commit.commit(env.db, env.client, school_id=SCHOOL, job_id=job["id"], lease_s=0)
    stopped = await env.db.imports.find_one({"_id": job["id"]})
    assert stopped["status"] == "committing" and stopped["committed_blocks"] == 1
    assert await env.db.students.count_documents({}) == 2  # the second block rolled back entirely
    assert len(await env.events("enrollment.student_created")) == 2

    monkeypatch.setattr(import_commit, "_commit_block", real)
    return job


async def test_a_commit_stopped_halfway_resumes_without_duplicates(env: Env, monkeypatch) -> None:
    job = await stop_commit_halfway(env, monkeypatch)
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/commit", headers=env.admin)
    assert r.status_code == 200, r.text
    assert r.json()["result"]["created"] == 7
    assert await env.db.students.count_documents({}) == 7
    assert len(await env.events("enrollment.student_created")) == 7


async def test_the_worker_finishes_a_stopped_commit_by_itself(env: Env, monkeypatch) -> None:
    job = await stop_commit_halfway(env, monkeypatch)
    assert await import_commit.resume_stopped(env.db, env.client, lease_s=30) == 1
    done = await env.db.imports.find_one({"_id": job["id"]})
    assert done["status"] == "committed" and done["result"]["created"] == 7
    assert await env.db.students.count_documents({}) == 7
    assert len(await env.events("enrollment.student_created")) == 7
    assert await import_commit.resume_stopped(env.db, env.client, lease_s=30) == 0


async def test_an_example_file_can_be_downloaded_and_imported(env: Env) -> None:
    r = await env.http.get(f"/v1/schools/{SCHOOL}/imports/example.xlsx", headers=env.admin)
    assert r.status_code == 200
    job = await run_steps(env, r.content)
    assert len(job["mapping"]) == 13  # every field, the student's cohort and the group category included
    r = await env.http.get(f"/v1/schools/{SCHOOL}/imports/example.csv", headers=env.admin)
    assert r.content.startswith(b"\xef\xbb\xbfStudentnummer;")


async def test_importing_needs_the_school_admin_of_that_school(env: Env) -> None:
    content = csv_file(["1;a;b;c@d.nl;;;;;"])
    for headers in (env.as_("u-sup", [Role.SCHOOL_SUPERVISOR]), env.as_("u-admin", [Role.SCHOOL_ADMIN], OTHER)):
        r = await env.http.post(f"/v1/schools/{SCHOOL}/imports", content=content, headers=headers)
        assert r.status_code == 403
    job = (await env.http.post(f"/v1/schools/{SCHOOL}/imports", content=content, headers=env.admin)).json()
    for method, path in [("GET", ""), ("PUT", "/mapping"), ("GET", "/values"), ("PUT", "/values"),
                         ("POST", "/preview"), ("GET", "/rows"), ("POST", "/commit")]:
        for headers in (env.as_("u-x", [Role.EXAM_BOARD]), env.as_("u-admin", [Role.SCHOOL_ADMIN], OTHER)):
            r = await env.http.request(method, f"/v1/schools/{SCHOOL}/imports/{job['id']}{path}", json={},
                                       headers=headers)
            assert r.status_code == 403, (method, path)
    # the school's student information system (an API client with the admin role) may import
    client_headers = env.issuer.headers("sis", {SCHOOL: [Role.SCHOOL_ADMIN]}, kind="client")
    r = await env.http.post(f"/v1/schools/{SCHOOL}/imports", content=content, headers=client_headers)
    assert r.status_code == 201
