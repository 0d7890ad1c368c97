"""Extract: a fetched source -> a Document (title, authors, abstract, sections in reading order).

Journal entries are markdown or plain text and are parsed here. An arXiv paper is read from
its LaTeX source first (`macaw.documents.latex`: unpacked and parsed in a sandboxed child) and
from its PDF when the source is missing or cannot be used, with one line saying why
(`Document.fallback`); a local PDF goes through `macaw.documents.pdf`, which runs pypdf in a
child process with time and memory limits. `Document.origin_format` says which was used.
"""

from __future__ import annotations

import re
from pathlib import Path

from macaw.artifacts import Document, Section, Source
from macaw.errors import EmptySourceError, ExtractError
from macaw.stages.context import Stage, StageContext

STAGE = Stage(reads=("fetch",), artifact=Document, code=("macaw.documents", "macaw.sources.journal"))

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_EMPHASIS = re.compile(r"(?<![\w*])(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


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
            document = latex.extract_document(eprint, ctx.folder, source)
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
    from macaw.sources.journal import split_front_matter

    _, body = split_front_matter(raw, source.origin)
    body = _FENCE.sub("\n", body.replace("\r\n", "\n"))
    sections: list[Section] = []
    heading = ""
    paragraphs: list[str] = []

    def close() -> None:
        if paragraphs:
            sections.append(Section(heading=heading, text="\n\n".join(paragraphs)))

    blocks = [b for b in re.split(r"\n\s*\n", body) if b.strip()]
    for n, block in enumerate(blocks):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        first = lines[0].strip()
        marked = _HEADING.match(first)
        title_again = n == 0 and _clean(marked.group(2) if marked else first) == _clean(source.title)
        if title_again:
            lines = lines[1:]
            if not lines:
                continue
        elif marked or (len(lines) == 1 and _looks_like_heading(first)):
            close()
            heading = _clean(marked.group(2) if marked else first)
            paragraphs = []
            lines = lines[1:]
            if not lines:
                continue
        text = _paragraph(lines)
        if text:
            paragraphs.append(text)
    close()
    return Document(title=source.title, authors=source.authors, date=source.date, sections=sections)


def _looks_like_heading(line: str) -> bool:
    """Plain-text entries mark parts with short standalone lines: "Day 1", "Normalization"."""
    if _LIST_ITEM.match(line):
        return False
    return len(line) <= 60 and len(line.split()) <= 6 and not line.rstrip().endswith((".", "!", "?", ",", ";", ":", '"', "”"))


def _paragraph(lines: list[str]) -> str:
    if all(ln.lstrip().startswith("|") for ln in lines):
        return ""  # a table: nothing a listener can follow
    items: list[str] = []
    in_list = False
    for raw_line in lines:
        line = raw_line.strip().lstrip(">").strip()
        if _LIST_ITEM.match(line):
            items.append(_sentence(_clean(_LIST_ITEM.sub("", line))))
            in_list = True
        elif in_list and (raw_line[:1].isspace() or not items[-1].endswith((".", "!", "?", ":"))):  # a wrapped item
            items[-1] = _sentence(items[-1].rstrip(".") + " " + _clean(line))
        else:
            items.append(_clean(line))
            in_list = False
    return " ".join(i for i in items if i)


def _sentence(text: str) -> str:
    return text if not text or text.endswith((".", "!", "?", ":")) else text + "."


def _clean(text: str) -> str:
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = text.replace("`", "")
    return re.sub(r"\s+", " ", text).strip()
