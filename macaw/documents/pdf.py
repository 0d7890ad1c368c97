"""A paper's PDF to a Document a narrator can read, parsed in a child process with limits.

pypdf runs in `python -m macaw.documents.pdfchild` under an address-space limit and a wall-clock
timeout (`macaw.documents.sandbox`, shared with the LaTeX e-print reader), so a decompression bomb, a looping file or thousands of pages cost at most
`timeout_s` seconds and `memory_mb` of memory, and end as one clear error.

Metadata from arXiv (title, authors in order with their real spelling, abstract) wins over
what the PDF's text says; the PDF gives the sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from macaw.artifacts import Author, Document, Section, Source
from macaw.documents.sandbox import run_child
from macaw.errors import DamagedPdfError, EncryptedPdfError, ExtractError, NoTextLayerError, NotAPdfError, ResourceLimitError

DEFAULT_MAX_PAGES = 1000
DEFAULT_MAX_CHARS = 5_000_000


_ERRORS: dict[str, type[ExtractError]] = {
    "not_pdf": NotAPdfError,
    "encrypted": EncryptedPdfError,
    "damaged": DamagedPdfError,
    "limit": ResourceLimitError,
    "no_text": NoTextLayerError,
}


@dataclass
class Extraction:
    """What the child found: the layout plus facts about the file (pages, /Info, arXiv id)."""

    title: str
    authors: list[str]
    abstract: str
    sections: list[dict[str, Any]]
    arxiv_id: str
    pages: int
    info: dict[str, str]
    captions: list[str] = field(default_factory=list)


def run_extraction(
    pdf_path: Path,
    *,
    timeout_s: float = 30,
    memory_mb: int = 1024,
    max_pages: int = DEFAULT_MAX_PAGES,
    max_chars: int = DEFAULT_MAX_CHARS,
    first_pages: int = 0,
    then_whole: bool = False,
    readers: int = 0,
) -> Extraction:
    """`first_pages`: read only those (the page count is still the file's). `then_whole`: the whole
    file is read next (a local PDF's fetch, then extract), so a second child starts now and waits.
    `readers`: processes that read pages side by side (0: one per core, up to four)."""
    pdf_path = Path(pdf_path)
    name = pdf_path.name
    if not pdf_path.is_file():
        raise ExtractError(f"{pdf_path}: file not found", hint="fetch the source again")
    request = {"path": str(pdf_path.resolve()), "max_pages": max_pages, "max_chars": max_chars, "first_pages": first_pages, "readers": readers}
    answer = run_child("macaw.documents.pdfchild", request, name=name, what="the PDF", timeout_s=timeout_s, memory_mb=memory_mb, spare=then_whole)
    if not answer.get("ok"):
        kind = answer.get("error", "damaged")
        cls = _ERRORS.get(kind, ExtractError)
        hint = {"no_text": "use a PDF with selectable text", "not_pdf": "pass a PDF file"}.get(kind)
        raise cls(f"{name} {answer.get('message', 'cannot be read')}", hint=hint)
    layout = answer["layout"]
    return Extraction(
        title=layout.get("title", ""),
        authors=list(layout.get("authors", [])),
        abstract=layout.get("abstract", ""),
        sections=list(layout.get("sections", [])),
        arxiv_id=layout.get("arxiv_id", ""),
        pages=int(answer.get("pages", 0)),
        info=dict(answer.get("info", {})),
        captions=list(layout.get("captions", [])),
    )


def extract_document(
    pdf_path: Path,
    source: Source,
    *,
    timeout_s: float = 30,
    memory_mb: int = 1024,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Document:
    found = run_extraction(pdf_path, timeout_s=timeout_s, memory_mb=memory_mb, max_pages=max_pages)
    return to_document(found, source)


def to_document(found: Extraction, source: Source) -> Document:
    meta: dict[str, Any] = source.metadata or {}
    title = source.title or found.title or found.info.get("title", "")
    if source.authors:
        authors = [Author(a.name, a.affiliation) for a in source.authors]
    else:
        authors = [Author(name) for name in found.authors]
    abstract = " ".join(str(meta.get("abstract") or "").split()) or found.abstract
    sections = [Section(s["heading"], s["text"], int(s.get("level", 1)), bool(s.get("appendix", False))) for s in found.sections]
    return Document(
        title=title, authors=authors, abstract=abstract, date=source.date, sections=sections,
        captions=found.captions, origin_format="pdf",
    )
