"""Evidence upload throughput and memory: 537,000,000 bytes through the gateway and the service into S3.

Runs on throwaway stand-in servers: Mongo, Kafka, SeaweedFS, the evidence api (uvicorn) and worker, and
the real gateway (Traefik). The student and the attempt in execution come from identity's and exams'
events, produced to Kafka and projected by the worker. The payload is generated on the fly (a 1 MiB
block repeated), never held whole. In the same run the same bytes go straight to SeaweedFS with the
minio SDK (put_object, its defaults), in two rounds ordered service, direct, direct, service against load
drift; the api process's RSS is sampled from /proc throughout.
Then 537,000,001 bytes are refused with 413 and the bucket is checked to hold nothing of them.
Last line: upload_MBps=<x> direct_MBps=<y> ratio=<x/y> rss_growth_mb=<z>
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from minio import Minio

from contracts import Envelope, events_topic
from contracts.exams import ExamPartScheduledV1
from contracts.identity import MembershipGrantedV1
from kit.auth import Role
from kit.kafka import ensure_topics
from kit.local import servers
from kit.local.stack import Stack
from kit.mongo import create_client
from kit.settings import KitSettings
from kit.testing.bench import throwaway
from kit.testing.kafka import produce
from kit.testing.tokens import TestIssuer

SIZE = 537_000_000
BLOCK = os.urandom(1024 * 1024)
BUCKET = "evidence-files"
# PART_BYTES / UPLOAD_CONCURRENCY from the environment reach the service, to compare settings.
EXTRA = {k: v for k, v in os.environ.items() if k in ("PART_BYTES", "UPLOAD_CONCURRENCY")}


def payload(size: int) -> Iterator[bytes]:
    """size bytes, the same 1 MiB block over and over: generated while sent, never held whole."""
    left = size
    while left > 0:
        chunk = BLOCK if left >= len(BLOCK) else BLOCK[:left]
        left -= len(chunk)
        yield chunk


def expected_sha256(size: int) -> str:
    """The SHA-256 the service must report for payload(size)."""
    digest = hashlib.sha256()
    for chunk in payload(size):
        digest.update(chunk)
    return digest.hexdigest()


class Reader:
    """payload(size) as a file object for minio's put_object: short reads, one slice copy per read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        """Up to n bytes (at most to the end of the current block)."""
        if self.pos == len(BLOCK):
            self.pos = 0
        take = min(self.left, len(BLOCK) - self.pos, n if n >= 0 else self.left)
        data = BLOCK[self.pos:self.pos + take]
        self.pos += take
        self.left -= take
        return data


class RssSampler:
    """Samples a process's resident set size (VmRSS in /proc) every few milliseconds."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        """The current RSS in bytes."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise LookupError("no VmRSS")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def seed(stack: Stack, school: str, user_id: str) -> str:
    """A student and an attempt in execution, through identity's and exams' events and the worker."""
    bootstrap = f"127.0.0.1:{stack.ports['kafka']}"
    await ensure_topics(KitSettings(kafka_bootstrap=bootstrap), [events_topic("identity"), events_topic("exams")])
    student_id, attempt_id = uuid.uuid4().hex, uuid.uuid4().hex
    granted = MembershipGrantedV1(user_id=user_id, school_id=school, role="student", roles=["student"],
                                  student_id=student_id)
    scheduled = ExamPartScheduledV1(
        attempt_id=attempt_id, attempt_number=1, school_id=school, student_id=student_id, exam_id="e",
        exam_name="Examen", part_id="p", part_name="Deel", starts_at=datetime.now(UTC), first_assessor_id="a")
    for event, topic in ((granted, "identity"), (scheduled, "exams")):
        envelope = Envelope.wrap(event, producer=topic, subject=student_id, school_id=school)
        await produce(bootstrap, events_topic(topic), [(student_id.encode(), envelope.to_bytes())])
    client = create_client(KitSettings(mongo_uri=servers.mongo_uri(stack.ports["mongo"])))
    try:
        deadline = time.monotonic() + 120
        while await client.evidence.attempts.find_one({"_id": attempt_id}) is None or \
                await client.evidence.student_users.find_one({"user_id": user_id}) is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the worker did not project the seed events")
            await asyncio.sleep(0.2)
    finally:
        await client.close()
    return attempt_id


def leftovers(s3: Minio, prefix: str) -> tuple[list[str], int]:
    """Objects and open multipart uploads under a prefix."""
    objects = [o.object_name or "" for o in s3.list_objects(BUCKET, prefix=prefix, recursive=True)]
    uploads = s3._list_multipart_uploads(BUCKET, prefix=prefix).uploads
    return objects, len(uploads)


def main() -> None:
    """Run the bench and print its figures."""
    with throwaway("bench-evidence-") as bench:
        stack, issuer = bench.stack, TestIssuer(bench.data)
        for server in stack.infrastructure():
            if server.name != "smtp":
                bench.start(server)
        env = {"AUTH_JWKS_URL": str(issuer.jwks_path), "OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "WARNING", **EXTRA}
        api = bench.start(stack.api("evidence", env))
        bench.start(stack.worker("evidence", env))
        bench.start(stack.gateway())
        asyncio.run(run(stack, issuer, api.proc.pid))


async def run(stack: Stack, issuer: TestIssuer, api_pid: int) -> None:
    """The measurements, once every process runs."""
    school, user_id = f"bench-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    headers = issuer.headers(user_id, {school: [Role.STUDENT]})
    gateway = stack.gateway_url
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        deadline = time.monotonic() + 60
        while (await http.get("/evidence/readyz")).status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError("evidence not ready through the gateway")
            await asyncio.sleep(0.3)
    attempt = await seed(stack, school, user_id)
    creds = stack.credentials()
    s3 = Minio(f"127.0.0.1:{stack.ports['s3']}", access_key=creds.access_key, secret_key=creds.secret_key,
               secure=False, region="us-east-1")
    print(f"payload: {SIZE:,} bytes, generated on the fly", flush=True)
    # warm-up: SeaweedFS grows its volumes on the first large writes; neither measurement should pay for it
    await asyncio.to_thread(s3.put_object, BUCKET, "bench-warmup", Reader(64 * 1024 * 1024), 64 * 1024 * 1024)
    sha = await asyncio.to_thread(expected_sha256, SIZE)
    url = f"{gateway}/evidence/v1/schools/{school}/attempts/{attempt}/evidence?filename=bench.mp4"

    def upload(size: int) -> httpx.Response:
        with httpx.Client(timeout=600) as http:
            return http.post(url, content=payload(size), headers={**headers, "Content-Length": str(size)})

    def direct() -> float:
        started = time.perf_counter()
        s3.put_object(BUCKET, f"bench-direct/{uuid.uuid4().hex}", Reader(SIZE), SIZE)
        return time.perf_counter() - started

    # Two rounds in ABBA order (service, direct, direct, service): the other agents' load on the 2 shared
    # cores drifts, and this order cancels a linear drift; each path's speed is its bytes over its total time.
    sampler = RssSampler(api_pid)
    baseline = sampler.rss()
    upload_s = direct_s = 0.0
    file_ids = []
    with sampler:
        for step, path in enumerate(("service", "direct", "direct", "service")):
            if path == "direct":
                seconds = await asyncio.to_thread(direct)
                direct_s += seconds
                print(f"round {step // 2 + 1}: direct minio put_object {SIZE:,} bytes in {seconds:.2f}s", flush=True)
                continue
            started = time.perf_counter()
            response = await asyncio.to_thread(upload, SIZE)
            seconds = time.perf_counter() - started
            upload_s += seconds
            if response.status_code != 201 or response.json()["sha256"] != sha or response.json()["size"] != SIZE:
                raise SystemExit(f"upload failed: {response.status_code} {response.text[:500]}")
            file_ids.append(response.json()["id"])
            print(f"round {step // 2 + 1}: gateway + service {SIZE:,} bytes in {seconds:.2f}s, sha256 matches",
                  flush=True)
    rss_growth_mb = (sampler.peak - baseline) / 1e6
    print(f"api RSS {baseline / 1e6:.1f} MB before, peak {sampler.peak / 1e6:.1f} MB during the uploads", flush=True)

    async with httpx.AsyncClient(timeout=30) as http:
        api = f"{gateway}/evidence/v1/schools/{school}/files/{file_ids[0]}"
        presigned = (await http.get(f"{api}/url", headers=headers)).json()["url"]
        seek = await http.get(presigned, headers={"Range": "bytes=536870912-536870927"})
        ranged = await http.get(f"{api}/content", headers={**headers, "Range": "bytes=536870912-536870927"})
    expected = BLOCK[:16]  # offset 512 MiB is the start of a block
    print(f"presigned URL through the gateway ({presigned.split('/')[2]}): HTTP {seek.status_code}, "
          f"bytes match: {seek.content == expected}; Range via the service: HTTP {ranged.status_code}, "
          f"bytes match: {ranged.content == expected}", flush=True)
    if seek.content != expected or ranged.content != expected:
        raise SystemExit("downloads do not return the uploaded bytes")

    over = await asyncio.to_thread(upload, SIZE + 1)
    objects, open_uploads = leftovers(s3, f"schools/{school}/")
    print(f"{SIZE + 1:,} bytes: HTTP {over.status_code} ({over.json().get('type')}); objects of this school: "
          f"{len(objects)} (the accepted files), open multipart uploads: {open_uploads}", flush=True)
    if over.status_code != 413 or len(objects) != len(file_ids) or open_uploads:
        raise SystemExit("the over-limit upload was not refused cleanly")

    upload_mbps, direct_mbps = 2 * SIZE / 1e6 / upload_s, 2 * SIZE / 1e6 / direct_s
    print("budget: ratio >= 0.7, rss_growth_mb <= 100", flush=True)
    print(f"upload_MBps={upload_mbps:.1f} direct_MBps={direct_mbps:.1f} ratio={upload_mbps / direct_mbps:.2f} "
          f"rss_growth_mb={rss_growth_mb:.1f}")


if __name__ == "__main__":
    main()
