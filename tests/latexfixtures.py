"""LaTeX sources for the tests: the fixture papers in tests/fixtures/latex/ packed as arXiv sends
them, and hostile e-prints built on the spot (each small, each refused within the caps)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from pathlib import Path

LATEX_DIR = Path(__file__).parent / "fixtures" / "latex"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "papers"


def tar_gz(folder: Path) -> bytes:
    """A folder as a gzipped tar, members relative to it, as arXiv's e-print endpoint sends one."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tf.add(path, arcname=str(path.relative_to(folder)))
    return buf.getvalue()


def tar_of(files: dict[str, bytes], *, gz: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


MINIMAL = (b"\\documentclass{article}\n\\begin{document}\n\\section{Only}\nA short paper that says one thing.\n"
           b"\\end{document}\n")


def hostile() -> dict[str, bytes]:
    """name -> e-print bytes; every one must be refused (and the PDF used) within the limits."""
    good = tar_of({"main.tex": MINIMAL})
    out: dict[str, bytes] = {}
    out["truncated-tar"] = good[: len(good) // 2]
    out["dotdot-member"] = tar_of({"main.tex": MINIMAL, "../escaped.tex": b"outside"})
    out["absolute-member"] = tar_of({"main.tex": MINIMAL, "/tmp/macaw-escaped.tex": b"outside"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("main.tex")
        info.size = len(MINIMAL)
        tf.addfile(info, io.BytesIO(MINIMAL))
        link = tarfile.TarInfo("figures")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc"
        tf.addfile(link)
        hard = tarfile.TarInfo("passwd.tex")
        hard.type = tarfile.LNKTYPE
        hard.linkname = "../../../../etc/passwd"
        tf.addfile(hard)
    out["symlink-out"] = buf.getvalue()
    out["gzip-bomb-tar"] = bomb_tar()
    out["gzip-bomb-tex"] = bomb_tex()
    out["not-latex"] = gzip.compress(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    out["no-main-file"] = tar_of({"notes.txt": b"just some notes", "fig.tex": b"\\begin{tikzpicture}\\end{tikzpicture}"})
    return out


def _zeros_member(mb: int = 16) -> bytes:
    return gzip.compress(bytes(mb << 20), compresslevel=9)


def bomb_tar(total_gb: float = 1.1) -> bytes:
    """About 1 MB of gzip that unpacks to a 1.1 GB tar: one member of zeros (gzip members concatenated)."""
    size = int(total_gb * (1 << 30))
    info = tarfile.TarInfo("main.tex")
    info.size = size
    header = info.tobuf(format=tarfile.USTAR_FORMAT)
    zeros = _zeros_member()
    return gzip.compress(header) + zeros * (size // (16 << 20) + 1)


def bomb_tex(total_gb: float = 1.1) -> bytes:
    """A gzipped .tex that starts like LaTeX and goes on for 1.1 GB."""
    zeros = gzip.compress(b" " * (16 << 20), compresslevel=9)
    return gzip.compress(b"\\documentclass{article}\n\\begin{document}\n") + zeros * int(total_gb * 64 + 1)


def unpacked_size(data: bytes) -> int:
    """How many bytes `data` gunzips to, member by member; a member whose bytes repeat one already
    measured is counted without decompressing it again (a bomb is one member repeated)."""
    total = 0
    rest = data
    seen: dict[bytes, int] = {}
    while rest:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        size = len(d.decompress(rest, 1 << 24))
        while d.unconsumed_tail:
            size += len(d.decompress(d.unconsumed_tail, 1 << 24))
        member = rest[: len(rest) - len(d.unused_data)]
        if not d.eof:
            raise ValueError("truncated gzip member")
        seen[member] = size
        rest = d.unused_data
        while rest.startswith(member) and member:
            size_again = seen[member]
            total += size_again
            rest = rest[len(member):]
        total += size
    return total
