"""Resumable uploads (tus 1.0) on S3 multipart: resume on another instance, checksum, offsets, expiry."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from minio import Minio

from evidence.settings import EvidenceSettings
from evidence.storage import create_s3
from evidence.tus import sweep_expired
from kit.auth import Role
from kit.mongo import Client

from .conftest import MiB, Student, World, bucket_objects, open_uploads
from .test_faults import send_partially
from .test_upload import chunks

TUS = {"Tus-Resumable": "1.0.0"}
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(11 * MiB)


def metadata(**pairs: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


async def create(client: httpx.AsyncClient, world: World, student: Student, attempt: str,
                 length: int = len(VIDEO)) -> httpx.Response:
    return await client.post(f"/v1/schools/{world.school}/uploads", headers={
        **student.headers, **TUS, "Upload-Length": str(length),
        "Upload-Metadata": metadata(filename="examen video.mp4", attempt_id=attempt)})


async def patch(client: httpx.AsyncClient, location: str, student: Student, offset: int, data: Any,
                **extra: str) -> httpx.Response:
    return await client.patch(location, content=data, headers={
        **student.headers, **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
        **extra})


async def offset_of(client: httpx.AsyncClient, location: str, student: Student) -> int:
    head = await client.head(location, headers={**student.headers, **TUS})
    assert head.status_code == 200
    assert head.headers["cache-control"] == "no-store"
    return int(head.headers["upload-offset"])


async def test_discovery(client: httpx.AsyncClient, world: World, settings: EvidenceSettings) -> None:
    answer = await client.options(f"/v1/schools/{world.school}/uploads")
    assert answer.status_code == 204
    assert answer.headers["tus-version"] == "1.0.0"
    assert answer.headers["tus-extension"] == "creation,termination,checksum,expiration"
    assert answer.headers["tus-max-size"] == str(settings.max_file_bytes)


async def test_interrupted_upload_resumes_on_another_instance(
        client: httpx.AsyncClient, live: str, world: World, s3: Minio, settings: EvidenceSettings,
        mongo_client: Client) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    created = await create(client, world, student, attempt)
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert "upload-expires" in {k.lower() for k in created.headers}
    first = await patch(client, location, student, 0, VIDEO[:3 * MiB])  # below one part: kept as a tail
    assert first.status_code == 204 and first.headers["upload-offset"] == str(3 * MiB)
    db = mongo_client[settings.database]

    async def some_bytes_arrived() -> bool:
        doc = await db.uploads.find_one({})
        return doc is not None and doc["holder"] is not None

    # instance B (uvicorn) gets a PATCH that breaks off after about 5 MiB
    await send_partially(live, location, {**student.headers, **TUS, "Upload-Offset": str(3 * MiB),
                                          "Content-Type": "application/offset+octet-stream"},
                         len(VIDEO) - 3 * MiB, VIDEO[3 * MiB:8 * MiB], some_bytes_arrived)
    async with asyncio.timeout(20):
        while (await db.uploads.find_one({}))["holder"] is not None:
            await asyncio.sleep(0.05)
    offset = await offset_of(client, location, student)
    assert 3 * MiB < offset <= 8 * MiB  # what arrived was kept
    # instance A finishes from the offset B recorded
    done = await patch(client, location, student, offset, VIDEO[offset:])
    assert done.status_code == 204, done.text
    assert done.headers["upload-offset"] == str(len(VIDEO))
    file_id = done.headers["x-file-id"]
    meta = (await client.get(f"/v1/schools/{world.school}/files/{file_id}", headers=student.headers)).json()
    assert meta["sha256"] == hashlib.sha256(VIDEO).hexdigest()
    assert meta["content_type"] == "video/mp4" and meta["filename"] == "examen video.mp4"
    content = await client.get(f"/v1/schools/{world.school}/files/{file_id}/content", headers=student.headers)
    assert content.content == VIDEO
    assert bucket_objects(s3, settings.s3_bucket) == [f"schools/{world.school}/evidence/{file_id}"]  # no tails
    assert open_uploads(s3, settings.s3_bucket) == []
    finished = await client.head(location, headers={**student.headers, **TUS})
    assert finished.status_code == 200  # a finished upload reports its final offset until it expires
    assert finished.headers["upload-offset"] == str(len(VIDEO)) and finished.headers["x-file-id"] == file_id
    assert (await patch(client, location, student, len(VIDEO), b"x")).status_code == 410
    await db.uploads.update_one({"_id": file_id}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
    gone = await client.head(location, headers={**student.headers, **TUS})
    assert gone.status_code == 410


async def test_checksum_mismatch_and_offset_mismatch_store_nothing(client: httpx.AsyncClient, world: World) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    location = (await create(client, world, student, attempt)).headers["location"]
    chunk = VIDEO[:6 * MiB]
    wrong = base64.b64encode(hashlib.sha1(b"x").digest()).decode()
    refused = await patch(client, location, student, 0, chunk, **{"Upload-Checksum": f"sha1 {wrong}"})
    assert refused.status_code == 460
    assert refused.json()["errors"][0]["field"] == "Upload-Checksum"
    assert await offset_of(client, location, student) == 0
    for garbage in (b"x", "\u00b2".encode("latin-1")):  # "²" passes str.isdigit() but not int()
        r = await client.patch(location, content=chunk, headers={
            **student.headers, **TUS, "Upload-Offset": garbage, "Content-Type": "application/offset+octet-stream"})
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "Upload-Offset"
    mismatch = await patch(client, location, student, 100, chunk)
    assert mismatch.status_code == 409 and mismatch.headers["upload-offset"] == "0"
    right = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
    accepted = await patch(client, location, student, 0, chunk, **{"Upload-Checksum": f"sha256 {right}"})
    assert accepted.status_code == 204
    assert await offset_of(client, location, student) == 6 * MiB
    unknown = await patch(client, location, student, 6 * MiB, b"x", **{"Upload-Checksum": "crc32 AAAA"})
    assert unknown.status_code == 400
    too_much = await patch(client, location, student, 6 * MiB, VIDEO[6 * MiB:] + b"extra")
    assert too_much.status_code == 413
    assert await offset_of(client, location, student) == 6 * MiB


async def test_termination_and_expiry_leave_nothing(client: httpx.AsyncClient, world: World, s3: Minio,
                                                    settings: EvidenceSettings, mongo_client: Client) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    terminated = (await create(client, world, student, attempt)).headers["location"]
    expiring = (await create(client, world, student, attempt)).headers["location"]
    for location in (terminated, expiring):
        assert (await patch(client, location, student, 0, chunks(VIDEO[:7 * MiB]))).status_code == 204
    # each has one 5 MiB part in an open multipart upload and a 2 MiB tail object
    assert len(open_uploads(s3, settings.s3_bucket)) == 2 and len(bucket_objects(s3, settings.s3_bucket)) == 2
    assert (await client.delete(terminated, headers={**student.headers, **TUS})).status_code == 204
    assert (await client.head(terminated, headers={**student.headers, **TUS})).status_code == 410
    db = mongo_client[settings.database]
    await db.uploads.update_many({"state": "open"}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
    assert (await patch(client, expiring, student, 7 * MiB, b"more")).status_code == 410
    assert await sweep_expired(db, create_s3(settings), settings.s3_bucket) == 1
    assert await sweep_expired(db, create_s3(settings), settings.s3_bucket) == 0
    assert open_uploads(s3, settings.s3_bucket) == []
    assert bucket_objects(s3, settings.s3_bucket) == []


async def test_creation_is_checked(client: httpx.AsyncClient, world: World, settings: EvidenceSettings) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    over = await create(client, world, student, attempt, length=settings.max_file_bytes + 1)
    assert over.status_code == 413
    base = f"/v1/schools/{world.school}/uploads"
    no_version = await client.post(base, headers={**student.headers, "Upload-Length": "10",
                                                  "Upload-Metadata": metadata(attempt_id=attempt)})
    assert no_version.status_code == 412
    bad_meta = await client.post(base, headers={**student.headers, **TUS, "Upload-Length": "10",
                                                "Upload-Metadata": "filename ***"})
    assert bad_meta.status_code == 400
    assessor = world.headers([Role.ASSESSOR])
    assert (await client.post(base, headers={**assessor, **TUS, "Upload-Length": "10"})).status_code == 403
    other_school = world.headers([Role.STUDENT], student.user_id, school="elsewhere")
    assert (await client.post(f"/v1/schools/{world.school}/uploads", headers={**other_school, **TUS})).status_code \
        == 403
    location = (await create(client, world, student, attempt)).headers["location"]
    stranger = await world.student()
    assert (await client.head(location, headers={**stranger.headers, **TUS})).status_code == 404
    wrong_type = await client.patch(location, content=b"x", headers={**student.headers, **TUS, "Upload-Offset": "0"})
    assert wrong_type.status_code == 415


async def test_open_upload_is_refused_once_the_assessment_is_finalized(client: httpx.AsyncClient,
                                                                      world: World) -> None:
    from .test_rules import finalized

    student = await world.student()
    attempt = await world.attempt(student)
    location = (await create(client, world, student, attempt)).headers["location"]
    assert (await patch(client, location, student, 0, VIDEO[:MiB])).status_code == 204
    await world.feed(finalized(world, attempt, student.student_id))
    refused = await patch(client, location, student, MiB, VIDEO[MiB:])
    assert refused.status_code == 409 and "vergrendeld" in refused.json()["detail"]
    assert (await create(client, world, student, attempt)).status_code == 409
