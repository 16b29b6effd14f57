"""Child processes that never outlive their parent, however the parent ends.

Every server, api or worker that `make up`, a test fixture or a benchmark starts is a `Running`. Three
layers make sure none is left behind:
- the child asks the kernel for SIGKILL when its parent dies (Linux `PR_SET_PDEATHSIG`), which covers
  a parent killed with SIGKILL;
- a SIGTERM handler (installed once, only where nobody else handles SIGTERM) stops every tracked child
  gracefully before the parent exits, which covers `timeout` and `kill`;
- an atexit hook stops whatever is still running at a normal or SIGINT (KeyboardInterrupt) exit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from kit.local.servers import Server

PR_SET_PDEATHSIG = 1
_tracked: dict[int, Running] = {}
_lock = threading.Lock()
_handlers_installed = False


def die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """A preexec function making the child get SIGKILL when its parent dies (Linux only; else None).

    The kernel ties this to the thread that forks, so it is only asked for from the main thread: a
    server started from a short-lived helper thread would otherwise die with that thread.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def alive(pid: int) -> bool:
    """True while a process with this id exists and is not a zombie (Linux reads its state)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        return not stat.read_text().split(") ", 1)[1].startswith("Z")
    return True


def stop_all(timeout_s: float = 10.0) -> None:
    """Stop every tracked child (SIGTERM, then SIGKILL after timeout_s)."""
    with _lock:
        running = list(_tracked.values())
    for proc in reversed(running):  # the last started (APIs, workers) before the servers they use
        with contextlib.suppress(Exception):
            proc.stop(timeout_s)


def stop_together(running: list[Running], timeout_s: float = 10.0) -> list[Running]:
    """SIGTERM every process at once, SIGKILL what lingers past one shared timeout; the ones that lingered."""
    # One at a time, a stage of stuck processes would cost timeout_s each instead of once.
    for proc in running:
        proc.terminate()
    deadline = time.monotonic() + timeout_s
    lingered = []
    for proc in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.proc.wait(max(0.0, deadline - time.monotonic()))
        if not proc.stop(0):  # kills whatever is left of its group, closes its log
            lingered.append(proc)
    return lingered


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    stop_all()
    # Exit as SIGTERM would have, so the caller (timeout, a shell) sees the usual status.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def install_exit_handlers() -> None:
    """Stop tracked children at exit and on SIGTERM (unless the program handles SIGTERM itself)."""
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(stop_all)
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) in (
            signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _on_sigterm)


class Running:
    """A started process in its own process group; stop() ends the whole group."""

    def __init__(self, server: Server, log_path: Path | None, *, stdout: int | IO[bytes] | None = None) -> None:
        self.server = server
        self.log_path = log_path
        self._log: IO[bytes] | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = log_path.open("ab")
        self.started_at = time.monotonic()
        install_exit_handlers()
        self.proc = subprocess.Popen(
            server.argv, stdout=self._log if self._log else stdout, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env={**os.environ, **server.env}, start_new_session=True,
            preexec_fn=die_with_parent(os.getpid()), cwd=server.cwd,
        )
        with _lock:
            _tracked[self.proc.pid] = self

    @property
    def pid(self) -> int:
        """The process id (also its process group id)."""
        return self.proc.pid

    def log_tail(self) -> str:
        """The end of its log, for error messages."""
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path else ""

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Block until the server's port accepts connections; raise with its log when it does not."""
        from kit.local.servers import port_in_use

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.server.name} exited: {self.log_tail()}")
            if self.server.port == 0 or port_in_use(self.server.port):
                return  # a process without a port (a worker) is ready once it runs
            time.sleep(0.1)
        raise TimeoutError(f"{self.server.name} not ready in {timeout_s}s: {self.log_tail()}")

    def terminate(self) -> None:
        """Send SIGTERM to the process group without waiting."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self, timeout_s: float = 10.0) -> bool:
        """SIGTERM the process group, SIGKILL it if it lingers; True when it ended without SIGKILL."""
        clean = True
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                clean = False
                self._killpg()
                self.proc.wait()
        self._forget()
        return clean

    def kill(self) -> None:
        """SIGKILL the process group at once, as a crash would."""
        self._killpg()
        self.proc.wait()
        self._forget()

    def _killpg(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def _forget(self) -> None:
        with _lock:
            _tracked.pop(self.proc.pid, None)
        if self._log:
            self._log.close()
