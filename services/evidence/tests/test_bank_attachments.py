"""Attachments of the school's assignment bank: uploaded by its editors (plain and tus), read by the school's staff."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from contracts.exams import AssignmentPreparedV1, BankAssignmentSavedV1
from evidence.settings import EvidenceSettings
from kit.auth import Role
from kit.mongo import Client
from kit.outbox import row_events

from .conftest import World
from .test_tus import TUS, metadata

TEXT = "Bankopdracht: verzorg een cliënt volgens het zorgplan.".encode()


async def saved(world: World, bank_id: str = "bnk-1", school: str | None = None) -> None:
    await world.feed(BankAssignmentSavedV1(bank_assignment_id=bank_id, school_id=school or world.school,
                                           exam_id="exm-1", version=1, saved_by="adm", saved_at=datetime.now(UTC)))


async def uploaded_events(mongo_client: Client, settings: EvidenceSettings) -> list[dict[str, object]]:
    rows = await mongo_client[settings.database].outbox.find().sort("_id", 1).to_list()
    return [json.loads(e["payload"])["data"] for row in rows for e in row_events(row)
            if e["type"] == "evidence.file_uploaded"]


async def test_admin_and_supervisor_attach_files_streamed_and_resumable(
        client: httpx.AsyncClient, world: World, mongo_client: Client, settings: EvidenceSettings) -> None:
    await saved(world)
    admin = world.headers([Role.SCHOOL_ADMIN])
    plain = await client.post(f"/v1/schools/{world.school}/bank/bnk-1/attachments?filename=opdracht.txt",
                              content=TEXT, headers=admin)
    assert plain.status_code == 201, plain.text
    assert plain.json()["kind"] == "bank_attachment" and plain.json()["bank_assignment_id"] == "bnk-1"
    assert plain.json()["retention_class"] == "exam_documentation"

    supervisor = world.headers([Role.SCHOOL_SUPERVISOR])
    body = b"%PDF-1.4 beoordelingsformulier" * 10
    created = await client.post(f"/v1/schools/{world.school}/uploads", headers={
        **supervisor, **TUS, "Upload-Length": str(len(body)),
        "Upload-Metadata": metadata(filename="formulier.pdf", bank_assignment_id="bnk-1")})
    assert created.status_code == 201, created.text
    done = await client.patch(created.headers["location"], content=body, headers={
        **supervisor, **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert done.status_code == 204, done.text
    resumable = await client.get(f"/v1/schools/{world.school}/files/{done.headers['x-file-id']}", headers=admin)
    assert resumable.json()["kind"] == "bank_attachment" and resumable.json()["bank_assignment_id"] == "bnk-1"
    assert resumable.json()["content_type"] == "application/pdf"

    # exams learns of both from evidence.file_uploaded, which names the bank assignment
    events = await uploaded_events(mongo_client, settings)
    assert [(e["file_id"], e["kind"], e["bank_assignment_id"]) for e in events] == [
        (plain.json()["id"], "bank_attachment", "bnk-1"), (done.headers["x-file-id"], "bank_attachment", "bnk-1")]

    # the school's staff who see the bank read them; students, trainers and other schools do not
    content = f"/v1/schools/{world.school}/files/{plain.json()['id']}/content"
    for role in (Role.ASSESSOR, Role.EXAM_BOARD, Role.SCHOOL_SUPERVISOR, Role.SCHOOL_ADMIN):
        got = await client.get(content, headers=world.headers([role]))
        assert got.status_code == 200 and got.content == TEXT, role
    for role in (Role.STUDENT, Role.WORKPLACE_TRAINER):
        assert (await client.get(content, headers=world.headers([role]))).status_code == 404, role
    assert (await client.get(content, headers=world.headers(list(Role), school="elsewhere"))).status_code == 403


async def test_unknown_entries_other_schools_and_other_roles_are_refused(client: httpx.AsyncClient, world: World,
                                                                        settings: EvidenceSettings) -> None:
    await saved(world)
    await saved(world, "bnk-other", school="school-elsewhere")
    admin = world.headers([Role.SCHOOL_ADMIN])
    base = f"/v1/schools/{world.school}/bank"
    for bank_id in ("bnk-unknown", "bnk-other"):  # never saved, or saved in another school
        refused = await client.post(f"{base}/{bank_id}/attachments?filename=a.txt", content=b"x", headers=admin)
        assert refused.status_code == 404, refused.text
        tus = await client.post(f"/v1/schools/{world.school}/uploads", headers={
            **admin, **TUS, "Upload-Length": "1",
            "Upload-Metadata": metadata(filename="a", bank_assignment_id=bank_id)})
        assert tus.status_code == 404, tus.text
    for role in (Role.STUDENT, Role.ASSESSOR, Role.EXAM_BOARD, Role.WORKPLACE_TRAINER):
        refused = await client.post(f"{base}/bnk-1/attachments?filename=a.txt", content=b"x",
                                    headers=world.headers([role]))
        assert refused.status_code == 403, role
    student_tus = await client.post(f"/v1/schools/{world.school}/uploads", headers={
        **world.headers([Role.STUDENT]), **TUS, "Upload-Length": "1",
        "Upload-Metadata": metadata(filename="a", bank_assignment_id="bnk-1")})
    assert student_tus.status_code == 403
    elsewhere = world.headers([Role.SCHOOL_ADMIN], school="school-elsewhere")
    assert (await client.post(f"{base}/bnk-1/attachments?filename=a.txt", content=b"x",
                              headers=elsewhere)).status_code == 403
    # the same limit as every upload: refused before the body is read
    too_big = await client.post(f"{base}/bnk-1/attachments?filename=a.bin", content=b"x",
                                headers={**admin, "Content-Length": str(settings.max_file_bytes + 1)})
    assert too_big.status_code == 413
    tus_too_big = await client.post(f"/v1/schools/{world.school}/uploads", headers={
        **admin, **TUS, "Upload-Length": str(settings.max_file_bytes + 1),
        "Upload-Metadata": metadata(filename="a", bank_assignment_id="bnk-1")})
    assert tus_too_big.status_code == 413


async def test_the_student_of_an_assignment_prepared_from_the_bank_reads_its_attachments(
        client: httpx.AsyncClient, world: World) -> None:
    await saved(world)
    stored = await client.post(f"/v1/schools/{world.school}/bank/bnk-1/attachments?filename=opdracht.txt",
                               content=TEXT, headers=world.headers([Role.SCHOOL_ADMIN]))
    file_id = stored.json()["id"]
    student, other = await world.student(), await world.student()
    content = f"/v1/schools/{world.school}/files/{file_id}/content"
    assert (await client.get(content, headers=student.headers)).status_code == 404
    await world.feed(AssignmentPreparedV1(assignment_id="as-1", school_id=world.school, student_id=student.student_id,
                                          exam_id="exm-1", exam_name="Examen", approver_ids=[],
                                          attachment_ids=[file_id]))
    got = await client.get(content, headers=student.headers)
    assert got.status_code == 200 and got.content == TEXT
    assert (await client.get(content, headers=other.headers)).status_code == 404
