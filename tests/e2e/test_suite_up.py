"""The suite as people reach it: five services behind one gateway."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kit.local.servers import SERVICES, S3Ports, free_port
from kit.local.stack import DEFAULT_PORTS

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_ready_and_documented_through_the_gateway(gateway: httpx.Client, service: str) -> None:
    ready = gateway.get(f"/{service}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    spec = gateway.get(f"/{service}/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"].lower() == service
    docs = gateway.get(f"/{service}/docs")
    assert docs.status_code == 200
    assert f"/{service}/openapi.json" in docs.text  # the docs page finds its spec behind the prefix


def test_errors_through_the_gateway_are_problem_json(gateway: httpx.Client) -> None:
    r = gateway.get("/exams/v1/does-not-exist", headers={"X-Correlation-ID": "e2e-1"})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["correlation_id"] == "e2e-1"


def test_evidence_is_ready_only_with_its_bucket(gateway: httpx.Client) -> None:
    assert gateway.get("/evidence/readyz").json()["checks"]["s3"] == "ok"


def test_make_up_refuses_a_port_in_use_and_names_it(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "MBO_DATA_DIR": str(tmp_path), "MBO_PORT_GATEWAY": str(port)}
        for name in DEFAULT_PORTS:
            if name != "gateway":
                env[f"MBO_PORT_{name.upper()}"] = str(free_port())
        s3 = S3Ports.free()
        for name, value in (("s3", s3.s3), ("s3_master", s3.master), ("s3_volume", s3.volume),
                            ("s3_filer", s3.filer), ("s3_admin", s3.admin)):
            env[f"MBO_PORT_{name.upper()}"] = str(value)
        result = subprocess.run([sys.executable, "-m", "kit.local.up"], env=env, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode == 1
    assert f"{port} (gateway)" in result.stderr and "already in use" in result.stderr
    assert not (tmp_path / "run" / "up.pid").exists()
