"""The evidence api SIGKILLed in the middle of a 200 MB upload and of a tus PATCH, with a second instance running.

Nothing of the dead upload may stay in S3 (no object, no open multipart upload) once the sweeper has run, and
a resumable upload goes on on the other instance.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from minio import Minio

from kit.local.servers import free_port

pytestmark = pytest.mark.timeout(300, func_only=True)  # the suite starting is bounded on its own

MB = 1000 * 1000
BLOCK = bytes(range(256)) * 4096  # 1 MiB
SWEEP_S = "2"
CLEANUP_DEADLINE_S = 60.0  # the lease a dead upload held (15 s) plus sweeper rounds, with room for a loaded machine
RESUME_DEADLINE_S = 60.0


@dataclass
class Instances:
    """The first evidence api (behind the gateway) and a second one, as a second pod would be."""

    first: str
    second: str


@pytest.fixture
def two_instances(suite: Any) -> Iterator[Instances]:
    """A second evidence api, and the evidence worker sweeping every few seconds; both undone afterwards."""
    worker = suite.servers["evidence-worker"]
    suite.stop("evidence-worker")
    suite.start("evidence-worker", replace(worker, env={**worker.env, "SWEEP_INTERVAL_S": SWEEP_S}))
    suite.servers["evidence-worker"] = worker  # the guard restarts it with the default settings
    api = suite.servers["evidence-api"]
    port = free_port()
    at = api.argv.index("--port")
    suite.start("evidence-api-2", replace(api, name="evidence-api-2", port=port,
                                          argv=[*api.argv[: at + 1], str(port), *api.argv[at + 2:]]))
    try:
        yield Instances(suite.url("evidence"), f"http://127.0.0.1:{port}")
    finally:
        suite.stop("evidence-api-2")
        del suite.servers["evidence-api-2"]
        suite.stop("evidence-worker")


def s3_client(suite: Any) -> Minio:
    """A direct client of the S3 stand-in, to count what is stored."""
    creds = suite.stack.credentials()
    return Minio(f"127.0.0.1:{suite.stack.ports['s3']}", access_key=creds.access_key,
                 secret_key=creds.secret_key, secure=False, region="us-east-1")


def stored(s3: Minio, prefix: str) -> tuple[set[str], set[str]]:
    """Object names and open multipart upload ids under a prefix."""
    objects = {o.object_name or "" for o in s3.list_objects("evidence-files", prefix=prefix, recursive=True)}
    uploads = {u.upload_id or "" for u in s3._list_multipart_uploads("evidence-files", prefix=prefix).uploads}
    return objects, uploads


def body(total: int, start: int = 0, sent: threading.Event | None = None, after: int = 0) -> Iterator[bytes]:
    """Bytes [start, total) of a made-up file, setting `sent` once `after` bytes went out."""
    out = start
    while out < total:
        skip = out % len(BLOCK)
        chunk = BLOCK[skip: skip + min(len(BLOCK) - skip, total - out)]
        out += len(chunk)
        if sent is not None and out - start >= after:
            sent.set()
        yield chunk


def sha256_of(total: int) -> str:
    digest = hashlib.sha256()
    for chunk in body(total):
        digest.update(chunk)
    return digest.hexdigest()


def in_thread(request: Callable[[], httpx.Response]) -> tuple[threading.Thread, list[Any]]:
    """Run a blocking request in a thread; its response or error lands in the returned list."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(request())
        except httpx.HTTPError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def seen(outcome: list[Any]) -> str:
    """What the client of the killed request saw."""
    if not outcome:
        return "nothing"
    return str(outcome[0].status_code) if isinstance(outcome[0], httpx.Response) else type(outcome[0]).__name__


def kill_when_parts_arrive(suite: Any, s3: Minio, prefix: str, before: set[str], sent: threading.Event) -> int:
    """SIGKILL the first api once its multipart upload holds parts; the open multipart uploads it left."""
    assert sent.wait(120), "the upload did not get going"
    deadline = time.monotonic() + 60
    while not (open_now := stored(s3, prefix)[1] - before) or not any(
            s3._list_parts("evidence-files", u.object_name, u.upload_id).parts
            for u in s3._list_multipart_uploads("evidence-files", prefix=prefix).uploads
            if u.upload_id in open_now):
        assert time.monotonic() < deadline, "no part reached S3"
        time.sleep(0.1)
    suite.kill("evidence-api")
    return len(open_now)


def wait_clean(s3: Minio, prefix: str, before: tuple[set[str], set[str]], keep: set[str]) -> tuple[set, set, float]:
    """Wait until nothing new but `keep` is stored under prefix; what is left and how long it took."""
    started = time.monotonic()
    while True:
        objects, uploads = stored(s3, prefix)
        left_objects, left_uploads = objects - before[0] - keep, uploads - before[1]
        if not (left_objects or left_uploads) or time.monotonic() - started > CLEANUP_DEADLINE_S:
            return left_objects, left_uploads, time.monotonic() - started
        time.sleep(0.5)


def test_a_200_mb_upload_cut_by_a_crash_leaves_nothing_in_s3(suite: Any, two_instances: Instances) -> None:
    school = suite.school["school_id"]
    admin = suite.headers("admin@demo-roc.example")
    s3, prefix, size = s3_client(suite), f"schools/{school}/library/", 200 * MB
    before, sent = stored(s3, prefix), threading.Event()
    headers = {**admin, "Content-Length": str(size), "Content-Type": "application/octet-stream"}
    params = {"filename": "instructievideo.mp4", "roles": "student"}

    def upload(base: str, sent: threading.Event | None = None) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=180) as http:
            return http.post(f"/v1/schools/{school}/library", params=params, headers=headers,
                             content=body(size, sent=sent, after=60 * MB))

    thread, outcome = in_thread(lambda: upload(two_instances.first, sent))
    open_at_kill = kill_when_parts_arrive(suite, s3, prefix, before[1], sent)
    thread.join(60)
    retried = upload(two_instances.second)  # the person tries again; the balancer sends it to the other pod
    assert retried.status_code == 201, retried.text
    file = retried.json()
    left_objects, left_uploads, took = wait_clean(s3, prefix, before, keep={f"{prefix}{file['id']}"})
    suite.report("evidence api SIGKILL mid 200 MB upload", sent_mb=size // MB, client_saw=seen(outcome),
                 multipart_open_at_kill=open_at_kill, retried_on_second_instance=retried.status_code,
                 orphan_objects=len(left_objects), orphan_multipart_uploads=len(left_uploads),
                 cleaned_up_after_s=round(took, 1))
    assert open_at_kill == 1, "the upload was not in S3 multipart when the api died"
    assert not (outcome and isinstance(outcome[0], httpx.Response) and outcome[0].is_success), outcome
    assert file["size"] == size and file["sha256"] == sha256_of(size)
    assert (left_objects, left_uploads) == (set(), set()), "left in S3 after the sweeper ran"


def test_a_tus_patch_cut_by_a_crash_resumes_on_another_instance(suite: Any, two_instances: Instances) -> None:
    school = suite.school["school_id"]
    admin = {**suite.headers("admin@demo-roc.example"), "Tus-Resumable": "1.0.0"}
    s3, size, sent = s3_client(suite), 60 * MB, threading.Event()
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    (("filename", "handleiding.pdf"), ("roles", "student")))
    with httpx.Client(base_url=suite.stack.gateway_url, timeout=60) as http:
        created = http.post(f"/evidence/v1/schools/{school}/uploads", headers={
            **admin, "Upload-Length": str(size), "Upload-Metadata": meta})
    assert created.status_code == 201, created.text
    path = created.headers["Location"].removeprefix("/evidence")
    upload_id = path.rsplit("/", 1)[1]
    prefix = f"schools/{school}/"
    before = stored(s3, prefix)

    def patch() -> httpx.Response:
        with httpx.Client(base_url=two_instances.first, timeout=180) as http:
            return http.patch(path, content=body(size, sent=sent, after=20 * MB), headers={
                **admin, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(size)})

    thread, outcome = in_thread(patch)
    open_at_kill = kill_when_parts_arrive(suite, s3, prefix, before[1], sent)
    thread.join(60)
    resumed_at, statuses, final = time.monotonic(), [], None
    with httpx.Client(base_url=two_instances.second, timeout=180) as http:
        while time.monotonic() - resumed_at < RESUME_DEADLINE_S:  # as a tus client does: HEAD, PATCH, 409: retry
            head = http.head(path, headers=admin)
            assert head.status_code == 200, head.status_code
            offset = int(head.headers["Upload-Offset"])
            final = http.patch(path, content=body(size, start=offset), headers={
                **admin, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(size - offset)})
            statuses.append(final.status_code)
            if final.status_code != 409:
                break
            time.sleep(min(float(final.headers.get("Retry-After", "1")), 1.0))
        resumed_s = time.monotonic() - resumed_at
        file = http.get(f"/v1/schools/{school}/files/{upload_id}", headers=admin).json()
    left_objects, left_uploads, took = wait_clean(s3, prefix, before, keep={f"{prefix}library/{upload_id}"})
    suite.report("evidence api SIGKILL mid tus PATCH", sent_mb=size // MB, client_saw=seen(outcome),
                 multipart_open_at_kill=open_at_kill, resume_attempts=len(statuses),
                 refused_while_held=statuses.count(409), resumed_after_s=round(resumed_s, 1),
                 final_status=statuses[-1] if statuses else None, orphan_objects=len(left_objects),
                 orphan_multipart_uploads=len(left_uploads), cleaned_up_after_s=round(took, 1))
    assert open_at_kill == 1, "the PATCH was not in S3 multipart when the api died"
    assert final is not None and final.status_code == 204, f"not resumed: {statuses} {final and final.text}"
    assert final.headers["X-File-Id"] == upload_id
    assert file["size"] == size and file["sha256"] == sha256_of(size), "the resumed file is not what was sent"
    assert (left_objects, left_uploads) == (set(), set()), "left in S3 after the upload completed"
