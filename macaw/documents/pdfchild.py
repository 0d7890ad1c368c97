"""The sandboxed half of PDF extraction: runs as `python -m macaw.documents.pdfchild` in a child process.

It imports pypdf, then reads one request (JSON on stdin), opens the PDF with pypdf, collects
positioned text fragments (the pages shared out to forked readers, one per core: `read_pages`),
runs the layout analysis and writes one JSON answer on stdout. The parent
(`macaw.documents.pdf`) sets the time and memory limits, so a hostile file can at worst kill this
process. Answers: {"ok": true, ...} or {"ok": false, "error": <kind>, "message": ...} where
kind is not_pdf | encrypted | damaged | limit | no_text.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import signal
import sys
from pathlib import Path
from typing import Any

MIN_CHARS_PER_PAGE = 20  # below this on average, the pages are images: a scan


class _Warnings(logging.Handler):
    """pypdf recovers from some damage with only a log warning; we want to know about loops."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < 100:
            self.messages.append(record.getMessage())

    def circular(self) -> bool:
        return any("ircular" in m or "cyclic" in m for m in self.messages)

    def too_deep(self) -> bool:
        # pypdf's words when reading an object ran out of stack (RecursionError) or memory: it
        # keeps what it read so far and carries on, so a page can lose its resources and look
        # like it has no text layer.
        return any("Error reading PDF file" in m for m in self.messages)


WARNINGS = _Warnings()


class Refusal(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def _check_bytes(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(1024)
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 2048))
        tail = fh.read()
    if b"%PDF-" not in head:
        raise Refusal("not_pdf", "is not a PDF (no %PDF- header)")
    if b"%%EOF" not in tail:
        raise Refusal("damaged", "is truncated (no end-of-file marker); download it again")


def _mult(m: list[float], n: list[float]) -> list[float]:
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


_IDENTITY = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def _form_matrix(resources: Any, name: Any) -> tuple[list[float], Any] | None:
    """A form XObject's /Matrix and its resources (its own, else the caller's), or None (an image, a bad name)."""
    try:
        xobject = resources["/XObject"][name].get_object()
        if xobject.get("/Subtype") != "/Form":
            return None
        matrix = [float(v) for v in xobject.get("/Matrix", _IDENTITY)]
        return (matrix if len(matrix) == 6 else list(_IDENTITY)), xobject.get("/Resources", resources)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _page_fragments(page: Any) -> list[list[Any]]:
    """Each piece of text pypdf reports, placed on the page: [x, y, size, text, font, upright].

    pypdf reads a form XObject (an imported figure is one) in the form's own space, from the
    identity, so a figure's labels came back at the page's bottom left, on body lines ("subprograms
    areInput_2: Ignore"). The form's /Matrix and the page's transformation at its `Do` put them where
    they are drawn. pypdf flushes the page's pending text after reporting `Do` and before the form's
    first operator, so a form's placement applies from that first operator on."""
    frags: list[list[Any]] = []
    placed: list[list[float]] = [list(_IDENTITY)]  # user space of the content now read -> page space
    resources: list[Any] = [page.get("/Resources")]
    opened: list[list[float] | None] = []  # per `Do` being read: its placement, once inside; None for an image
    pending: list[Any] = []  # a `Do` just reported: (placement, resources), entered at the next operator

    def before(op: bytes, operands: Any, cm: Any, tm: Any) -> None:
        if pending:
            placement, inner = pending.pop()
            placed.append(placement)
            resources.append(inner)
            opened[-1] = placement
        if op == b"Do" and operands:
            form = _form_matrix(resources[-1], operands[0])
            opened.append(None)
            if form is not None:
                try:
                    at = _mult(form[0], _mult([float(v) for v in cm], placed[-1]))
                except (TypeError, ValueError):
                    return
                pending.append((at, form[1]))

    def after(op: bytes, operands: Any, cm: Any, tm: Any) -> None:
        if op == b"Do" and operands and opened:
            pending.clear()  # a form with no operators was never entered
            if opened.pop() is not None:
                placed.pop()
                resources.pop()

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if not text or not text.strip():
            return
        try:
            m = _mult(_mult([float(v) for v in tm], [float(v) for v in cm]), placed[-1])
            scale = math.hypot(m[2], m[3]) or 1.0
            upright = abs(m[1]) < 1e-3 and abs(m[2]) < 1e-3 and m[0] > 0 and m[3] > 0
            name = str(font.get("/BaseFont", "")) if font is not None else ""
        except (TypeError, ValueError, AttributeError):
            return
        effective = float(size or 0) * scale
        lines = [t for t in text.split("\n")]
        for i, line in enumerate(lines):
            if line.strip():
                frags.append([round(m[4], 2), round(m[5] - i * effective * 1.2, 2), round(effective, 2), line, name.lstrip("/"), upright])

    page.extract_text(visitor_text=visit, visitor_operand_before=before, visitor_operand_after=after)
    return frags


# A TJ array's gap counts as a word space from half the font's space width on, or 0.15 em when
# that is more. pypdf asks for 95% of the space, so a tightly justified line
# ("models,andespeciallyforretrieval-enhanced": gaps of 0.22 em in a font whose space is 0.278)
# came out as one word. Kerning and letter-spaced small capitals move by 0.1 em at most (0.062
# in "I N T R O D U C T I O N", in a font with no space glyph, whose space pypdf guesses small).
GAP_OF_SPACE = 0.5
GAP_FLOOR = 150  # thousandths of an em


def _looser_word_gaps() -> None:
    """pypdf's TJ word-gap test made looser as above, never stricter (in this process only)."""
    try:
        from pypdf._text_extraction._text_extractor import TextExtraction
    except ImportError:  # another pypdf layout: its own rule stands
        return
    original = getattr(TextExtraction, "process_tj_offset", None)
    if original is None or getattr(original, "_macaw", False):
        return

    def process_tj_offset(self: Any, offset: float, space_width: float) -> None:
        original(self, offset, min(space_width, max(space_width / 0.95 * GAP_OF_SPACE, GAP_FLOOR)))

    process_tj_offset._macaw = True  # type: ignore[attr-defined]
    TextExtraction.process_tj_offset = process_tj_offset  # type: ignore[method-assign]


def _info(reader: Any) -> dict[str, str]:
    try:
        meta = reader.metadata or {}
        out = {
            "title": str(meta.get("/Title") or ""),
            "author": str(meta.get("/Author") or ""),
            "subject": str(meta.get("/Subject") or ""),
            "keywords": str(meta.get("/Keywords") or ""),
            "creation_date": str(meta.get("/CreationDate") or ""),
        }
    except Exception:  # noqa: BLE001  - metadata is a nicety; a broken /Info must not stop extraction
        return {}
    return {k: v.strip() for k, v in out.items() if v and v.strip()}


def read(request: dict[str, Any]) -> dict[str, Any]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    from macaw.documents.pdflayout import analyse

    _looser_word_gaps()
    path = Path(request["path"])
    max_pages = int(request.get("max_pages", 1000))
    max_chars = int(request.get("max_chars", 5_000_000))
    _check_bytes(path)
    try:
        reader = PdfReader(path, strict=False)
        if WARNINGS.circular():
            # pypdf stops following the loop and carries on; a file built like that is not a
            # paper we want to guess at.
            raise Refusal("damaged", "is damaged (circular cross-reference chain)")
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError, PdfReadError, FileNotDecryptedError):
                opened = 0
            if not opened:
                raise Refusal("encrypted", "is encrypted with a password; decrypt it first (qpdf --decrypt)")
        count = len(reader.pages)
        if count == 0:
            raise Refusal("damaged", "has no pages")
        if count > max_pages:
            raise Refusal("limit", f"has {count} pages; the limit is {max_pages}")
        info = _info(reader)
        first = int(request.get("first_pages", 0))  # only the front pages (a local PDF's title and authors)
        wanted = list(range(min(first, count) if first > 0 else count))
        pages = read_pages(reader, wanted, max_chars, int(request.get("readers", 0)) or _cores())
    except Exception as exc:  # noqa: BLE001  - what pypdf raises on a bad file, worded; anything else goes on up
        refusal = _refusal(exc)
        if refusal is None or refusal is exc:
            raise
        raise refusal from None
    chars = sum(len(f[3].strip()) for p in pages for f in p["frags"])
    if chars < MIN_CHARS_PER_PAGE * len(pages):
        raise Refusal("no_text", "has no text layer; OCR is not supported")
    layout = analyse(pages, info)
    return {"ok": True, "pages": count, "info": info, "layout": layout.to_dict()}


# A page's text costs what pypdf's parse of its content costs; pages are read side by side in
# forked readers, one per core (up to MAX_READERS), from PARALLEL_FROM pages on. Each reader is a
# copy of this process after the file was opened and checked, with the same limits, in the same
# process group (the parent's kill takes them all); each sends back its pages' fragments.
PARALLEL_FROM = 4
MAX_READERS = 4


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _read_errors() -> tuple[type[BaseException], ...]:
    from pypdf.errors import PdfReadError, PdfStreamError

    return (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError, IndexError)


def _damaged(exc: BaseException) -> Refusal:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return Refusal("damaged", f"is damaged and cannot be read ({message[:120]})")


def _refusal(exc: BaseException) -> Refusal | None:
    """What a failure while reading the file says to the parent (None: not the file's doing)."""
    from pypdf.errors import LimitReachedError

    if isinstance(exc, Refusal):
        return exc
    if isinstance(exc, LimitReachedError):
        return Refusal("limit", f"has a stream too large to decompress safely ({exc})")
    if isinstance(exc, RecursionError):
        return Refusal("damaged", "is damaged (circular references)")
    if isinstance(exc, MemoryError) or isinstance(exc, OSError) and exc.errno == errno.ENOMEM:
        return Refusal("limit", "needs more memory than allowed")
    if isinstance(exc, (OSError, *_read_errors())):
        return _damaged(exc)
    return None


def _read_share(reader: Any, indices: list[int], max_chars: int) -> list[dict[str, Any]]:
    pages = []
    total = 0
    for index in indices:
        page = reader.pages[index]
        box = page.mediabox
        frags = _page_fragments(page)
        total += sum(len(f[3]) for f in frags)
        if total > max_chars:
            raise Refusal("limit", f"holds more than {max_chars} characters of text")
        pages.append({"width": float(box.width), "height": float(box.height), "frags": frags})
    if WARNINGS.too_deep():
        raise Refusal("limit", "nests objects more deeply than the reader allows (or needs more memory to read)")
    return pages


def _share_in_fork(reader: Any, indices: list[int], max_chars: int, out: int) -> None:
    """A forked reader: its pages, or what stopped it, down the pipe; it never returns."""
    import marshal

    code = 0
    try:
        try:
            answer: Any = ("ok", _read_share(reader, indices, max_chars))
        except Exception as exc:  # noqa: BLE001  - worded as read() words it; anything else: no answer
            refusal = _refusal(exc)
            if refusal is None:
                raise
            answer = ("refused", refusal.kind, refusal.message)
        data = marshal.dumps(answer)
        with os.fdopen(out, "wb") as pipe:
            pipe.write(data)
    except BaseException:  # noqa: BLE001  - nothing may unwind into the copy of the parent's stack
        code = 70
    os._exit(code)


def _content_bytes(page: Any) -> int:
    """The length of a page's content streams as stored (what pypdf will parse), 1 when unknown."""
    try:
        contents = page.get("/Contents")
        if contents is None:
            return 1
        contents = contents.get_object()
        streams = contents if isinstance(contents, list) else [contents]
        # pypdf keeps a stream's stored bytes (its /Length is dropped once read).
        return 1 + sum(len(getattr(s.get_object(), "_data", b"") or b"") for s in streams[:64])
    except Exception:  # noqa: BLE001  - a guess for sharing out work; the reading itself reports damage
        return 1


def _shares(reader: Any, wanted: list[int], readers: int) -> list[list[int]]:
    """`wanted` dealt out to `readers`, each page to the least loaded so far, largest first, by the
    size of its content (a page of references holds several times a figure page's text). Ties go
    to the forked readers (the last shares): the first reader also forks and gathers."""
    sizes = {i: _content_bytes(reader.pages[i]) for i in wanted}
    shares: list[list[int]] = [[] for _ in range(readers)]
    loads = [0] * readers
    for i in sorted(wanted, key=lambda i: -sizes[i]):
        k = min(range(readers), key=lambda k: (loads[k], -k))
        shares[k].append(i)
        loads[k] += sizes[i]
    return [sorted(share) for share in shares]


def read_pages(reader: Any, wanted: list[int], max_chars: int, readers: int) -> list[dict[str, Any]]:
    """The fragments of each page in `wanted`, in order, read by up to `readers` processes."""
    readers = max(1, min(readers, MAX_READERS, len(wanted) // 2))
    if readers == 1 or len(wanted) < PARALLEL_FROM or not hasattr(os, "fork"):
        return _read_share(reader, wanted, max_chars)
    import marshal

    shares = _shares(reader, wanted, readers)
    forks: list[tuple[int, int]] = []  # (pid, read end)
    for share in shares[1:]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _share_in_fork(reader, share, max_chars, w)
        os.close(w)
        forks.append((pid, r))
    read: dict[int, dict[str, Any]] = {}
    failure: Refusal | None = None
    try:
        for index, page in zip(shares[0], _read_share(reader, shares[0], max_chars)):
            read[index] = page
    except Refusal as exc:
        failure = exc
    except BaseException:
        # This reader's own pages failed some other way (read() words it): the others are stopped
        # first, so none outlives the answer holding the parent's pipes open.
        for pid, r in forks:
            os.kill(pid, signal.SIGKILL)
            os.close(r)
            os.waitpid(pid, 0)
        raise
    for (pid, r), share in zip(forks, shares[1:]):
        with os.fdopen(r, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        try:
            answer = marshal.loads(data) if data else None
        except (EOFError, ValueError, TypeError):
            answer = None
        if failure is not None:
            continue
        if answer is None or not isinstance(answer, tuple) or not answer:
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
                failure = Refusal("limit", "needs more time than allowed")
            else:
                failure = Refusal("limit", "needs more memory than allowed (a page reader stopped)")
        elif answer[0] == "refused":
            failure = Refusal(answer[1], answer[2])
        else:
            read.update(zip(share, answer[1]))
    if failure is not None:
        raise failure
    if sum(len(f[3]) for p in read.values() for f in p["frags"]) > max_chars:
        raise Refusal("limit", f"holds more than {max_chars} characters of text")
    return [read[i] for i in wanted]


def main() -> int:
    # pypdf reports oddities through logging; we keep them to ourselves (the parent reads one
    # JSON line) and look at them for signs of damage.
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.addHandler(WARNINGS)
    pypdf_log.setLevel(logging.WARNING)
    pypdf_log.propagate = False
    sys.setrecursionlimit(5000)
    try:
        # The libraries first, the request after: a child started ahead of its request (a spare,
        # macaw.documents.sandbox) is ready when the request comes.
        import pypdf  # noqa: F401

        import macaw.documents.pdflayout  # noqa: F401

        _looser_word_gaps()
        request = json.loads(sys.stdin.read())
        answer = read(request)
    except Refusal as exc:
        answer = {"ok": False, "error": exc.kind, "message": exc.message}
    except MemoryError:
        answer = {"ok": False, "error": "limit", "message": "needs more memory than allowed"}
    except (ImportError, SystemError):
        # Under the address-space limit a C extension can fail to map, or the interpreter fail
        # inside an allocation: that is memory, not the PDF.
        answer = {"ok": False, "error": "limit", "message": "needs more memory than allowed (a library could not be loaded)"}
    except RecursionError:
        answer = {"ok": False, "error": "damaged", "message": "is damaged (circular references)"}
    except Exception as exc:  # noqa: BLE001  - any other failure is one line for the parent
        answer = {"ok": False, "error": "damaged", "message": f"cannot be read ({type(exc).__name__}: {str(exc)[:120]})"}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    code = main()
    # Out at once: the interpreter's orderly shutdown (every module's objects freed) cost 20 ms,
    # a sixth of a short paper's whole reading. The answer is written and flushed.
    sys.stderr.flush()
    os._exit(code)
