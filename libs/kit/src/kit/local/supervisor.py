"""Runs the suite's processes in stages: restarts a crashed one with back-off, stops all in reverse order.

Start order is servers, workers, APIs, gateway; stop order is its reverse, so nothing loses what it
depends on while it is still shutting down. Each process's output is printed as `time name | line`.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from kit.local.processes import Running, stop_together
from kit.local.servers import Server, port_in_use

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
STABLE_S = 60.0  # a process that ran this long before it died starts its back-off afresh


@dataclass
class Supervised:
    """One process under supervision: what to run, the running instance, and its restart state."""

    server: Server
    running: Running | None = None
    restarts: int = 0
    failures_in_a_row: int = 0
    restart_at: float | None = None
    reader: threading.Thread | None = field(default=None, repr=False)


class Printer:
    """Prints prefixed lines from many threads without interleaving them."""

    def __init__(self, out: IO[str], width: int) -> None:
        self.out = out
        self.width = width
        self.lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        """One line of output attributed to name."""
        with self.lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {text.rstrip()}\n")
            self.out.flush()


class Supervisor:
    """Starts stages of processes in order, keeps them running, and stops them in reverse order."""

    def __init__(self, stages: list[list[Server]], out: IO[str] | None = None, *, grace_s: float = 10.0,
                 ready_timeout_s: float = 60.0) -> None:
        self.stages = [[Supervised(server) for server in stage] for stage in stages]
        width = max(len(s.server.name) for stage in self.stages for s in stage)
        self.printer = Printer(out or sys.stdout, max(width, len("supervisor")))
        self.grace_s = grace_s
        self.ready_timeout_s = ready_timeout_s
        self.stopping = threading.Event()

    def say(self, text: str) -> None:
        """A line from the supervisor itself."""
        self.printer.line("supervisor", text)

    def start(self) -> bool:
        """Start every stage, each once the previous one is ready; False when one could not start."""
        for stage in self.stages:
            for item in stage:
                self._launch(item)
            for item in stage:
                if not self._wait_ready(item):
                    return False
        return True

    def request_stop(self) -> None:
        """Ask run() to stop everything (safe to call from a signal handler)."""
        self.stopping.set()

    def _wait_ready(self, item: Supervised) -> bool:
        running = item.running
        assert running is not None
        deadline = time.monotonic() + self.ready_timeout_s
        while not self.stopping.is_set():
            if running.proc.poll() is not None:
                self.say(f"{item.server.name} exited with code {running.proc.returncode} while starting "
                         "(see its lines above)")
                return False
            if item.server.port == 0 or port_in_use(item.server.port):
                return True
            if time.monotonic() > deadline:
                self.say(f"{item.server.name} not ready within {self.ready_timeout_s:.0f}s")
                return False
            time.sleep(0.1)
        return False

    def watch(self, poll_s: float = 0.2) -> None:
        """Restart processes that exit, with back-off, until stop is requested."""
        while not self.stopping.wait(poll_s):
            now = time.monotonic()
            for item in (i for stage in self.stages for i in stage):
                self._check(item, now)

    def stop(self) -> bool:
        """Stop the stages in reverse order; True when every process ended within the grace period."""
        self.stopping.set()
        clean = True
        for stage in reversed(self.stages):
            alive = [(i.server.name, i.running) for i in stage
                     if i.running is not None and i.running.proc.poll() is None]
            lingered = stop_together([running for _, running in alive], self.grace_s)
            for name, running in alive:
                if running in lingered:
                    clean = False
                    self.say(f"{name} did not stop within {self.grace_s:.0f}s; killed")
                else:
                    self.say(f"stopped {name}")
            for item in stage:
                if item.reader is not None:
                    item.reader.join(timeout=2)
        return clean

    def _launch(self, item: Supervised) -> None:
        running = Running(item.server, None, stdout=subprocess.PIPE)
        item.running = running
        item.reader = threading.Thread(target=self._relay, args=(item.server.name, running), daemon=True)
        item.reader.start()
        self.say(f"started {item.server.name} (pid {running.pid})")

    def _relay(self, name: str, running: Running) -> None:
        stream = running.proc.stdout
        assert stream is not None
        with contextlib.suppress(ValueError, OSError):
            for raw in iter(stream.readline, b""):
                self.printer.line(name, raw.decode("utf-8", errors="replace"))

    def _check(self, item: Supervised, now: float) -> None:
        running = item.running
        if item.restart_at is not None:
            if now >= item.restart_at and not self.stopping.is_set():
                item.restart_at = None
                item.restarts += 1
                self.say(f"restarting {item.server.name} (restart {item.restarts})")
                self._launch(item)
            return
        if running is None or (code := running.proc.poll()) is None:
            return
        ran_s = now - running.started_at
        item.failures_in_a_row = 1 if ran_s >= STABLE_S else item.failures_in_a_row + 1
        delay = BACKOFF_S[min(item.failures_in_a_row, len(BACKOFF_S)) - 1]
        running.stop(0)
        item.restart_at = now + delay
        self.say(f"{item.server.name} exited with code {code} after {ran_s:.1f}s; "
                 f"restarting in {delay:.0f}s")

    def run(self, on_started: Callable[[], None] | None = None) -> int:
        """Start, then watch until stop() is called from a signal handler; 0 when all went well."""
        started = self.start()
        interrupted = self.stopping.is_set()  # Ctrl-C while starting is no failure
        if started and on_started is not None:
            on_started()
        if started:
            self.watch()
        clean = self.stop()
        return 0 if (started or interrupted) and clean else 1
