"""One writer per output root: an fcntl lock on `<out>/.macaw.lock`, held for a whole night or build.

The kernel drops the lock when the process dies (kill -9 included), so a crashed run never
leaves a stale lock behind. The file keeps the holder's pid and what it is doing, so the
message for a second run can say who holds it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path

from macaw.errors import LockHeldError

LOCK_NAME = ".macaw.lock"


class RootLock:
    def __init__(self, root: Path, purpose: str = "build"):
        self.path = Path(root) / LOCK_NAME
        self.purpose = purpose
        self.fd: int | None = None

    def acquire(self, wait_s: float = 0.0, poll_s: float = 0.2) -> "RootLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    holder = self.holder()
                    os.close(fd)
                    waited = f" after waiting {wait_s:g} s" if wait_s > 0 else ""
                    raise LockHeldError(
                        f"another Macaw run holds {self.path.parent}{waited}" + (f" ({holder})" if holder else ""),
                        hint="let it finish, or pass --wait SECONDS to wait for it",
                    ) from None
                time.sleep(poll_s)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {self.purpose}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
        self.fd = fd
        return self

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace").strip()[:200]
        except OSError:
            return ""

    def release(self) -> None:
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None

    def __enter__(self) -> "RootLock":
        if self.fd is None:
            self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def hold(root: Path, purpose: str = "build", wait_s: float = 0.0) -> RootLock:
    """The lock, taken (raises LockHeldError when another run keeps it past wait_s)."""
    return RootLock(root, purpose).acquire(wait_s)
