"""The evidence api SIGKILLed in the middle of a 200 MB upload and of a tus PATCH.

Nothing of a dead upload may linger in S3 (no object, no open multipart upload) once the sweeper has run,
and a resumable upload goes on on another instance of the api.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from minio import Minio

from kit.local.servers import free_port

pytestmark = pytest.mark.timeout(300)

MB = 1024 * 1024
BLOCK = bytes(range(256)) * 4096  # 1 MiB
SWEEP_S = "5"
RESUME_DEADLINE_S = 60.0


def s3_client(suite: Any) -> Minio:
    """A direct client of the S3 stand-in."""
    creds = suite.stack.credentials()
    return Minio(f"127.0.0.1:{suite.stack.ports['s3']}", access_key=creds.access_key,
                 secret_key=creds.secret_key, secure=False, region="us-east-1")


def leftovers(s3: Minio, prefix: str) -> tuple[list[str], list[str]]:
    """Objects and open multipart uploads under a prefix."""
    objects = [o.object_name for o in s3.list_objects("evidence-files", prefix=prefix, recursive=True)]
    uploads = [u.object_name for u in s3._list_multipart_uploads("evidence-files", prefix=prefix).uploads]
    return objects, uploads


def body(total: int, sent: threading.Event, after: int) -> Iterator[bytes]:
    """total bytes, setting `sent` once `after` bytes went out (so the api can be killed mid-body)."""
    out = 0
    while out < total:
        chunk = BLOCK[: min(len(BLOCK), total - out)]
        out += len(chunk)
        if out >= after:
            sent.set()
            time.sleep(0.05)  # the api dies while the client still sends
        yield chunk


def send_in_thread(request: Any) -> tuple[threading.Thread, list[Any]]:
    """Run a blocking request in a thread; its outcome lands in the returned list."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(request())
        except httpx.HTTPError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.fixture
def quick_sweeper(suite: Any) -> Iterator[float]:
    """The evidence worker sweeping every few seconds (the default is minutes); the default again afterwards."""
    worker = suite.servers["evidence-worker"]
    suite.stop("evidence-worker")
    suite.start("evidence-worker", replace(worker, env={**worker.env, "SWEEP_INTERVAL_S": SWEEP_S}))
    suite.servers["evidence-worker"] = worker
    yield float(SWEEP_S)
    suite.stop("evidence-worker")  # the guard starts it again with its own settings


def test_a_200_mb_upload_cut_by_a_crash_leaves_nothing_in_s3(suite: Any, quick_sweeper: float) -> None:
    school = suite.school["school_id"]
    admin = suite.headers("admin@demo-roc.example")
    s3 = s3_client(suite)
    prefix = f"schools/{school}/"
    before = leftovers(s3, prefix)
    size, sent = 200 * 1000 * 1000, threading.Event()

    def upload() -> httpx.Response:
        with httpx.Client(base_url=suite.stack.gateway_url, timeout=120) as http:
            return http.post(f"/evidence/v1/schools/{school}/library",
                             params={"filename": "crash.mp4", "roles": "student"}, content=body(size, sent, 60 * MB),
                             headers={**admin, "Content-Length": str(size),
                                      "Content-Type": "application/octet-stream"})

    thread, outcome = send_in_thread(upload)
    assert sent.wait(120), "the upload did not get going"
    time.sleep(1.0)  # parts are on their way to S3
    during = leftovers(s3, prefix)
    suite.kill("evidence-api")
    thread.join(60)
    suite.start("evidence-api")
    suite.wait_ready(("evidence",))
    time.sleep(3 * quick_sweeper)
    after = leftovers(s3, prefix)
    orphans = sorted(set(after[0]) - set(before[0])), sorted(set(after[1]) - set(before[1]))
    suite.report("evidence api SIGKILL mid 200MB upload", sent_mb=200, client_saw=_outcome(outcome),
                 multipart_open_during=len(set(during[1]) - set(before[1])), orphan_objects=len(orphans[0]),
                 orphan_multipart_uploads=len(orphans[1]))
    assert len(set(during[1]) - set(before[1])) == 1, "the upload was not in S3 multipart when the api died"
    assert outcome and (not isinstance(outcome[0], httpx.Response) or outcome[0].status_code >= 500), outcome
    assert orphans == ([], []), f"left in S3 after the sweeper ran: {orphans}"


def _outcome(outcome: list[Any]) -> str:
    if not outcome:
        return "no-answer"
    return str(outcome[0].status_code) if isinstance(outcome[0], httpx.Response) else type(outcome[0]).__name__


def test_a_tus_patch_cut_by_a_crash_resumes_on_another_instance(suite: Any, quick_sweeper: float) -> None:
    school = suite.school["school_id"]
    admin = {**suite.headers("admin@demo-roc.example"), "Tus-Resumable": "1.0.0"}
    s3 = s3_client(suite)
    prefix = f"schools/{school}/"
    before = leftovers(s3, prefix)
    size, sent = 40 * MB, threading.Event()
    payload_sha = hashlib.sha256(b"".join(body(size, threading.Event(), size + 1))).hexdigest()
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    (("filename", "handleiding.pdf"), ("roles", "student")))
    with httpx.Client(base_url=suite.stack.gateway_url, timeout=60) as http:
        created = http.post(f"/evidence/v1/schools/{school}/uploads", headers={
            **admin, "Upload-Length": str(size), "Upload-Metadata": meta})
    assert created.status_code == 201, created.text
    path = created.headers["Location"].removeprefix("/evidence")

    def patch() -> httpx.Response:
        with httpx.Client(base_url=suite.url("evidence"), timeout=120) as http:
            return http.patch(path, content=body(size, sent, 20 * MB), headers={
                **admin, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(size)})

    thread, outcome = send_in_thread(patch)
    assert sent.wait(120), "the PATCH did not get going"
    time.sleep(1.0)
    suite.kill("evidence-api")
    thread.join(60)
    api = suite.servers["evidence-api"]
    other_port = free_port()
    other = replace(api, name="evidence-api-2", port=other_port,
                    argv=[*api.argv[: api.argv.index("--port") + 1], str(other_port),
                          *api.argv[api.argv.index("--port") + 2:]])
    suite.start("evidence-api-2", other)
    try:
        resumed_at = time.monotonic()
        attempts, final = 0, None
        with httpx.Client(base_url=f"http://127.0.0.1:{other_port}", timeout=120) as http:
            while time.monotonic() - resumed_at < RESUME_DEADLINE_S:
                attempts += 1
                head = http.head(path, headers=admin)
                assert head.status_code == 200, head.status_code
                offset = int(head.headers["Upload-Offset"])
                rest = b"".join(body(size, threading.Event(), size + 1))[offset:]
                final = http.patch(path, content=rest, headers={
                    **admin, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
                if final.status_code == 204:
                    break
                time.sleep(2.0)
            resumed_s = time.monotonic() - resumed_at
            file_id = final.headers.get("X-File-Id") if final is not None else None
            stored = http.get(f"/v1/schools/{school}/files/{file_id}", headers=admin).json() if file_id else {}
        time.sleep(3 * quick_sweeper)
        after = leftovers(s3, prefix)
        new_uploads = sorted(set(after[1]) - set(before[1]))
        suite.report("evidence api SIGKILL mid tus PATCH", sent_mb=size // MB, client_saw=_outcome(outcome),
                     resumed_after_s=round(resumed_s, 1), patch_attempts=attempts,
                     final_status=final.status_code if final is not None else None,
                     orphan_multipart_uploads=len(new_uploads))
        assert final is not None and final.status_code == 204, f"not resumed: {final.status_code} {final.text}"
        assert stored.get("sha256") == payload_sha, "the resumed file is not the bytes that were sent"
        assert not new_uploads, f"open multipart uploads left: {new_uploads}"
    finally:
        suite.stop("evidence-api-2")
        del suite.servers["evidence-api-2"]
