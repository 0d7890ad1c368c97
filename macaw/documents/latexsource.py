"""An arXiv e-print's bytes to one LaTeX text: sniff, unpack within caps, find the main file, inline it.

Runs inside the sandboxed child (`macaw.documents.latexchild`), never in the build process.
An e-print is a gzipped tar, a single gzipped .tex, a plain tar or .tex, or a PDF (a
PDF-only submission); the bytes say which, not the name or the server's headers.

Unpacking is hostile-input work: every member is checked before anything is written (count,
declared sizes, names that stay inside the folder, regular files and directories only), then
extracted with tarfile's `data` filter, which refuses absolute paths, `..`, links and devices
a second time. A gzip is decompressed in bounded steps, so a bomb stops at the cap.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class Caps:
    compressed_bytes: int = 50 * 1024 * 1024
    unpacked_bytes: int = 200 * 1024 * 1024
    members: int = 2000
    tex_bytes: int = 8 * 1024 * 1024  # all the LaTeX of one paper, after \input is resolved
    inputs: int = 500  # \input / \include resolutions, loops included


class Refusal(Exception):
    """The e-print cannot be used; `kind` is one of: pdf, damaged, limit, unsafe, no_tex."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def sniff(head: bytes) -> str:
    """gzip | tar | pdf | tex | unknown, from the first bytes (of the decompressed stream for gzip)."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:5] == b"%PDF-" or b"%PDF-" in head[:1024] and not head.lstrip().startswith((b"\\", b"%")):
        return "pdf"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    text = head[:4096]
    if text and b"\x00" not in text and (b"\\" in text or text.lstrip().startswith(b"%")):
        return "tex"
    return "unknown"


class _Capped(io.RawIOBase):
    """A stream that refuses to give more than `cap` bytes: a gzip bomb stops at the cap."""

    def __init__(self, inner: io.BufferedIOBase, cap: int):
        self.inner = inner
        self.cap = cap
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        self.count += len(data)
        if self.count > self.cap:
            raise Refusal("limit", f"unpacks to more than {self.cap // (1024 * 1024)} MB")
        buffer[: len(data)] = data
        return len(data)


def _open(eprint: Path, gz: bool, cap: int) -> io.BufferedReader:
    raw: io.BufferedIOBase = gzip.GzipFile(eprint, "rb") if gz else open(eprint, "rb")  # type: ignore[assignment]
    return io.BufferedReader(_Capped(raw, cap), 1 << 16)


def unpack(eprint: Path, dest: Path, caps: Caps = Caps()) -> tuple[str, Path]:
    """Unpack `eprint` into `dest`; (format, main .tex file). format: tar.gz | tex.gz | tar | tex."""
    size = eprint.stat().st_size
    if size > caps.compressed_bytes:
        raise Refusal("limit", f"is {size} bytes; the limit is {caps.compressed_bytes}")
    with open(eprint, "rb") as fh:
        head = fh.read(4096)
    kind = sniff(head)
    if kind == "pdf":
        raise Refusal("pdf", "is a PDF (the authors sent no LaTeX)")
    if kind not in ("gzip", "tar", "tex"):
        raise Refusal("damaged", "is not a gzip, tar, LaTeX or PDF file")
    gz = kind == "gzip"
    try:
        if gz:
            with _open(eprint, True, caps.unpacked_bytes) as fh:
                head = fh.read(4096)
            kind = sniff(head)
            if kind == "pdf":
                raise Refusal("pdf", "is a PDF (the authors sent no LaTeX)")
            if kind == "unknown" and len(head) >= 512 and head[156:157] in (b"0", b"5", b"\0"):
                kind = "tar"  # an old tar without the ustar magic
        if kind == "tar":
            with _open(eprint, gz, caps.unpacked_bytes) as fh:
                _untar(fh, dest, caps)
            return ("tar.gz" if gz else "tar"), find_main(dest)
        if kind == "tex":
            with _open(eprint, gz, caps.tex_bytes) as fh:
                (dest / "main.tex").write_bytes(fh.read(caps.tex_bytes + 1))
            return ("tex.gz" if gz else "tex"), dest / "main.tex"
    except EOFError:
        raise Refusal("damaged", "is truncated (the gzip stream ends early); the download was cut short") from None
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise Refusal("damaged", f"is a damaged gzip stream ({type(exc).__name__}: {str(exc)[:80]})") from None
    raise Refusal("damaged", "holds neither a tar archive nor LaTeX")


def _untar(fileobj: io.BufferedReader, dest: Path, caps: Caps) -> None:
    """Members one at a time from a stream: each checked, then extracted with the `data` filter."""
    count = 0
    total = 0
    try:
        with tarfile.open(fileobj=fileobj, mode="r|") as tf:
            for member in tf:
                count += 1
                if count > caps.members:
                    raise Refusal("limit", f"has more than {caps.members} files")
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts or member.name.startswith(("/", "\\")):
                    raise Refusal("unsafe", f"has a member outside the folder ({member.name[:80]!r})")
                if not (member.isfile() or member.isdir()):
                    raise Refusal("unsafe", f"has a link or device member ({member.name[:80]!r})")
                total += max(0, member.size)
                if total > caps.unpacked_bytes:
                    raise Refusal("limit", f"unpacks to more than {caps.unpacked_bytes // (1024 * 1024)} MB")
                tf.extract(member, dest, filter="data")
    except tarfile.FilterError as exc:
        raise Refusal("unsafe", f"has an unsafe member ({exc})") from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno == 27:  # EFBIG: the file-size limit
            raise Refusal("limit", "has a file larger than allowed") from None
        if isinstance(exc, EOFError) or "unexpected end" in str(exc):
            raise Refusal("damaged", "is truncated (the archive ends early); the download was cut short") from None
        raise Refusal("damaged", f"is a damaged tar archive ({type(exc).__name__}: {str(exc)[:80]})") from None
    if count == 0:
        raise Refusal("damaged", "is an empty archive")


# ---------------------------------------------------------------- the main file and its \inputs

_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%[^\n]*(?:\n[ \t]*(?=\S))?")
_VERBATIM = re.compile(r"\\begin\{(verbatim|lstlisting|minted|comment)\}.*?\\end\{\1\}", re.S)
_INPUT = re.compile(r"\\(?:(input|include|subfile)(?![a-zA-Z@])\s*(?:\{([^{}]+)\}|([^\s{}\\]+))|(import|subimport|subfileinclude)\*?\s*\{([^{}]*)\}\s*\{([^{}]+)\})")


def read_tex(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def strip_comments(text: str) -> str:
    """Drop % comments as TeX does (a comment eats the line end and the next line's indent)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _VERBATIM.sub(lambda m: "" if m.group(1) == "comment" else m.group(0), text)
    out = []
    for part in re.split(r"(\\begin\{(?:verbatim|lstlisting|minted)\}.*?\\end\{(?:verbatim|lstlisting|minted)\})", text, flags=re.S):
        if part.startswith("\\begin{"):
            out.append(part)
        else:
            out.append(_COMMENT.sub(lambda m: m.group(1), part))
    text = "".join(out)
    text = re.sub(r"\\iffalse\b.*?\\fi\b", "", text, flags=re.S)
    return text


def find_main(folder: Path) -> Path:
    """The file with \\documentclass and \\begin{document}; among several, the one that is no other's \\input."""
    candidates = []
    texs = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".tex", ".ltx", ""))
    for path in texs:
        if path.stat().st_size > 4 * 1024 * 1024:
            continue
        text = strip_comments(read_tex(path))
        if re.search(r"\\documentclass\b|\\documentstyle\b", text) and "\\begin{document}" in text:
            candidates.append((path, text))
    if not candidates:
        raise Refusal("no_tex", "has no main LaTeX file (\\documentclass and \\begin{document})")
    if len(candidates) == 1:
        return candidates[0][0]
    named = {p.stem.lower(): p for p, _ in candidates}
    for stem in ("main", "ms", "paper", "article"):
        if stem in named:
            return named[stem]
    # The largest document once its \inputs are counted: a standalone figure file is small.
    return max(candidates, key=lambda c: (len(_INPUT.findall(c[1])), len(c[1])))[0]


def inline(main: Path, root: Path, caps: Caps = Caps()) -> tuple[str, list[str]]:
    """The main file with every \\input/\\include replaced by the file's text, comments dropped.

    Returns (text, notes): a missing file or a loop is left out with a note; the total size
    and the number of inclusions are capped, so a loop always terminates.
    """
    notes: list[str] = []
    count = [0]
    size = [0]
    root = root.resolve()

    def resolve(name: str, here: Path) -> Path | None:
        name = name.strip().strip('"')
        for base in (here, root):
            for cand in (name, name + ".tex"):
                path = (base / cand).resolve()
                if path.is_file() and (path == root or root in path.parents):
                    return path
        return None

    def expand(path: Path, stack: tuple[Path, ...]) -> str:
        text = strip_comments(read_tex(path))
        size[0] += len(text)
        if size[0] > caps.tex_bytes:
            raise Refusal("limit", f"has more than {caps.tex_bytes // (1024 * 1024)} MB of LaTeX once its \\input files are read")

        def sub(m: re.Match[str]) -> str:
            command = m.group(1) or m.group(4)
            name = m.group(2) or m.group(3) or ""
            if m.group(4):
                name = m.group(5).rstrip("/") + "/" + m.group(6) if m.group(5) else m.group(6)
            if name.lower().endswith((".pdf", ".png", ".jpg", ".eps", ".pdf_tex", ".tikz", ".pgf")):
                return ""
            count[0] += 1
            if count[0] > caps.inputs:
                raise Refusal("limit", f"includes more than {caps.inputs} files (an \\input loop?)")
            target = resolve(name, path.parent)
            if target is None:
                notes.append(f"\\{command}{{{name}}}: no such file")
                return " "
            if target in stack:
                notes.append(f"\\{command}{{{name}}}: includes itself (a loop), left out")
                return " "
            body = expand(target, stack + (target,))
            return body + "\n"

        return _INPUT.sub(sub, text)

    main = main.resolve()
    return expand(main, (main,)), notes
