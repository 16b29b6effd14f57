"""What every benchmark needs: throwaway Mongo and Kafka stand-ins, and latency percentiles."""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kit.local import servers
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
        mongo_port, kafka_port = servers.free_port(), servers.free_port()
        mongo = start(servers.mongo(mongo_port, base / "mongo", durable=durable()), base)
        try:
            kafka = start(servers.kafka(kafka_port, base / "kafka"), base)
            try:
                yield Backbone(base, servers.mongo_uri(mongo_port), f"127.0.0.1:{kafka_port}")
            finally:
                kafka.stop()
        finally:
            mongo.stop()


def percentiles(samples_ms: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of latency samples."""
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]
