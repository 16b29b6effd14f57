"""What an api process killed mid-upload leaves behind: leases that run out, and a sweeper that cleans up."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import httpx
from minio import Minio

from evidence import repository as repo
from evidence.settings import EvidenceSettings
from evidence.storage import Multipart
from evidence.uploads_inflight import in_flight, sweep_abandoned
from evidence.uploads_lease import LEASE
from kit.auth import Role
from kit.mongo import Client

from .conftest import MiB, World, bucket_objects, open_uploads
from .test_tus import TUS, VIDEO, create, offset_of, patch


def past() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=1)


async def test_a_plain_upload_whose_process_died_is_swept_from_s3(
        world: World, s3: Minio, settings: EvidenceSettings, mongo_client: Client) -> None:
    db, bucket = mongo_client[settings.database], settings.s3_bucket
    await repo.ensure_indexes(db)
    # Died mid-body: parts in an open multipart upload. Died after completing: an unregistered object.
    mid_body, completed, alive = "file_midbody", "file_completed", "file_alive"
    for file_id in (mid_body, completed, alive):
        await repo.insert_inflight(db, {"_id": file_id, "school_id": world.school, "key": f"k/{file_id}",
                                        "alive_until": past() if file_id != alive else past() + LEASE * 2})
    multipart = await Multipart.start(s3, bucket, f"k/{mid_body}", "video/mp4")
    await multipart.upload_part(1, VIDEO[:5 * MiB])
    s3.put_object(bucket, f"k/{completed}", io.BytesIO(b"all of it"), 9)
    still_streaming = await Multipart.start(s3, bucket, f"k/{alive}", "video/mp4")

    assert await sweep_abandoned(db, s3, bucket) == 2
    assert [u.upload_id for u in open_uploads(s3, bucket)] == [still_streaming.upload_id]
    assert bucket_objects(s3, bucket) == []
    assert [r["_id"] async for r in db.inflight.find()] == [alive]
    assert await sweep_abandoned(db, s3, bucket) == 0


async def test_a_request_still_streaming_keeps_its_upload_and_a_swept_one_cannot_register(
        world: World, settings: EvidenceSettings, mongo_client: Client) -> None:
    db = mongo_client[settings.database]
    await repo.ensure_indexes(db)
    async with in_flight(db, file_id="file_slow", school_id=world.school, key="k/file_slow"):
        record = await db.inflight.find_one({"_id": "file_slow"})
        assert record["alive_until"] > datetime.now(UTC) + LEASE - timedelta(seconds=5)
        assert await repo.claim_abandoned_inflight(db, "file_slow", datetime.now(UTC)) is None
        await db.inflight.update_one({"_id": "file_slow"}, {"$set": {"alive_until": past()}})  # it stalled
        assert await repo.claim_abandoned_inflight(db, "file_slow", datetime.now(UTC)) is not None
        assert not await repo.delete_inflight(db, "file_slow", None)  # registering it now fails (503)
        assert not await repo.renew_inflight(db, "file_slow", datetime.now(UTC) + LEASE)


async def test_a_registered_plain_upload_leaves_no_record_in_flight(
        client: httpx.AsyncClient, world: World, settings: EvidenceSettings, mongo_client: Client) -> None:
    admin = world.headers([Role.SCHOOL_ADMIN])
    answer = await client.post(f"/v1/schools/{world.school}/library?filename=a.pdf&roles=student",
                               content=b"%PDF-1.7 manual", headers=admin)
    assert answer.status_code == 201, answer.text
    assert await mongo_client[settings.database].inflight.count_documents({}) == 0


async def test_a_patch_whose_process_died_frees_the_upload_once_its_lease_runs_out(
        client: httpx.AsyncClient, world: World, settings: EvidenceSettings, mongo_client: Client) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    location = (await create(client, world, student, attempt)).headers["location"]
    upload_id = location.rsplit("/", 1)[1]
    db = mongo_client[settings.database]
    # A PATCH on an instance that was killed: its claim was renewed until moments ago, then never again.
    await db.uploads.update_one({"_id": upload_id}, {"$set": {
        "holder": "hold_dead", "held_until": datetime.now(UTC) + timedelta(seconds=3)}})
    refused = await patch(client, location, student, 0, VIDEO[:6 * MiB])
    assert refused.status_code == 409
    assert 0 < int(refused.headers["retry-after"]) <= LEASE.total_seconds()
    await db.uploads.update_one({"_id": upload_id}, {"$set": {"held_until": past()}})  # the lease ran out
    assert (await patch(client, location, student, 0, VIDEO[:6 * MiB])).status_code == 204
    assert await offset_of(client, location, student) == 6 * MiB
    upload = await db.uploads.find_one({"_id": upload_id})
    assert upload["holder"] is None and upload["multipart_id"]


async def test_a_completed_upload_leaves_no_multipart_or_tail_of_a_patch_that_died(
        client: httpx.AsyncClient, world: World, s3: Minio, settings: EvidenceSettings, mongo_client: Client) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    location = (await create(client, world, student, attempt)).headers["location"]
    upload_id = location.rsplit("/", 1)[1]
    upload = await mongo_client[settings.database].uploads.find_one({"_id": upload_id})
    bucket = settings.s3_bucket
    # What a PATCH killed mid-way can leave: a multipart it had not recorded yet and a tail object.
    orphan = await Multipart.start(s3, bucket, upload["key"], "video/mp4")
    await orphan.upload_part(1, VIDEO[:5 * MiB])
    s3.put_object(bucket, f"schools/{world.school}/uploads/{upload_id}/tail-123", io.BytesIO(b"x"), 1)
    done = await patch(client, location, student, 0, VIDEO)
    assert done.status_code == 204, done.text
    assert open_uploads(s3, bucket) == []
    assert bucket_objects(s3, bucket) == [upload["key"]]
    assert (await client.head(location, headers={**student.headers, **TUS})).headers["x-file-id"] == upload_id
