"""`make up`: the whole suite in the foreground, supervised; `make down` stops one left running."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import httpx

from kit.local import demo
from kit.local.servers import SERVICES, port_in_use
from kit.local.stack import DEFAULT_PORTS, Stack
from kit.local.supervisor import Supervisor

DATA_DIR = Path(os.environ.get("MBO_DATA_DIR", ".data")).resolve()
PID_FILE = DATA_DIR / "run" / "up.pid"
READY_TIMEOUT_S = 60.0
GRACE_S = 10.0  # per stage; `make down` waits for the whole stop


def invalid_ports(stack: Stack) -> list[str]:
    """Ports that cannot work: out of range, or an S3 port whose gRPC twin (+10000) would be."""
    problems = []
    for name, port in stack.ports.items():
        limit = 55535 if name.startswith("s3") else 65535
        if not 1 <= port <= limit:
            problems.append(f"MBO_PORT_{name.upper()}={port} (must be 1-{limit})")
    return problems


def busy_ports(stack: Stack) -> list[str]:
    """The ports this stack needs that something else already listens on."""
    wanted = dict(stack.ports)
    # weed also binds each HTTP port + 10000 for gRPC.
    for name in [n for n in DEFAULT_PORTS if n.startswith("s3")]:
        wanted[f"{name} (gRPC)"] = stack.ports[name] + 10000
    return [f"{port} ({name})" for name, port in wanted.items() if port_in_use(port)]


def watch_ready(supervisor: Supervisor, stack: Stack, started: float) -> None:
    """Poll every service's /readyz through the gateway; print the URLs once all answer 200."""
    pending = set(SERVICES)
    deadline = started + READY_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{stack.gateway_url}/{name}/readyz").status_code == 200:
                        pending.discard(name)
            time.sleep(0.3)
    if pending:
        supervisor.printer.line("ready", f"not ready after {READY_TIMEOUT_S:.0f}s: "
                                         f"{', '.join(sorted(pending))} (see their lines above)")
        return
    lines = [f"web app       {stack.gateway_url}/   (sign in here)",
             f"all services ready in {time.monotonic() - started:.1f}s",
             f"gateway   {stack.gateway_url}"]
    lines += [f"{name:<13} docs {stack.gateway_url}/{name}/docs" for name in SERVICES]
    operator = stack.identity_secrets()
    lines += [f"mail sink     http://127.0.0.1:{stack.ports['smtp_http']}/messages",
              f"operator      {operator['OPERATOR_EMAIL']} / {operator['OPERATOR_PASSWORD']} (local only)",
              "a process that crashes is restarted; Ctrl-C stops everything (gateway, APIs, workers, servers)"]
    try:
        lines += demo.describe(demo.seed(stack))
    except Exception as exc:  # the suite runs without it; say why it is missing
        lines.append(f"demo school could not be made: {exc}")
    for line in lines:
        supervisor.printer.line("ready", line)


def up() -> int:
    """Start everything in the foreground; returns the exit code."""
    stack = Stack.from_env(DATA_DIR)
    invalid = invalid_ports(stack)
    if invalid:
        print(f"make up: invalid port setting: {', '.join(invalid)}", file=sys.stderr)
        return 1
    busy = busy_ports(stack)
    if busy:
        print(f"make up: port {', '.join(busy)} already in use; stop what uses it (`make down` stops "
              "a suite left running) or choose other ports with MBO_PORT_<NAME>=...", file=sys.stderr)
        return 1
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    PID_FILE.parent.mkdir(parents=True, exist_ok=True)
    PID_FILE.write_text(str(os.getpid()))
    supervisor = Supervisor(stack.stages(), grace_s=GRACE_S, ready_timeout_s=READY_TIMEOUT_S)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        supervisor.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()

    def on_started() -> None:
        threading.Thread(target=watch_ready, args=(supervisor, stack, started), daemon=True).start()

    try:
        return supervisor.run(on_started)
    finally:
        with contextlib.suppress(FileNotFoundError):
            PID_FILE.unlink()


def down() -> int:
    """Stop a suite started by `make up` elsewhere (e.g. in the background)."""
    try:
        pid = int(PID_FILE.read_text())
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        print("make down: no suite is running")
        PID_FILE.unlink(missing_ok=True)
        return 0
    for _ in range(600):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("make down: stopped")
            return 0
        time.sleep(0.1)
    print(f"make down: process {pid} did not stop within 60s", file=sys.stderr)
    return 1


def main() -> None:
    """Command line: no arguments starts the suite, --down stops it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--down", action="store_true", help="stop a running suite")
    args = parser.parse_args()
    sys.exit(down() if args.down else up())


if __name__ == "__main__":
    main()
