"""Evidence journeys through the gateway: large message attachments, and downloads a browser never sniffs."""

import os

import httpx
import pytest

pytestmark = pytest.mark.e2e

FIVE_MB = b"%PDF-1.4\n" + os.urandom(5_000_000)


def signed_in(gateway: httpx.Client, email: str, password: str) -> dict[str, str]:
    answer = gateway.post("/identity/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_five_megabyte_message_attachment_passes_the_gateway_and_downloads_unsniffed(
    gateway: httpx.Client, school: dict
) -> None:
    student = signed_in(gateway, "jan.100001@student.demo-roc.example", school["password"])
    sid = school["school_id"]
    uploaded = gateway.post(f"/evidence/v1/schools/{sid}/message-attachments", params={"filename": "verslag mei.pdf"},
                            content=FIVE_MB, headers=student, timeout=120)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["size"] == len(FIVE_MB) and uploaded.json()["kind"] == "message_attachment"
    presigned = gateway.get(f"/evidence/v1/schools/{sid}/files/{uploaded.json()['id']}/url", headers=student)
    assert presigned.status_code == 200, presigned.text
    url = presigned.json()["url"]
    assert url.startswith(str(gateway.base_url).rstrip("/"))  # the browser reaches S3 through the gateway
    fetched = httpx.get(url, timeout=60)
    assert fetched.status_code == 200 and fetched.content == FIVE_MB
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert fetched.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''verslag%20mei.pdf" in fetched.headers["content-disposition"]
