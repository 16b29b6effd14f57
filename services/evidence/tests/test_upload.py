"""Streaming uploads of evidence into S3: limits, checksums, names, types, faults."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator

import httpx
from minio import Minio

from evidence.settings import EvidenceSettings
from kit.auth import Role

from .conftest import MiB, World, bucket_objects, open_uploads

PDF = b"%PDF-1.7\n" + os.urandom(2000)


def url(world: World, attempt_id: str, filename: str = "verslag.pdf") -> str:
    return f"/v1/schools/{world.school}/attempts/{attempt_id}/evidence?filename={filename}"


async def chunks(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    """A body of unknown length (chunked transfer encoding)."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def test_student_uploads_multi_part_file_with_sha256_and_detected_type(
        client: httpx.AsyncClient, world: World, s3: Minio, settings: EvidenceSettings) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    data = PDF + os.urandom(11 * MiB)  # three parts of the 5 MiB test part size
    response = await client.post(url(world, attempt), content=data,
                                 headers={**student.headers, "Content-Type": "image/png"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["size"] == len(data)
    assert body["content_type"] == "application/pdf"  # from the bytes, not the client's claim
    assert body["filename"] == "verslag.pdf"
    assert body["retention_class"] == "exam_evidence"
    stored = bucket_objects(s3, settings.s3_bucket)
    assert stored == [f"schools/{world.school}/evidence/{body['id']}"]  # per-school prefix
    content = await client.get(f"/v1/schools/{world.school}/files/{body['id']}/content", headers=student.headers)
    assert content.status_code == 200
    assert hashlib.sha256(content.content).hexdigest() == body["sha256"]


async def test_declared_length_over_limit_is_refused_before_reading(
        client: httpx.AsyncClient, world: World, s3: Minio, settings: EvidenceSettings) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    data = os.urandom(settings.max_file_bytes + 1)
    response = await client.post(url(world, attempt), content=data, headers=student.headers)
    assert response.status_code == 413
    assert response.json()["max_bytes"] == settings.max_file_bytes
    assert bucket_objects(s3, settings.s3_bucket) == []
    assert open_uploads(s3, settings.s3_bucket) == []


async def test_exactly_the_limit_is_accepted(client: httpx.AsyncClient, world: World,
                                            settings: EvidenceSettings) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    response = await client.post(url(world, attempt), content=os.urandom(settings.max_file_bytes),
                                 headers=student.headers)
    assert response.status_code == 201, response.text
    assert response.json()["size"] == settings.max_file_bytes


async def test_undeclared_length_over_limit_is_refused_while_streaming_and_aborted(
        client: httpx.AsyncClient, world: World, s3: Minio, settings: EvidenceSettings) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    data = os.urandom(settings.max_file_bytes + 1)
    response = await client.post(url(world, attempt), content=chunks(data), headers=student.headers)
    assert response.status_code == 413
    assert bucket_objects(s3, settings.s3_bucket) == []
    assert open_uploads(s3, settings.s3_bucket) == []  # the parts already sent were aborted
    listing = await client.get(f"/v1/schools/{world.school}/attempts/{attempt}/evidence", headers=student.headers)
    assert listing.json() == []


async def test_checksum_mismatch_stores_nothing(client: httpx.AsyncClient, world: World, s3: Minio,
                                                settings: EvidenceSettings) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    data = os.urandom(6 * MiB)
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    response = await client.post(url(world, attempt), content=data,
                                 headers={**student.headers, "Content-Digest": f"sha-256=:{wrong}:"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Content-Digest"
    assert bucket_objects(s3, settings.s3_bucket) == []
    assert open_uploads(s3, settings.s3_bucket) == []
    right = base64.b64encode(hashlib.sha256(data).digest()).decode()
    ok = await client.post(url(world, attempt), content=data,
                           headers={**student.headers, "Content-Digest": f"sha-256=:{right}:"})
    assert ok.status_code == 201


async def test_hostile_file_names_never_reach_keys_or_headers(client: httpx.AsyncClient, world: World,
                                                              s3: Minio, settings: EvidenceSettings) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    hostile = "../../etc/passwd%0d%0aSet-Cookie:%20x=1%00" + "a" * 400 + ".pdf"
    response = await client.post(url(world, attempt, hostile), content=PDF, headers=student.headers)
    assert response.status_code == 201, response.text
    name = response.json()["filename"]
    assert "/" not in name and "\r" not in name and "\n" not in name and "\x00" not in name
    assert len(name) <= 255 and name.endswith(".pdf") and name.startswith("passwd")
    assert all("passwd" not in key for key in bucket_objects(s3, settings.s3_bucket))
    content = await client.get(f"/v1/schools/{world.school}/files/{response.json()['id']}/content",
                               headers=student.headers)
    disposition = content.headers["content-disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "Set-Cookie" not in content.headers
    unicode_name = await client.post(url(world, attempt, "%E2%80%AEfdp.exe%20%E2%9C%93.pdf"), content=PDF,
                                     headers=student.headers)
    assert unicode_name.json()["filename"] == "fdp.exe ✓.pdf"  # the right-to-left override is gone


async def test_empty_file_is_refused(client: httpx.AsyncClient, world: World) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    response = await client.post(url(world, attempt), content=b"", headers=student.headers)
    assert response.status_code == 422


async def test_wrong_school_wrong_role_and_other_student_are_refused(client: httpx.AsyncClient,
                                                                     world: World) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    other_school = world.headers([Role.STUDENT], student.user_id, school="another-school")
    assert (await client.post(url(world, attempt), content=PDF, headers=other_school)).status_code == 403
    supervisor = world.headers([Role.SCHOOL_SUPERVISOR])
    assert (await client.post(url(world, attempt), content=PDF, headers=supervisor)).status_code == 403
    someone_else = await world.student()
    refused = await client.post(url(world, attempt), content=PDF, headers=someone_else.headers)
    assert refused.status_code == 403
    assert (await client.post(url(world, attempt), content=PDF)).status_code == 401


async def test_a_refusal_is_explained_in_dutch_by_default_and_in_english_on_request(client: httpx.AsyncClient,
                                                                                  world: World) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    someone_else = await world.student()
    dutch = (await client.post(url(world, attempt), content=PDF, headers=someone_else.headers)).json()
    assert dutch["title"] == "Geen toegang"
    assert dutch["detail"] == "Alleen de student van deze examenpoging mag bewijsstukken uploaden."
    english = (await client.post(url(world, attempt), content=PDF,
                                 headers={**someone_else.headers, "Accept-Language": "en"})).json()
    assert english["title"] == "Access denied"
    assert english["detail"] == "Only the student of this exam attempt may upload evidence."


async def test_upload_needs_an_attempt_in_execution(client: httpx.AsyncClient, world: World) -> None:
    student = await world.student()
    response = await client.post(url(world, "never-scheduled"), content=PDF, headers=student.headers)
    assert response.status_code == 404
