"""A whole throwaway suite for the suite-wide benchmarks: every server, api, worker and the gateway.

Ports are free ones and data lives in a temporary folder, so a benchmark runs beside `make up`. Every process
is stopped when the block ends, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

from kit.local.servers import SERVICES, Running
from kit.local.stack import Stack
from kit.testing.bench import throwaway
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


@contextmanager
def running_suite(prefix: str) -> Iterator[RunningSuite]:
    """Start the suite, wait until every service is ready through the gateway; stop everything afterwards."""
    with throwaway(prefix) as bench:
        processes = {server.name: bench.start(server) for server in bench.stack.all()}
        wait_ready(bench.stack.gateway_url, SERVICES)
        yield RunningSuite(bench.stack, processes)
