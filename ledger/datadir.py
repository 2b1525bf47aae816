"""The data directory: one service per directory, enforced with an OS lock.

The lock is an ``flock`` on ``<data dir>/.lock``, released by the kernel when
the holding process exits, however it exits, so a crash never leaves a stale
lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class DataDirInUseError(Exception):
    """Another process holds the data directory."""


class DataDirLock:
    """An exclusive lock on a data directory for the life of this process."""

    def __init__(self, path: Path) -> None:
        """Prepare to lock ``path`` (created if missing)."""
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``DataDirInUseError`` naming the holder."""
        self.path.mkdir(parents=True, exist_ok=True)
        lock_file = self.path / ".lock"
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DataDirInUseError(
                f"data directory {self.path} is in use by another tongban process "
                f"(pid {holder}); stop it, or set TONGBAN_DATA_DIR to another directory"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        """Release the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        """Acquire the lock."""
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Release the lock."""
        self.release()
