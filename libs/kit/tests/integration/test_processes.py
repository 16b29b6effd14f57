"""Servers started by a benchmark or a test session never outlive it, however it ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kit.local.processes import alive

BENCH_PARENT = textwrap.dedent("""
    import json, time
    from kit.testing.bench import backbone
    with backbone("orphan-test-") as backing:
        from kit.local import processes
        print(json.dumps([p.pid for p in processes._tracked.values()]), flush=True)
        time.sleep(600)
""")

PYTEST_PARENT = textwrap.dedent("""
    import json, time
    pytest_plugins = ["kit.testing.fixtures"]

    def test_hold(mongo_server, kafka_server):
        print("PIDS " + json.dumps([mongo_server.running.pid, kafka_server.running.pid]), flush=True)
        time.sleep(600)
""")


def wait_gone(pids: list[int], timeout_s: float = 20.0) -> list[int]:
    """The pids still alive after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def end_and_check(parent: subprocess.Popen[str], pids: list[int], how: signal.Signals) -> None:
    """Send the parent a signal; none of its servers may be left; kill any that are (so nothing leaks)."""
    try:
        parent.send_signal(how)
        parent.wait(30)
        assert wait_gone(pids) == []
    finally:
        for pid in pids:
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)


def read_pids(parent: subprocess.Popen[str], marker: str = "") -> list[int]:
    """The server pids the parent prints once its servers are up."""
    assert parent.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = parent.stdout.readline()
        if not line:
            break
        if line.startswith(marker) and "[" in line:
            pids: list[int] = json.loads(line[len(marker):].strip())
            return pids
    parent.kill()
    raise AssertionError(f"the parent never reported its servers: {parent.stderr.read() if parent.stderr else ''}")


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_a_benchmark_ended_by_a_signal_leaves_no_server_running(how: signal.Signals) -> None:
    # As from a terminal: a job started in the background (make's recipes, CI runners) inherits SIGINT ignored.
    parent = subprocess.Popen([sys.executable, "-c", BENCH_PARENT], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible)
    pids = read_pids(parent)
    assert len(pids) == 2 and all(alive(p) for p in pids)  # Mongo-wire and Kafka-protocol servers
    end_and_check(parent, pids, how)


def test_a_pytest_session_ended_by_sigterm_leaves_no_server_running(tmp_path: Path) -> None:
    (tmp_path / "test_hold.py").write_text(PYTEST_PARENT)
    parent = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         "-c", os.devnull, str(tmp_path / "test_hold.py")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    pids = read_pids(parent, marker="PIDS ")
    assert len(pids) == 2
    end_and_check(parent, pids, signal.SIGTERM)
