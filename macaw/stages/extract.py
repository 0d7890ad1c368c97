"""Extract: a fetched source -> a Document (title, authors, abstract, sections in reading order).

Journal entries are markdown or plain text, parsed by `macaw.documents.markdown`; papers go through
`macaw.documents.pdf`, which runs pypdf in a child process with time and memory limits.
"""

from __future__ import annotations

import re

from macaw.artifacts import Document, Section, Source
from macaw.errors import EmptySourceError, ExtractError
from macaw.stages.context import StageContext

VERSION = 2  # bump when the output for the same input changes; part of the cache key


def run(ctx: StageContext, source: Source) -> Document:
    path = ctx.folder / source.raw_file
    if source.kind == "journal":
        document = parse_journal(path.read_text(encoding="utf-8"), source)
    elif source.kind in ("arxiv", "pdf"):
        from macaw.documents.pdf import extract_document

        document = extract_document(path, source)
    else:
        raise ExtractError(f"no extractor for source kind {source.kind!r}")
    words = sum(len(s.text.split()) for s in document.sections)
    if words == 0:
        raise EmptySourceError(f"{source.origin or source.id} has no text to narrate", hint="check the input")
    ctx.log(f"{len(document.sections)} sections, {words} words")
    return document


def parse_journal(raw: str, source: Source) -> Document:
    """A journal entry's source.md -> a Document (macaw/documents/markdown.py decides what is read)."""
    from macaw.documents.markdown import extract
    from macaw.sources.journal import split_front_matter

    _, body = split_front_matter(raw, source.origin)
    kind = str(source.metadata.get("format") or ("text" if source.origin.lower().endswith((".txt", ".text")) else "markdown"))
    return extract(body, source, plain=kind == "text", origin_format="html" if kind == "html" else "markdown")
