"""An idle suite rests: CPU used by every service process (each api and worker) over 60 s of nothing to do.

Starts the whole suite on throwaway ports, makes the demo school through the public APIs (so every consumer
has joined its group and every topic exists), lets it settle, then measures the CPU time all api and worker
processes use together while nobody calls them. The stand-in servers and the gateway are left out.
Last line: idle_cpu_percent=<x>  (percent of one core; budget <= 5)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite import running_suite

from kit.local import demo

SETTLE_S = 15.0
IDLE_S = 60.0


def main() -> None:
    """Run the suite idle and print the CPU its services used."""
    with running_suite("bench-idle-") as suite:
        demo.seed(suite.stack)
        time.sleep(SETTLE_S)
        procs = suite.service_processes()
        before = {name: sum(p.cpu_times()[:2]) for name, p in procs.items()}
        started = time.monotonic()
        time.sleep(IDLE_S)
        elapsed = time.monotonic() - started
        used = {name: sum(p.cpu_times()[:2]) - before[name] for name, p in procs.items()}
    for name, seconds in sorted(used.items(), key=lambda kv: -kv[1]):
        print(f"{name:24s} {100 * seconds / elapsed:6.2f} %")
    print(f"idle_cpu_percent={100 * sum(used.values()) / elapsed:.2f}")


if __name__ == "__main__":
    main()
