"""Static consumer-group membership: a worker that restarts takes its own place in the group back at once.

Without it, a worker killed with SIGKILL leaves a member behind that the broker only drops after the
session timeout, and a broker that never drops it (the local stand-in) keeps the group waiting for it
forever. With a stable `group.instance.id`, the restarted worker replaces its old member directly.

The id is the setting KAFKA_GROUP_INSTANCE_ID when given (e.g. a pod name), else the host name plus a
slot number: the lowest slot whose lock file this process can hold. A process that dies loses its locks,
so its restart gets the same slot back, while two live workers on one host never share an id.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import tempfile
from pathlib import Path
from typing import IO

MAX_SLOTS = 64


class InstanceSlot:
    """This process's hold on one member id of a group; release() frees it for the next runner."""

    def __init__(self, instance_id: str, lock: IO[bytes] | None = None, path: Path | None = None) -> None:
        self.instance_id = instance_id
        self._lock = lock
        self._path = path

    def release(self) -> None:
        """Give the slot up and remove its lock file (a process that dies gives it up too)."""
        if self._lock is not None and self._path is not None:
            self._path.unlink(missing_ok=True)  # while still holding it: see _hold
            self._lock.close()
            self._lock = None


def claim_instance(group: str, bootstrap: str, configured: str = "") -> InstanceSlot:
    """The group instance id for a consumer of `group` on the broker at `bootstrap`."""
    if configured:
        return InstanceSlot(f"{configured}-{group}"[:240])
    host = socket.gethostname()
    tag = hashlib.sha256(f"{bootstrap}|{group}".encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "kit-consumer-slots"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return InstanceSlot(f"{host}-{group}"[:240])  # no writable temp folder: one worker per host
    for slot in range(1, MAX_SLOTS + 1):
        path = folder / f"{tag}-{slot}.lock"
        try:
            lock = _hold(path)
        except OSError:
            return InstanceSlot(f"{host}-{group}"[:240])
        if lock is not None:
            return InstanceSlot(f"{host}-{slot}-{group}"[:240], lock, path)
    raise RuntimeError(f"more than {MAX_SLOTS} consumers of one group on this host")


def _hold(path: Path) -> IO[bytes] | None:
    """An exclusive lock on the file at path, or None when another holder has it."""
    while True:
        lock = path.open("ab")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return lock
        lock.close()  # its holder removed the file meanwhile: lock the file now at path instead
