"""The suite as people reach it: five services behind one gateway."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kit.local import demo
from kit.local.processes import alive
from kit.local.servers import SERVICES, S3Ports, free_ports
from kit.local.stack import DEFAULT_PORTS, Stack

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_ready_and_documented_through_the_gateway(gateway: httpx.Client, service: str) -> None:
    ready = gateway.get(f"/{service}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["service"] == service
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
        names = [name for name in DEFAULT_PORTS if name != "gateway" and not name.startswith("s3")]
        picked = free_ports(len(names), avoid={port})
        env.update({f"MBO_PORT_{name.upper()}": str(value) for name, value in zip(names, picked, strict=True)})
        s3 = S3Ports.free(avoid={port, *picked})
        for name, value in (("s3", s3.s3), ("s3_master", s3.master), ("s3_volume", s3.volume),
                            ("s3_filer", s3.filer), ("s3_admin", s3.admin)):
            env[f"MBO_PORT_{name.upper()}"] = str(value)
        result = subprocess.run([sys.executable, "-m", "kit.local.up"], env=env, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode == 1
    assert f"{port} (gateway)" in result.stderr and "already in use" in result.stderr
    assert not (tmp_path / "run" / "up.pid").exists()


def test_the_demo_accounts_log_in_as_make_up_says(suite: Stack, gateway: httpx.Client,
                                                  school: dict[str, Any]) -> None:
    printed = demo.describe(school)
    password = re.search(r"password (\S+)$", printed[0])
    assert password
    accounts = [line.strip() for line in printed[1:]]
    assert len(accounts) == 8 and f"admin@{demo.DOMAIN}" in accounts
    for account in accounts:
        r = gateway.post("/identity/v1/auth/login", json={"email": account, "password": password.group(1)})
        assert r.status_code == 200, (account, r.text)


def test_the_demo_school_has_an_exam_to_prepare_assignments_for(gateway: httpx.Client,
                                                                 school: dict[str, Any]) -> None:
    r = gateway.post("/identity/v1/auth/login", json={"email": f"begeleider@{demo.DOMAIN}",
                                                      "password": school["password"]})
    supervisor = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = gateway.get(f"/exams/v1/schools/{school['school_id']}/exams", headers=supervisor)
    assert r.status_code == 200, r.text
    assert demo.EXAM["code"] in [e["code"] for e in r.json()]


def throwaway_env(data_dir: Path) -> dict[str, str]:
    """The environment of a `make up` on free ports and its own data folder."""
    stack = Stack.throwaway(data_dir)
    env = {**os.environ, "MBO_DATA_DIR": str(data_dir)}
    env.update({f"MBO_PORT_{name.upper()}": str(port) for name, port in stack.ports.items()})
    return env


class Output:
    """The lines a process prints, collected by a thread so a test can wait for one."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)

    def wait_for(self, found: Callable[[list[str]], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not found(self.lines):
            assert time.monotonic() < deadline, f"no {what} within {timeout_s}s:\n{''.join(self.lines[-40:])}"
            time.sleep(0.2)

    def pids(self, name: str) -> list[int]:
        return [int(m.group(1)) for line in self.lines if (m := re.search(rf" started {name} \(pid (\d+)\)", line))]

    def stopped(self) -> list[str]:
        return [m.group(1) for line in self.lines if (m := re.search(r"\| stopped (\S+)$", line.rstrip()))]


def test_make_up_restarts_a_crashed_process_and_stops_cleanly_in_reverse_order(tmp_path: Path) -> None:
    env = throwaway_env(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "kit.local.up"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = Output(proc)
    try:
        out.wait_for(lambda lines: any("all services ready" in line for line in lines), 240, "ready line")
        (worker,) = out.pids("identity-worker")
        os.kill(worker, signal.SIGKILL)
        out.wait_for(lambda _: len(out.pids("identity-worker")) == 2, 30, "restart of identity-worker")
        assert any("identity-worker exited with code -9" in line and "restarting in" in line for line in out.lines)
        gateway = f"http://127.0.0.1:{env['MBO_PORT_GATEWAY']}"
        for name in SERVICES:  # the rest of the suite never went down
            assert httpx.get(f"{gateway}/{name}/readyz", timeout=10).status_code == 200
        assert alive(out.pids("identity-worker")[-1])

        started = time.monotonic()
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(60) == 0
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not [line for line in out.lines if "did not stop" in line], "a process needed SIGKILL"
    assert took < 30, f"stopping took {took:.1f}s"
    order = out.stopped()
    apis = [order.index(f"{n}-api") for n in SERVICES]
    workers = [order.index(f"{n}-worker") for n in SERVICES]
    servers_ = [order.index(n) for n in ("kafka", "mongo", "s3", "smtp")]
    assert order[0] == "gateway" and max(apis) < min(workers) and max(workers) < min(servers_), order
    every_pid = [int(p) for p in re.findall(r"\(pid (\d+)\)", "".join(out.lines))]
    assert not [pid for pid in every_pid if alive(pid)]
