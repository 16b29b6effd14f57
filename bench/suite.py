"""A whole throwaway suite for the suite-wide benchmarks: every server, api, worker and the gateway.

Ports are free ones and data lives in a temporary folder, so a benchmark runs beside `make up`. Every process
is stopped when the block ends, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import psutil

from kit.local.servers import SERVICES, Running
from kit.local.stack import Stack
from kit.testing.fixtures import start
from kit.testing.readiness import wait_ready


@dataclass
class RunningSuite:
    """The stack and its processes by name."""

    stack: Stack
    processes: dict[str, Running]

    def service_processes(self) -> dict[str, psutil.Process]:
        """Every api and worker process (the stand-in servers and the gateway left out)."""
        return {name: psutil.Process(r.proc.pid) for name, r in self.processes.items()
                if name.endswith(("-api", "-worker"))}


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def running_suite(prefix: str) -> Iterator[RunningSuite]:
    """Start the suite, wait until every service is ready through the gateway; stop everything afterwards."""
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        stack = Stack.throwaway(Path(tmp))
        processes: dict[str, Running] = {}
        try:
            for server in stack.all():
                processes[server.name] = start(server, Path(tmp) / "logs")
            wait_ready(stack.gateway_url, SERVICES)
            yield RunningSuite(stack, processes)
        finally:
            for running in reversed(processes.values()):
                running.stop()
            signal.signal(signal.SIGTERM, previous)
