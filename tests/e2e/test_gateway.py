"""What the gateway itself guarantees: S3 only for presigned downloads, request ids, rate limits, early 413."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlunsplit

import httpx
import pytest
from minio import Minio
from minio.credentials.credentials import Credentials
from minio.error import InvalidResponseError, S3Error
from minio.signer import presign_v4

from kit.local import demo, servers
from kit.local.servers import SERVICES, Running
from kit.local.stack import Stack
from kit.testing.fixtures import start

pytestmark = pytest.mark.e2e

BUCKET = "evidence-files"
CONTENT = b"%PDF-1.4 handleiding voor de praktijkopleider\n" * 50


def login(gateway: httpx.Client, email: str, password: str) -> dict[str, str]:
    r = gateway.post("/identity/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def manual(suite: Stack, school: dict[str, Any]) -> dict[str, Any]:
    """A manual the demo admin published to the library, and its presigned download URL."""
    with httpx.Client(base_url=suite.gateway_url, timeout=30) as gateway:
        admin = login(gateway, f"admin@{demo.DOMAIN}", school["password"])
        sid = school["school_id"]
        up = gateway.post(f"/evidence/v1/schools/{sid}/library", headers=admin, content=CONTENT,
                          params={"filename": "handleiding.pdf", "roles": ["workplace_trainer"]})
        assert up.status_code == 201, up.text
        url = gateway.get(f"/evidence/v1/schools/{sid}/files/{up.json()['id']}/url", headers=admin)
        assert url.status_code == 200, url.text
        return {"school_id": sid, "url": url.json()["url"]}


def s3_client(suite: Stack, endpoint: str) -> Minio:
    """A client holding the suite's S3 keys, aimed at endpoint (the gateway, or S3 itself)."""
    creds = suite.credentials()
    return Minio(endpoint, access_key=creds.access_key, secret_key=creds.secret_key, secure=False,
                 region="us-east-1")


def presigned_listing(suite: Stack, host: str, prefix: str = "") -> str:
    """A presigned ListObjectsV2 of the bucket (the SDK presigns objects only, so sign it by hand)."""
    creds = suite.credentials()
    query = "list-type=2" + (f"&prefix={prefix}" if prefix else "")
    signed = presign_v4(method="GET", url=SplitResult("http", host, f"/{BUCKET}", query, ""), region="us-east-1",
                        credentials=Credentials(creds.access_key, creds.secret_key), date=datetime.now(UTC),
                        expires=300)
    return urlunsplit(signed)


def object_key(url: str) -> str:
    """The object key of a presigned URL."""
    return url.split(f"/{BUCKET}/", 1)[1].split("?", 1)[0]


def test_a_presigned_download_of_an_evidence_file_passes_the_gateway(suite: Stack, manual: dict[str, Any]) -> None:
    got = httpx.get(manual["url"], timeout=10)
    assert got.status_code == 200 and got.content == CONTENT
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]  # never runs as a page of the suite
    head = s3_client(suite, suite.gateway_url.removeprefix("http://")).get_presigned_url(
        "HEAD", BUCKET, object_key(manual["url"]))
    assert httpx.head(head, timeout=10).headers["content-length"] == str(len(CONTENT))


def test_the_gateway_refuses_every_other_signed_s3_request(suite: Stack, manual: dict[str, Any]) -> None:
    gateway_host = suite.gateway_url.removeprefix("http://")
    via_gateway = s3_client(suite, gateway_host)
    key = object_key(manual["url"])
    # The same signed listing works straight against S3: only the gateway stands in the way.
    listed = httpx.get(presigned_listing(suite, f"127.0.0.1:{suite.ports['s3']}"), timeout=10)
    assert listed.status_code == 200 and key in listed.text
    school_prefix = f"schools/{manual['school_id']}/"
    refused = {
        "presigned ListObjectsV2": presigned_listing(suite, gateway_host),
        "presigned ListObjectsV2 of a school": presigned_listing(suite, gateway_host, school_prefix),
        "presigned GET of a school's folder": via_gateway.presigned_get_object(
            BUCKET, school_prefix, extra_query_params={"list-type": "2"}),
        "presigned object tags": via_gateway.presigned_get_object(BUCKET, key, extra_query_params={"tagging": ""}),
        "presigned object ACL": via_gateway.presigned_get_object(BUCKET, key, extra_query_params={"acl": ""}),
        "presigned key outside a school": via_gateway.presigned_get_object(BUCKET, "secrets/keys.json"),
        "presigned PUT": via_gateway.presigned_put_object(BUCKET, key, expires=timedelta(minutes=5)),
    }
    for what, url in refused.items():
        method = "PUT" if "PUT" in what else "GET"
        r = httpx.request(method, url, content=b"x" if method == "PUT" else None, timeout=10)
        assert r.status_code == 403 and "ListBucketResult" not in r.text, f"{what}: {r.status_code}"
    for header_signed in (lambda: list(via_gateway.list_objects(BUCKET, recursive=True)),  # as SDKs sign
                          lambda: via_gateway.stat_object(BUCKET, key)):
        with pytest.raises((S3Error, InvalidResponseError)) as refusal:
            header_signed()
        # the keys are valid, so only the gateway can have said no (403; minio names a bodiless one AccessDenied)
        assert "403" in str(refusal.value) or "AccessDenied" in str(refusal.value)
    assert httpx.get(manual["url"], timeout=10).status_code == 200  # the real download still works


def test_every_request_gets_a_fresh_request_id_that_the_service_takes(gateway: httpx.Client) -> None:
    first = gateway.get("/exams/v1/does-not-exist", headers={"X-Request-ID": "chosen-by-client"})
    second = gateway.get("/exams/v1/does-not-exist")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    # the service's correlation id (in its logs and problem details) is the gateway's request id
    assert first.json()["correlation_id"] == ids[0] and second.json()["correlation_id"] == ids[1]
    # a caller's own correlation id is kept, and the request id still travels beside it
    own = gateway.get("/exams/v1/does-not-exist", headers={"X-Correlation-ID": "school-system-42"})
    assert own.json()["correlation_id"] == "school-system-42" and own.headers["x-request-id"]


@pytest.fixture
def strict_gateway(suite: Stack, tmp_path: Path) -> Iterator[str]:
    """A second gateway in front of the same services with tiny rate limits, so no other test is slowed."""
    upstreams = {n: f"http://127.0.0.1:{suite.ports[n]}" for n in SERVICES}
    port = servers.free_port()
    limits = {"GATEWAY_SIGN_IN_PER_MINUTE": "2", "GATEWAY_SIGN_IN_BURST": "2",
              "GATEWAY_TOKEN_PER_SECOND": "1", "GATEWAY_TOKEN_BURST": "3"}
    running: Running = start(servers.gateway(port, upstreams, limits), tmp_path)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while httpx.get(f"{url}/identity/healthz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    yield url
    running.stop()


def test_sign_in_is_limited_per_address_with_retry_after(strict_gateway: str) -> None:
    attempts = [httpx.post(f"{strict_gateway}/identity/v1/auth/login", timeout=10,
                           json={"email": "nobody@demo-roc.example", "password": "wrong-password"})
                for _ in range(4)]
    assert [r.status_code for r in attempts[:2]] == [401, 401]
    limited = attempts[-1]
    assert limited.status_code == 429 and "x-retry-in" in limited.headers  # the gateway's, not identity's
    assert int(limited.headers["retry-after"]) >= 1
    reset = httpx.post(f"{strict_gateway}/identity/v1/auth/password-reset", json={"email": "x@demo-roc.example"})
    assert reset.status_code == 429  # password reset shares the sign-in limit of this address
    assert httpx.get(f"{strict_gateway}/identity/healthz").status_code == 200  # other routes are not limited


def test_each_token_has_its_own_ceiling(strict_gateway: str) -> None:
    burst = [httpx.get(f"{strict_gateway}/enrollment/v1/schools/sch_x/students",
                       headers={"Authorization": "Bearer token-a"}) for _ in range(6)]
    limited = [r for r in burst if r.status_code == 429]
    assert limited and int(limited[0].headers["retry-after"]) >= 1
    other = httpx.get(f"{strict_gateway}/enrollment/v1/schools/sch_x/students",
                      headers={"Authorization": "Bearer token-b"})
    assert other.status_code == 401  # another token is not held back by the first one's ceiling


def raw_exchange(url: str, head: bytes, body: bytes = b"", wait_s: float = 5.0) -> bytes:
    """Send raw request bytes; return what arrives before wait_s passes or the connection closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait_s) as sock:
        sock.sendall(head)
        first = sock.recv(65536)
        if body and first.startswith(b"HTTP/1.1 100"):
            sock.sendall(body)
            first += sock.recv(65536)
        return first


def test_an_oversized_body_is_refused_through_the_gateway_before_it_is_sent(suite: Stack) -> None:
    head = (b"POST /identity/v1/auth/login HTTP/1.1\r\nHost: suite\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\nExpect: 100-continue\r\n\r\n")
    started = time.monotonic()
    answer = raw_exchange(suite.gateway_url, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3  # from the headers alone: not one body byte was sent
    body = b'{"email": "nobody@demo-roc.example", "password": "wrong-password"}'
    small = raw_exchange(suite.gateway_url, head.replace(b"50000000", str(len(body)).encode()), body)
    assert small.startswith(b"HTTP/1.1 100 Continue") and b"HTTP/1.1 401" in small
