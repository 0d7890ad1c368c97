"""An arXiv paper's LaTeX e-print to a Document, read in a sandboxed child process.

The child (`python -m macaw.documents.latexchild`, run by `macaw.documents.sandbox`) unpacks
the e-print into a fresh folder inside the episode folder, under a CPU and wall-clock limit,
an address-space limit and a cap on the size of any file it writes; the folder is removed
afterwards whatever happened. Every way an e-print can be unusable ends as `LatexSourceError`
with one line saying why, so the extract stage can fall back to the PDF.

As with the PDF, arXiv's metadata is the authority for title, authors, date and abstract;
the source gives the sections, the captions, and the abstract when the metadata has none.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from macaw.artifacts import Author, Document, Section, Source
from macaw.documents.latexsource import Caps
from macaw.documents.sandbox import run_child
from macaw.errors import ExtractError

# The files arXiv's e-print endpoint gives, as fetch stores them.
EPRINT_FILES = ("source.tar.gz", "source.tex.gz", "source.tar", "source.tex")


class LatexSourceError(ExtractError):
    """The e-print cannot be read as LaTeX; `kind` says why (pdf, damaged, limit, unsafe, no_tex, no_text)."""

    def __init__(self, message: str, kind: str = "damaged", *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.kind = kind


def eprint_file(folder: Path, source: Source) -> Path | None:
    """The stored e-print of an arXiv source, if fetch found one."""
    names = [*source.extra_files, (source.metadata or {}).get("eprint", {}).get("file", "")]
    for name in names:
        if name in EPRINT_FILES and (folder / name).is_file():
            return folder / name
    return None


def run_latex(eprint: Path, folder: Path, *, caps: Caps = Caps(), timeout_s: float = 30, memory_mb: int = 1024) -> dict[str, Any]:
    """The child's answer for `eprint`, unpacked inside `folder`; raises LatexSourceError."""
    eprint = Path(eprint)
    if not eprint.is_file():
        raise LatexSourceError(f"{eprint.name}: file not found", "damaged")
    for stale in Path(folder).glob(".latex-*"):  # left by a build that was killed mid-way
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".latex-", dir=folder))
    try:
        request = {"eprint": str(eprint.resolve()), "workdir": str(work.resolve()), "caps": asdict(caps)}
        try:
            answer = run_child("macaw.documents.latexchild", request, name=eprint.name, what="the LaTeX source",
                               timeout_s=timeout_s, memory_mb=memory_mb, fsize_bytes=caps.unpacked_bytes)
        except ExtractError as exc:
            raise LatexSourceError(exc.message, "limit", hint=exc.hint) from None
        if not answer.get("ok"):
            kind = str(answer.get("error", "damaged"))
            raise LatexSourceError(f"{eprint.name} {answer.get('message', 'cannot be read')}", kind)
        return answer
    finally:
        shutil.rmtree(work, ignore_errors=True)


def extract_document(eprint: Path, folder: Path, source: Source, **limits: Any) -> Document:
    answer = run_latex(eprint, folder, **limits)
    return to_document(answer, source)


def to_document(answer: dict[str, Any], source: Source) -> Document:
    found = answer["document"]
    meta: dict[str, Any] = source.metadata or {}
    title = source.title or found.get("title", "")
    authors = [Author(a.name, a.affiliation) for a in source.authors]
    abstract = " ".join(str(meta.get("abstract") or "").split()) or found.get("abstract", "")
    sections = [Section(s["heading"], s["text"], level=int(s.get("level", 1)), appendix=bool(s.get("appendix")))
                for s in found.get("sections", []) if s.get("text")]
    return Document(title=title, authors=authors, abstract=abstract, date=source.date, sections=sections,
                    captions=list(found.get("captions", [])), code=list(found.get("code", [])), origin_format="latex")
