"""An episode folder as bytes, and back into the output root in one step.

When a Ray worker cannot see the output root, the folder it built travels to the driver as
an uncompressed tar (audio does not compress). The driver unpacks it into a staging folder
beside `episodes/` (same filesystem), fsyncs every file, then puts it in place with one
rename: a reader sees the old folder or the new one, never half of one. Replacing an existing
folder uses Linux's renameat2(RENAME_EXCHANGE) where there is one; elsewhere two renames,
with the old folder kept in staging until the new one is in place (recover() puts it back
after a crash between the two).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from macaw.errors import PublishError

STAGING = ".macaw-staging"  # in the output root, beside episodes/
MAX_BYTES = 2 << 30  # one episode folder: a 2 h narration is ~330 MB of WAV twice


def pack(folder: Path) -> bytes:
    """The folder's plain files (not its subfolders' scratch), as a tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def unpack(data: bytes, folder: Path) -> None:
    """Into an empty or new folder; members are checked by tarfile's data filter (no absolute
    paths, no .., no links out), every file fsynced."""
    if len(data) > MAX_BYTES:
        raise PublishError(f"an episode folder of {len(data) >> 20} MB came back from a worker, over the {MAX_BYTES >> 20} MB cap",
                           hint="check what the worker wrote into the episode folder")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
            tar.extractall(folder, filter="data")
    except tarfile.TarError as exc:
        raise PublishError(f"an episode folder that came back from a worker is damaged or unsafe: {exc}",
                           hint="the item is retried on a later night; see the worker's logs") from None
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())


def install(data: bytes, final: Path, root: Path) -> None:
    """Put the packed folder at `final` (episodes/<id>) atomically; `root` is the output root."""
    staging = root / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    recover(root)
    incoming = Path(tempfile.mkdtemp(prefix=f"in-{final.name}-", dir=staging))
    try:
        unpack(data, incoming)
        final.parent.mkdir(parents=True, exist_ok=True)
        if not final.exists():
            os.rename(incoming, final)
        elif _exchange(incoming, final):
            shutil.rmtree(incoming, ignore_errors=True)  # it holds the old folder now
        else:
            old = Path(tempfile.mkdtemp(prefix=f"old-{final.name}-", dir=staging))
            os.rmdir(old)
            os.rename(final, old)
            os.rename(incoming, final)
            shutil.rmtree(old, ignore_errors=True)
        _fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise


def recover(root: Path) -> None:
    """After a crash inside install(): an old folder whose replacement never arrived goes back;
    half-unpacked incoming folders are removed."""
    staging = root / STAGING
    if not staging.is_dir():
        return
    episodes = root / "episodes"
    for path in sorted(staging.iterdir()):
        kind, _, rest = path.name.partition("-")
        name = rest.rsplit("-", 1)[0]
        if kind == "old" and name and not (episodes / name).exists():
            os.rename(path, episodes / name)
        else:
            shutil.rmtree(path, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux >= 3.15 with glibc >= 2.28); False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
