"""The answers random fuzzing seldom reaches, checked against the OpenAPI: a whole tus upload and Range downloads.

A real resumable upload (discovery, creation, offset, a wrong offset, the last PATCH, a PATCH after completion)
and downloads of the result (whole, one range, an unsatisfiable range) go through the gateway; each answer is
validated by schemathesis against the evidence document: status listed, content type and body as documented.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.core.failures import Failure, FailureGroup

pytestmark = pytest.mark.timeout(180, func_only=True)  # the suite starting is bounded on its own

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
PAYLOAD = bytes(range(256)) * 4096 * 6  # 6 MiB: more than one S3 part


def test_tus_and_range_answers_are_all_documented(suite: Any) -> None:
    school = suite.school["school_id"]
    base = f"{suite.stack.gateway_url}/evidence"
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    admin = {**suite.headers("admin@demo-roc.example"), "Tus-Resumable": "1.0.0"}
    uploads = f"/v1/schools/{school}/uploads"
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    (("filename", "rooster.pdf"), ("roles", "student")))
    exchanges: list[tuple[str, str, httpx.Response]] = []
    with httpx.Client(base_url=base, timeout=60) as http:

        def call(method: str, template: str, url: str, **kwargs: Any) -> httpx.Response:
            response = http.request(method, url, **kwargs)
            exchanges.append((method, template, response))
            return response

        call("OPTIONS", "/v1/schools/{school_id}/uploads", uploads, headers=admin)
        created = call("POST", "/v1/schools/{school_id}/uploads", uploads, headers={
            **admin, "Upload-Length": str(len(PAYLOAD)), "Upload-Metadata": meta})
        assert created.status_code == 201, created.text
        upload = created.headers["Location"].removeprefix("/evidence")
        one = "/v1/schools/{school_id}/uploads/{upload_id}"
        patch = {**admin, "Content-Type": "application/offset+octet-stream"}
        half = len(PAYLOAD) // 2
        assert call("PATCH", one, upload, headers={**patch, "Upload-Offset": "0"},
                    content=PAYLOAD[:half]).status_code == 204
        assert call("HEAD", one, upload, headers=admin).headers["Upload-Offset"] == str(half)
        assert call("PATCH", one, upload, headers={**patch, "Upload-Offset": "0"},
                    content=PAYLOAD[:10]).status_code == 409
        assert call("PATCH", one, upload, headers={**admin, "Upload-Offset": str(half)},
                    content=PAYLOAD[half:]).status_code == 415
        done = call("PATCH", one, upload, headers={**patch, "Upload-Offset": str(half)}, content=PAYLOAD[half:])
        assert done.status_code == 204, done.text
        assert call("PATCH", one, upload, headers={**patch, "Upload-Offset": str(len(PAYLOAD))},
                    content=b"x").status_code in (404, 410)
        content = f"/v1/schools/{school}/files/{done.headers['X-File-Id']}/content"
        template = "/v1/schools/{school_id}/files/{file_id}/content"
        whole = call("GET", template, content, headers=admin)
        assert hashlib.sha256(whole.content).digest() == hashlib.sha256(PAYLOAD).digest()
        part = call("GET", template, content, headers={**admin, "Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == PAYLOAD[1000:2000]
        assert call("GET", template, content, headers={**admin, "Range": f"bytes={len(PAYLOAD)}-"}).status_code == 416

    problems = []
    for method, path, response in exchanges:
        operation = schema[path][method]
        case = operation.Case(path_parameters={name: "x" for name in re.findall(r"{(\w+)}", path)})
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, Failure, FailureGroup) as exc:
            found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
            problems += [f"{method} {path} -> {response.status_code}: {getattr(f, 'title', f)}" for f in found]
    suite.report("tus and Range against the OpenAPI", exchanges=len(exchanges),
                 statuses=sorted({r.status_code for _, _, r in exchanges}), undocumented=len(problems))
    assert not problems, "\n".join(problems)
