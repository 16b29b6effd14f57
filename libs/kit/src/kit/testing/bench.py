"""What every benchmark needs: throwaway stand-ins or a throwaway suite, and latency percentiles."""

from __future__ import annotations

import os
import signal
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from kit.local import servers
from kit.local.servers import Running, Server
from kit.local.stack import Stack
from kit.testing.fixtures import start


@dataclass(frozen=True)
class Backbone:
    """Where a benchmark's servers listen, and the folder for their data and logs."""

    base: Path
    mongo_uri: str
    kafka_bootstrap: str


def durable() -> bool:
    """Benchmarks measure the servers as `make up` runs them (durable); MBO_BENCH_DURABLE=0 measures without."""
    return os.environ.get("MBO_BENCH_DURABLE", "1") != "0"


@contextmanager
def backbone(prefix: str) -> Iterator[Backbone]:
    """Mongo and Kafka on free ports with data in a temporary folder, stopped and removed afterwards.

    The processes die with the benchmark however it ends (kit.local.processes).
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        base = Path(tmp)
        mongo_port, kafka_port = servers.free_ports(2)
        started: list[Running] = []
        try:
            started.append(start(servers.mongo(mongo_port, base / "mongo", durable=durable()), base))
            started.append(start(servers.kafka(kafka_port, base / "kafka"), base))
            yield Backbone(base, servers.mongo_uri(mongo_port), f"127.0.0.1:{kafka_port}")
        finally:
            for proc in started:  # both at once: neither needs the other to stop cleanly
                proc.terminate()
            for proc in started:
                proc.stop()


@dataclass
class Throwaway:
    """A stack on free ports with its data in a temporary folder, and the processes started from it."""

    stack: Stack
    data: Path
    running: list[Running] = field(default_factory=list)

    def start(self, server: Server) -> Running:
        """Start one process (logs under the data folder); it is stopped when the block ends."""
        proc = start(server, self.data / "logs")
        self.running.append(proc)
        return proc


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def throwaway(prefix: str) -> Iterator[Throwaway]:
    """A throwaway stack: whatever is started through it is stopped, last first, however the block ends."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)  # SIGTERM runs the finally below, like Ctrl-C
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        bench = Throwaway(Stack.throwaway(Path(tmp)), Path(tmp))
        try:
            yield bench
        finally:
            for proc in reversed(bench.running):
                proc.stop()
            signal.signal(signal.SIGTERM, previous)


def percentiles(samples_ms: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of latency samples."""
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]
