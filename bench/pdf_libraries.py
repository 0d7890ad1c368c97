"""Candidate PDF libraries measured on the real corpus, each as it comes, against Macaw's extraction.

Each library turns every paper in ../shared/corpus/papers into text (markdown where it writes
markdown); the text is measured with the same functions as bench/bench_papers.py: arXiv stamps,
reference-list sentences and table rows left in the text, the share of fragment sentences,
heading recall (markdown `#` lines, or for plain text a line that is the heading) and seconds.
Macaw's own row ("macaw") is pypdf with the structure rules of macaw/documents/.

The libraries are not Macaw's dependencies: run this from a separate environment that has them
(`pip install pdfplumber pymupdf4llm docling-parse opendataloader-pdf pypdf`; opendataloader-pdf
needs a Java runtime) with the repository on PYTHONPATH:

    PYTHONPATH=. /tmp/libvenv/bin/python bench/pdf_libraries.py [papers...]
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_papers import CORPUS, REFERENCE_ENTRY, corpus_folders, heading_key, is_fragment, is_table_row, sentences, stamp_patterns  # noqa: E402


def _pypdf(path: Path) -> str:
    from pypdf import PdfReader

    return "\n\n".join(p.extract_text() or "" for p in PdfReader(path).pages)


def _pdfplumber(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n\n".join(p.extract_text() or "" for p in pdf.pages)


def _pymupdf4llm(path: Path) -> str:
    import pymupdf4llm

    return pymupdf4llm.to_markdown(str(path), show_progress=False)


def _docling_parse(path: Path) -> str:
    from docling_core.types.doc.page import TextCellUnit
    from docling_parse.pdf_parser import DoclingPdfParser

    doc = DoclingPdfParser().load(path_or_stream=str(path))
    pages = []
    for _, page in doc.iterate_pages():
        pages.append("\n".join(cell.text for cell in page.iterate_cells(unit_type=TextCellUnit.LINE)))
    return "\n\n".join(pages)


def _opendataloader(path: Path) -> str:
    import opendataloader_pdf

    with tempfile.TemporaryDirectory() as out:
        opendataloader_pdf.convert(input_path=[str(path)], output_dir=out, format="markdown", quiet=True)
        files = list(Path(out).rglob("*.md"))
        return files[0].read_text(encoding="utf-8") if files else ""


def _macaw(path: Path) -> str:
    from macaw.artifacts import Source
    from macaw.documents.pdf import extract_document

    doc = extract_document(path, Source(kind="pdf", id="x", title="", raw_file=path.name))
    parts = [f"# {doc.title}", doc.abstract] + [f"# {s.heading}\n\n{s.text}" for s in doc.sections]
    return "\n\n".join(parts)


LIBRARIES: dict[str, Callable[[Path], str]] = {
    "macaw": _macaw,
    "pypdf": _pypdf,
    "pdfplumber": _pdfplumber,
    "pymupdf4llm": _pymupdf4llm,
    "docling-parse": _docling_parse,
    "opendataloader-pdf": _opendataloader,
}


def measure_text(text: str, facts: dict[str, Any]) -> dict[str, Any]:
    lines = [ln.strip() for ln in text.splitlines()]
    headings = [heading_key(ln.lstrip("#").strip().strip("*")) for ln in lines if ln.startswith("#")]
    plain = {heading_key(ln.strip("*")) for ln in lines if ln}
    reference = [h for h in (facts.get("section_headings") or facts.get("outline_headings") or []) if heading_key(h) not in ("references", "bibliography")]
    found = [h for h in reference if heading_key(h) in (headings or plain)]
    # Paragraphs: blank-line separated; a line break inside one is a space (as a reader would join it).
    body = "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if not p.lstrip().startswith("#"))
    sents = sentences(body)
    return {
        "stamps": sum(len(p.findall(text)) for p in stamp_patterns(facts)),
        "reference_entries": sum(bool(REFERENCE_ENTRY.search(s)) for s in sents),
        "table_rows": sum(is_table_row(s) for s in sents),
        "sentences": len(sents),
        "fragments": sum(is_fragment(s) for s in sents),
        "heading_recall": round(len(found) / len(reference), 3) if reference else None,
    }


def compare(names: list[str] | None = None, folders: list[Path] | None = None) -> dict[str, Any]:
    folders = folders or corpus_folders(CORPUS)
    out: dict[str, Any] = {}
    for name in names or list(LIBRARIES):
        rows = []
        for folder in folders:
            facts = json.loads((folder / "facts.json").read_text(encoding="utf-8"))
            started = time.perf_counter()
            try:
                text = LIBRARIES[name](folder / "paper.pdf")
            except Exception as exc:  # noqa: BLE001  - a library that fails on a paper is a figure
                rows.append({"paper": folder.name, "error": f"{type(exc).__name__}: {str(exc)[:100]}"})
                continue
            rows.append({"paper": folder.name, "seconds": round(time.perf_counter() - started, 2), **measure_text(text, facts)})
        ok = [r for r in rows if "error" not in r]
        recalls = [r["heading_recall"] for r in ok if r["heading_recall"] is not None]
        sents = sum(r["sentences"] for r in ok)
        out[name] = {
            "papers_ok": f"{len(ok)}/{len(rows)}",
            "stamps": sum(r["stamps"] for r in ok),
            "reference_entries": sum(r["reference_entries"] for r in ok),
            "table_rows": sum(r["table_rows"] for r in ok),
            "fragment_share": round(sum(r["fragments"] for r in ok) / sents, 4) if sents else None,
            "heading_recall_mean": round(sum(recalls) / len(recalls), 3) if recalls else None,
            "seconds_total": round(sum(r["seconds"] for r in ok), 1),
            "errors": [r for r in rows if "error" in r],
        }
        print(name, json.dumps(out[name], ensure_ascii=False), flush=True)
    return out


if __name__ == "__main__":
    compare(sys.argv[1:] or None)
