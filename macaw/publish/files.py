"""Publish's file writes: a temp file that names its writer, then a rename; and the sweep of a dead writer's.

    write(path, data)                  # temp beside it, fsync, rename: a reader never sees half a file
    write(path, data, durable=False)   # the same without the fsync (pages rebuilt by every publish)
    sweep(folder, ...)                 # remove temp files whose writer is no longer running

A temp file is `.<name>.<pid>-<8 hex>.tmp`. A publish killed between writing one and renaming it
(kill -9, a power cut) leaves it behind; the next publish removes every such file whose pid is not
a live process, and never one a running writer (a `macaw publish` beside a build) still owns.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

TEMP_NAME = re.compile(r"^\..+\.(\d+)-[0-9a-f]{8}\.tmp$")


def temp_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def write(path: Path, data: bytes, *, durable: bool = True) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_for(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write(path, text.encode("utf-8"))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep(*folders: Path) -> list[str]:
    """Remove the temp files a dead writer left in these folders; return their names."""
    removed = []
    for folder in folders:
        try:
            candidates = list(Path(folder).glob(".*.tmp"))
        except OSError:
            continue
        for path in candidates:
            match = TEMP_NAME.match(path.name)
            if match and not _alive(int(match.group(1))):
                try:
                    path.unlink()
                    removed.append(path.name)
                except OSError:
                    pass
    return removed
