"""One throwaway suite whose processes the fault tests stop, kill and restart; and the guards every test runs under.

After each test every process of the suite runs again (restarted if the test died half-way), the logs the
test produced hold nothing personal, and no process the test started is left behind; at the end of the
session every process ever started is gone.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from pymongo import MongoClient

from kit.local import demo
from kit.local.processes import stop_together
from kit.local.servers import SERVICES, Running, Server
from kit.local.stack import Stack
from kit.testing.fixtures import start
from kit.testing.kafka import read_topic
from kit.testing.readiness import wait_ready

WAIT_READY_S = 180.0


@dataclass
class Suite:
    """A running suite: every process by name, restartable, and everything a test needs to reach it."""

    stack: Stack
    logs: Path
    servers: dict[str, Server]
    running: dict[str, Running] = field(default_factory=dict)
    pids: set[int] = field(default_factory=set)  # every process ever started, to prove none is left
    personal: set[str] = field(default_factory=set)  # values no log line may contain
    school: dict[str, Any] = field(default_factory=dict)

    @property
    def kafka(self) -> str:
        """The broker's bootstrap address."""
        return f"127.0.0.1:{self.stack.ports['kafka']}"

    def url(self, service: str) -> str:
        """A service api reached directly, bypassing the gateway."""
        return f"http://127.0.0.1:{self.stack.ports[service]}"

    def start(self, name: str, server: Server | None = None) -> Running:
        """Start (or restart) a process and wait until it listens."""
        if server is not None:
            self.servers[name] = server
        running = start(self.servers[name], self.logs, timeout_s=WAIT_READY_S)
        self.running[name] = running
        self.pids.add(running.proc.pid)
        return running

    def is_up(self, name: str) -> bool:
        """True while the named process runs."""
        return name in self.running and self.running[name].proc.poll() is None

    def stop(self, name: str) -> None:
        """Stop a process the way an operator would (SIGTERM, SIGKILL after 10 s)."""
        self.running.pop(name).stop()

    def kill(self, name: str) -> None:
        """SIGKILL a process, as a crash would."""
        self.running.pop(name).kill()

    def pause(self, name: str) -> None:
        """Freeze a process (SIGSTOP) without letting it notice."""
        os.killpg(self.running[name].proc.pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        """Let a frozen process go on (SIGCONT)."""
        os.killpg(self.running[name].proc.pid, signal.SIGCONT)

    def mongo(self) -> MongoClient[dict[str, Any]]:
        """A direct client of the Mongo stand-in, for counting what the services stored."""
        return MongoClient(f"mongodb://127.0.0.1:{self.stack.ports['mongo']}/?replicaSet=secantus"
                           "&retryWrites=false", serverSelectionTimeoutMS=5000)

    def headers(self, email: str) -> dict[str, str]:
        """Bearer headers of a demo account, logged in through the gateway."""
        with httpx.Client(base_url=self.stack.gateway_url, timeout=30) as http:
            r = http.post("/identity/v1/auth/login", json={"email": email, "password": self.school["password"]})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def wait_ready(self, services: tuple[str, ...] = SERVICES, timeout_s: float = WAIT_READY_S) -> None:
        """Wait until every named service answers /readyz 200 through the gateway."""
        wait_ready(self.stack.gateway_url, services, timeout_s)

    def log_sizes(self) -> dict[Path, int]:
        """How far each log file has grown, to read only what a test adds."""
        return {p: p.stat().st_size for p in self.logs.glob("*.log")}

    def personal_leaks(self, since: dict[Path, int]) -> list[str]:
        """Log lines written since `since` that contain a personal value."""
        if not self.personal:
            return []
        pattern = re.compile("|".join(re.escape(v) for v in sorted(self.personal)), re.IGNORECASE)
        leaks = []
        for path in self.logs.glob("*.log"):
            with path.open("rb") as f:
                f.seek(since.get(path, 0))
                for line in f.read().decode(errors="replace").splitlines():
                    if pattern.search(line):
                        leaks.append(f"{path.name}: {line[:300]}")
        return leaks

    def restore(self) -> list[str]:
        """Start again whatever a test left stopped or frozen; the names of what had to be restored."""
        restored = []
        for name in self.servers:
            if self.is_up(name):
                proc = psutil.Process(self.running[name].proc.pid)
                if proc.status() == psutil.STATUS_STOPPED:
                    self.resume(name)
                    restored.append(name)
                continue
            if name in self.running:
                self.running.pop(name).stop()
            self.start(name)
            restored.append(name)
        return restored

    def stray_processes(self, before: set[int]) -> list[str]:
        """Processes started since `before` was taken that the suite does not know of (a helper a test forgot).

        Processes that were already running (other test packages' session servers) are not the test's.
        """
        mine = {pid for r in self.running.values() for pid in _tree(r.proc.pid)}
        return [f"{p.pid} {' '.join(p.cmdline()[:4])}" for p in psutil.Process().children(recursive=True)
                if p.pid not in mine | before and p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    def report(self, test: str, **counts: Any) -> None:
        """Print what a fault test counted, one line, so a run's output tells the story."""
        print(f"\n[{test}] " + " ".join(f"{k}={v}" for k, v in counts.items()), flush=True)

    def events(self, topic: str, subjects: set[str]) -> list[dict[str, Any]]:
        """Every record on a topic (duplicates included) whose envelope is about one of subjects."""
        records = asyncio.run(read_topic(self.kafka, topic, count=10**9, timeout_s=3.0))
        envelopes = []
        for record in records:
            try:
                envelopes.append(json.loads(record.value))
            except ValueError:
                continue  # a poison record another test wrote: not an event of anyone
        return [e for e in envelopes if isinstance(e, dict) and e.get("subject") in subjects]

    def new_student(self, http: httpx.Client, headers: dict[str, str], tag: str,
                    prefix: str = "/enrollment") -> httpx.Response:
        """Create a student with made-up personal data (which the log check then looks for)."""
        code = f"{tag}{uuid.uuid4().int % 10**8:08d}"
        first, last = f"Fem{code}", f"Foutvogel{code}"
        email = f"fem.{code}@faults.example"
        self.personal.update({f"{first} {last}", email, last})
        return http.post(f"{prefix}/v1/schools/{self.school['school_id']}/students", headers=headers, json={
            "student_code": code, "first_name": first, "last_name": last, "email": email, "invite": False})

    def handled_by_identity(self, student_ids: set[str]) -> dict[str, int]:
        """Per student, how many identity memberships its StudentCreated event made (1 = handled once)."""
        with self.mongo() as client:
            rows = client["identity"]["memberships"].find(
                {"school_id": self.school["school_id"], "student_id": {"$in": sorted(student_ids)}},
                {"student_id": 1})
            counts: dict[str, int] = {}
            for row in rows:
                counts[row["student_id"]] = counts.get(row["student_id"], 0) + 1
        return counts

    def wait_handled(self, student_ids: set[str], timeout_s: float) -> tuple[dict[str, int], float]:
        """Wait until identity applied every student's event; what it applied and how long the wait took."""
        started = time.monotonic()
        handled: dict[str, int] = {}
        while time.monotonic() - started < timeout_s:
            handled = self.handled_by_identity(student_ids)
            if len(handled) == len(student_ids):
                break
            time.sleep(0.5)
        return handled, time.monotonic() - started

    def stop_all(self) -> None:
        """Stop every process, the gateway and services before the servers they need."""
        # By role, not by start order: a test restarts the broker or Mongo, and a service stopped after them
        # waits out its whole grace period for a server that is gone.
        infrastructure = {server.name for server in self.stack.infrastructure()}
        services = [name for name in self.running if name not in infrastructure]
        for stage in (services, [name for name in self.running if name in infrastructure]):
            stop_together([self.running.pop(name) for name in stage])


def _tree(pid: int) -> set[int]:
    try:
        proc = psutil.Process(pid)
        return {pid, *(c.pid for c in proc.children(recursive=True))}
    except psutil.NoSuchProcess:
        return set()


def alive(pids: set[int]) -> list[int]:
    """The pids that still belong to a living (not zombie) process."""
    living = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                living.append(pid)
        except psutil.NoSuchProcess:
            pass
    return living


# Tests that may leave a part of the suite unusable for a while (today: a consumer group whose dead member the
# local broker never expires) run after the others; the fuzzer, which only calls the APIs, runs last.
LAST = ("test_a_consumer_killed_mid_handler", "test_every_operation_answers_as_documented")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the fault tests so that one fault's after-effects cannot fail another test."""
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if here in Path(str(item.path)).parents]
    ours = [items[i] for i in slots]
    ranked = sorted(ours, key=lambda item: next((n for n, name in enumerate(LAST) if item.name.startswith(name)), -1))
    for slot, item in zip(slots, ranked, strict=True):
        items[slot] = item


@pytest.fixture(scope="session")
def suite() -> Iterator[Suite]:
    """The whole suite on throwaway ports, with the demo school made through its public APIs."""
    # Not pytest's tmp_path: that keeps only the newest runs, and a parallel pytest would delete live data.
    with tempfile.TemporaryDirectory(prefix="faults-suite-") as tmp:
        yield from _running_suite(Path(tmp))


def _running_suite(data: Path) -> Iterator[Suite]:
    stack = Stack.throwaway(data)
    the_suite = Suite(stack, data / "logs", {s.name: s for s in stack.all()})
    try:
        for name in the_suite.servers:
            the_suite.start(name)
        the_suite.wait_ready()
        the_suite.school = demo.seed(stack)
        the_suite.personal.update(account for account in the_suite.school["accounts"])
        the_suite.personal.update(name for _, name, _ in demo.STAFF)
        the_suite.personal.update(f"{first} {last}" for _, first, last in demo.STUDENTS)
        yield the_suite
    finally:
        the_suite.stop_all()
        left = alive(the_suite.pids)
        for pid in left:
            os.killpg(pid, signal.SIGKILL)
        assert not left, f"processes left behind after the fault suite: {left}"


@pytest.fixture(autouse=True)
def guarded(suite: Suite) -> Iterator[None]:
    """Every fault test: nothing personal in the logs it produced; afterwards the suite whole and nothing stray."""
    since = suite.log_sizes()
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    stray = suite.stray_processes(before)
    for line in stray:
        os.kill(int(line.split()[0]), signal.SIGKILL)
    restored = suite.restore()
    if restored:
        suite.wait_ready()
    leaks = suite.personal_leaks(since)
    assert not stray, f"processes left behind: {stray}"
    assert not leaks, "personal data in the logs:\n" + "\n".join(leaks[:20])
