"""Extract: a fetched source -> a Document (title, authors, abstract, sections in reading order).

Journal entries are markdown or plain text, parsed by `macaw.documents.markdown` (feed posts
turned into markdown by `macaw.documents.html`). An arXiv paper is read from
its LaTeX source first (`macaw.documents.latex`: unpacked and parsed in a sandboxed child) and
from its PDF when the source is missing or cannot be used, with one line saying why
(`Document.fallback`); a local PDF goes through `macaw.documents.pdf`, which runs pypdf in a
child process with time and memory limits. `Document.origin_format` says which was used.
"""

from __future__ import annotations

from pathlib import Path

from macaw.artifacts import Document, Source
from macaw.errors import EmptySourceError, ExtractError
from macaw.stages.context import Stage, StageContext

STAGE = Stage(reads=("fetch",), artifact=Document, code=("macaw.documents", "macaw.sources.journal"))
LATEX_TIMEOUT_S = 30.0  # wall-clock limit of the LaTeX child; past it the child is killed and the PDF read


def run(ctx: StageContext, source: Source) -> Document:
    path = ctx.folder / source.raw_file
    if source.kind == "journal":
        document = parse_journal(path.read_text(encoding="utf-8"), source)
    elif source.kind == "arxiv":
        document = _paper(ctx, source, path)
    elif source.kind == "pdf":
        from macaw.documents.pdf import extract_document

        document = extract_document(path, source)
        document.origin_format = "pdf"
    else:
        raise ExtractError(f"no extractor for source kind {source.kind!r}")
    words = sum(len(s.text.split()) for s in document.sections)
    if words == 0:
        raise EmptySourceError(f"{source.origin or source.id} has no text to narrate", hint="check the input")
    ctx.log(f"{len(document.sections)} sections, {words} words")
    return document


def _paper(ctx: StageContext, source: Source, pdf: Path) -> Document:
    """LaTeX first, the PDF as the fallback."""
    from macaw.documents import latex
    from macaw.documents.pdf import extract_document

    eprint = latex.eprint_file(ctx.folder, source)
    if eprint is not None:
        try:
            document = latex.extract_document(eprint, ctx.folder, source, timeout_s=LATEX_TIMEOUT_S)
            words = sum(len(s.text.split()) for s in document.sections if not s.appendix)
            if words:
                ctx.log(f"read from the LaTeX source ({eprint.name})")
                return document
            why = f"{eprint.name} has no text to narrate outside the appendices"
        except latex.LatexSourceError as exc:
            why = str(exc)
    else:
        record = (source.metadata or {}).get("eprint") or {}
        why = f"no LaTeX source ({record['note']})" if record.get("note") else "no LaTeX source was fetched"
    ctx.log(f"LaTeX source not used: {why}; reading the PDF")
    document = extract_document(pdf, source)
    document.origin_format = "pdf"
    document.fallback = why
    return document


def parse_journal(raw: str, source: Source) -> Document:
    """A journal entry's source.md -> a Document (macaw/documents/markdown.py decides what is read)."""
    from macaw.documents.markdown import extract
    from macaw.sources.journal import split_front_matter

    _, body = split_front_matter(raw, source.origin)
    kind = str(source.metadata.get("format") or ("text" if source.origin.lower().endswith((".txt", ".text")) else "markdown"))
    return extract(body, source, plain=kind == "text", origin_format="html" if kind == "html" else "markdown")
