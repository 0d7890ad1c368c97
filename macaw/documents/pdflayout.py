"""From positioned text fragments to a paper's title, authors, abstract and sections.

The input is what `pdfread` collected from pypdf: per page, fragments of text with their
baseline position, font size and font name. Everything here is plain Python over those
numbers, so it can be tested without a PDF and runs inside the sandboxed child as well.

The order of work: rows (fragments on one baseline) -> columns (a two-column page is read
left column then right, between full-width rows) -> lines with a role (heading, body,
caption, equation, table, furniture) -> paragraphs -> sections. What a listener must not hear
is dropped on the way: the arXiv side stamp, running headers and footers, page numbers,
footnotes and their markers, the author block, figure and table internals, display
equations, and the reference list.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from macaw.documents.textclean import clean_chars, hyphenated_words, join_lines

CHAR_WIDTH = 0.5  # average glyph width in ems, for estimating where a fragment ends

ARXIV_STAMP = re.compile(r"^arXiv:\s?(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?\s+\[[^\]]+\]\s+\d{1,2}\s+\w{3}\s+\d{4}$")
ARXIV_ID_IN_TEXT = re.compile(r"arXiv:\s?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)")
PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s+of\s+\d{1,4})?$", re.I)
CAPTION = re.compile(r"^(Figure|Fig\.|Table|Algorithm)\s+[A-Z]?\d+[.:]")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\{[\w.,\s-]+\}@[\w-]+(?:\.[\w-]+)+")
CITATION = re.compile(r"\s?\[\d+(?:\s?[,–-]\s?\d+)*\]")
EQ_NUMBER = re.compile(r"\(\d+[a-z]?\)\s*$")
MATH_CHARS = set("=+−×·∑∏∫√≤≥≈≠∞∂∇→←⊕⊗∈∀∃^_{}|/") | set("αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ")
MARKER = re.compile(r"^[\d,∗*†‡§¶⋆]{1,4}$")
NAMED_HEADINGS = {
    "abstract", "introduction", "background", "related work", "method", "methods", "model",
    "results", "experiments", "discussion", "conclusion", "conclusions", "acknowledgments",
    "acknowledgements", "acknowledgment", "acknowledgement", "references", "bibliography",
    "appendix", "evaluation", "limitations", "future work", "summary",
}
REFERENCE_HEADINGS = {"references", "bibliography", "literature cited", "works cited"}
NUMBERED = re.compile(r"^((?:\d+(?:\.\d+)*|[A-Z](?:\.\d+)*)\.?)\s+(\S.*)$")
AFFILIATION_WORDS = re.compile(
    r"\b(university|universit[äé]|institut|institute|department|dept\.|school|college|laborator|lab\b|"
    r"research|inc\.|corp|google|microsoft|facebook|meta|deepmind|openai|centre|center|faculty)",
    re.I,
)


@dataclass
class Frag:
    x: float
    y: float
    size: float
    text: str
    font: str = ""
    after_mark: bool = False  # a footnote or affiliation mark was removed just before it

    @property
    def bold(self) -> bool:
        return bool(re.search(r"bold|black|heavy|semibold|\.B\b|-B\b|CMBX", self.font, re.I))

    @property
    def end(self) -> float:
        return self.x + len(self.text) * self.size * CHAR_WIDTH


@dataclass
class Row:
    page: int
    y: float
    frags: list[Frag]
    role: str = "body"  # body | heading | caption | equation | table | furniture | small
    column: int = 0  # 0 full width / single, 1 left, 2 right

    @property
    def x(self) -> float:
        return self.frags[0].x

    @property
    def end(self) -> float:
        return max(f.end for f in self.frags)

    @property
    def size(self) -> float:
        # The size most of the characters have: a superscript does not make a row small.
        sizes = Counter()
        for f in self.frags:
            sizes[round(f.size, 1)] += len(f.text)
        return sizes.most_common(1)[0][0]

    @property
    def bold(self) -> bool:
        letters = [f for f in self.frags if f.text.strip()]
        return bool(letters) and all(f.bold for f in letters)

    @property
    def text(self) -> str:
        out = ""
        for f in self.frags:
            piece = f.text
            if out and not out.endswith((" ", "-")) and not piece.startswith(" "):
                gap = f.x - out_end
                if gap > f.size * 0.15:
                    out += " "
            out += piece
            out_end = f.end
        return re.sub(r"\s+", " ", out).strip()


@dataclass
class Layout:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    sections: list[dict[str, str]] = field(default_factory=list)
    arxiv_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "authors": self.authors,
            "abstract": self.abstract,
            "sections": self.sections,
            "arxiv_id": self.arxiv_id,
        }


# ---------------------------------------------------------------- rows and columns


def make_rows(page_index: int, frags: list[Frag]) -> list[Row]:
    """Group fragments sharing a baseline; sub- and superscripts join the row they sit on."""
    rows: list[Row] = []
    for f in sorted(frags, key=lambda f: (-f.y, f.x)):
        for row in reversed(rows[-4:]):
            near = min(abs(g.y - f.y) - 0.45 * max(f.size, g.size) for g in row.frags)
            if near <= 0 and not _overlaps(row, f):
                row.frags.append(f)
                break
        else:
            rows.append(Row(page_index, f.y, [f]))
    for row in rows:
        row.frags.sort(key=lambda f: f.x)
        # The row's baseline is its main text's, not a subscript's.
        main = max(row.frags, key=lambda f: (f.size, len(f.text)))
        row.y = main.y
    return rows


def _overlaps(row: Row, f: Frag) -> bool:
    return any(abs(g.x - f.x) < 0.5 and g.text == f.text for g in row.frags)


def split_columns(rows: list[Row], width: float) -> list[Row]:
    """Split rows that hold both columns, tag each row with its column, and order them."""
    mid = width / 2
    right_starts = [f.x for r in rows for f in r.frags if mid - 0.08 * width <= f.x <= mid + 0.15 * width and _starts_text(r, f)]
    two_column = len(right_starts) >= max(4, 0.2 * len(rows))
    if not two_column:
        for r in rows:
            r.column = 0
        return rows
    modes = Counter(round(x) for x in right_starts).most_common()
    split_x = min(x for x, n in modes if n >= max(2, modes[0][1] // 4)) - 1
    # The columns begin at the first row whose right part starts where the right column
    # starts; above it sits the title block, full width, even where a line of author names
    # happens to cross the middle of the page.
    def aligned(r: Row) -> bool:
        right = [f for f in r.frags if f.x >= split_x]
        return bool(right) and right[0].x - split_x <= 2.5 * right[0].size

    top = max((r.y for r in rows if aligned(r)), default=float("inf"))
    out: list[Row] = []
    for r in rows:
        left = [f for f in r.frags if f.x < split_x]
        right = [f for f in r.frags if f.x >= split_x]
        # Two columns side by side: the left part's last piece began well inside the left
        # column (a line of author names has pieces right up to the middle).
        apart = bool(left) and bool(right) and (aligned(r) or left[-1].x < split_x - 0.4 * (split_x - left[0].x) - 1)
        if r.y > top + 2 and not apart:
            r.column = 0
            out.append(r)
        elif apart:
            out.append(Row(r.page, r.y, left, column=1))
            out.append(Row(r.page, r.y, right, column=2))
        elif right:
            out.append(Row(r.page, r.y, right, column=2))
        else:
            full = r.end > split_x + 0.25 * (width - split_x) and r.x < split_x * 0.5 + 1
            r.column = 0 if full else 1
            out.append(r)
    # Reading order: bands separated by full-width rows; inside a band, left then right.
    ordered: list[Row] = []
    band: list[Row] = []
    for r in sorted(out, key=lambda r: -r.y):
        if r.column == 0:
            ordered += [b for b in band if b.column == 1] + [b for b in band if b.column == 2]
            band = []
            ordered.append(r)
        else:
            band.append(r)
    ordered += [b for b in band if b.column == 1] + [b for b in band if b.column == 2]
    return ordered


def _starts_text(row: Row, f: Frag) -> bool:
    i = row.frags.index(f)
    if i == 0:
        return True
    prev = row.frags[i - 1]
    return f.x - prev.x > 8 * prev.size


# ---------------------------------------------------------------- roles


def drop_markers(row: Row) -> None:
    """Raised, smaller fragments made of digits or daggers are footnote or affiliation marks."""
    if len(row.frags) < 2:
        return
    main = row.size
    kept: list[Frag] = []
    marked = False
    for f in row.frags:
        if f.size < 0.85 * main and f.y > row.y + 0.15 * main and MARKER.match(f.text.strip()):
            marked = True
            continue
        f.after_mark = marked
        marked = False
        kept.append(f)
    row.frags = kept


def furniture_keys(pages: list[list[Row]], heights: list[float]) -> set[str]:
    """Text in the top or bottom margin that repeats across pages: running heads and feet."""
    counts: Counter[str] = Counter()
    for rows, height in zip(pages, heights):
        seen = set()
        for r in rows:
            if r.y > height * 0.9 or r.y < height * 0.1:
                seen.add(_furniture_key(r.text))
        counts.update(seen)
    need = 2 if len(pages) < 6 else max(2, len(pages) // 3)
    return {k for k, n in counts.items() if n >= need and k}


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def is_equation(text: str, row: Row, column_left: float, column_width: float, body: float) -> bool:
    stripped = EQ_NUMBER.sub("", text).strip()
    math = sum(ch in MATH_CHARS for ch in stripped)
    if math == 0:
        return False
    if EQ_NUMBER.search(text) and (math >= 1):
        return True
    tokens = re.findall(r"\S+", stripped)
    words = [t for t in tokens if re.fullmatch(r"[A-Za-z][a-z]{2,}[,.;:]?", t)]
    centered = row.x - column_left > 2 * body and row.end < column_left + column_width
    if centered and len(words) <= max(1, len(tokens) // 3):
        return True
    return math / max(1, len(stripped)) > 0.15 and len(words) < len(tokens) / 2


def is_table_row(row: Row) -> bool:
    cells = 1
    for a, b in zip(row.frags, row.frags[1:]):
        if b.x - a.end > 1.5 * a.size:
            cells += 1
    return cells >= 3


def heading_of(row: Row, text: str, body: float) -> str | None:
    """The heading's words (numbering dropped) when this row is a section heading."""
    if len(text) > 90 or len(text.split()) > 12 or text.endswith((".", ",", ";")) and not NUMBERED.match(text):
        return None
    bigger = row.size > body * 1.12
    if not (bigger or row.bold):
        return None
    m = NUMBERED.match(text)
    if m and m.group(2)[:1].isupper() and not re.search(r"[=<>]", text):
        number = m.group(1).rstrip(".")
        if number.isalpha() and len(number) == 1 and not bigger and not row.bold:
            return None
        return m.group(2).strip()
    if text.lower().rstrip(":") in NAMED_HEADINGS or (bigger and text[:1].isupper()):
        return text.rstrip(":").strip()
    if row.bold and text[:1].isupper() and len(text.split()) <= 6:
        return text.rstrip(":").strip()
    return None


# ---------------------------------------------------------------- the whole document


def analyse(pages: list[dict[str, Any]], info: dict[str, str] | None = None) -> Layout:
    info = info or {}
    page_rows: list[list[Row]] = []
    heights: list[float] = []
    arxiv_id = ""
    for index, page in enumerate(pages):
        frags = []
        for x, y, size, text, font, upright in page["frags"]:
            if not upright:
                # Rotated text is the arXiv side stamp or a rotated figure label: never prose.
                m = ARXIV_ID_IN_TEXT.search(text)
                if m and not arxiv_id:
                    arxiv_id = m.group(1)
                continue
            if text.strip():
                frags.append(Frag(x, y, size, text, font))
        rows = make_rows(index, frags)
        for r in rows:
            drop_markers(r)
        rows = [r for r in rows if r.frags]
        page_rows.append(split_columns(rows, page["width"]))
        heights.append(page["height"])

    all_rows = [r for rows in page_rows for r in rows]
    if not all_rows:
        return Layout(arxiv_id=arxiv_id)
    sizes: Counter[float] = Counter()
    for r in all_rows:
        for f in r.frags:
            sizes[round(f.size, 1)] += len(f.text)
    body = sizes.most_common(1)[0][0]
    furniture = furniture_keys(page_rows, heights)

    for rows, height in zip(page_rows, heights):
        lefts = _column_lefts(rows, body)
        for r in rows:
            text = r.text
            if ARXIV_STAMP.match(text):
                m = ARXIV_ID_IN_TEXT.search(text)
                arxiv_id = arxiv_id or (m.group(1) if m else "")
                r.role = "furniture"
            elif (r.y > height * 0.9 or r.y < height * 0.1) and (
                _furniture_key(text) in furniture or PAGE_NUMBER.match(text)
            ):
                r.role = "furniture"
            elif CAPTION.match(text):
                r.role = "caption"
            elif heading_of(r, text, body) is not None:
                r.role = "heading"
            elif is_table_row(r):
                r.role = "table"
            elif is_equation(text, r, *lefts.get(r.column, (0.0, 612.0)), body):
                r.role = "equation"
            elif r.size < body * 0.88:
                r.role = "small"
    if not arxiv_id:
        m = ARXIV_ID_IN_TEXT.search(" ".join(r.text for r in page_rows[0][:60]))
        arxiv_id = m.group(1) if m else ""

    layout = Layout(arxiv_id=arxiv_id)
    body_start = _front_matter(layout, page_rows[0], body, info)
    rows = [r for r in all_rows if r.role != "furniture"]
    rows = rows[body_start:] if body_start is not None else rows
    _sections(layout, rows, body)
    return layout


def _column_lefts(rows: list[Row], body: float) -> dict[int, tuple[float, float]]:
    out = {}
    for col in (0, 1, 2):
        xs = [r.x for r in rows if r.column == col and abs(r.size - body) < 0.5]
        ends = [r.end for r in rows if r.column == col and abs(r.size - body) < 0.5]
        if xs:
            left = Counter(round(x) for x in xs).most_common(1)[0][0]
            out[col] = (float(left), max(ends) - left)
    return out


def _front_matter(layout: Layout, rows: list[Row], body: float, info: dict[str, str]) -> int | None:
    """Title, authors and abstract from page one; returns where the body starts in that page's rows.

    Everything between the title and the abstract (names, affiliations, e-mails) is the author
    block: it feeds `authors` and never reaches the sections.
    """
    rows = [r for r in rows if r.role != "furniture"]
    if not rows:
        return None
    top = rows[: max(1, len(rows) // 2)]
    biggest = max(r.size for r in top)
    title_rows = []
    for r in rows:
        if abs(r.size - biggest) < 0.3 and r.size > body * 1.1:
            title_rows.append(r)
        elif title_rows:
            break
    meta_title = (info.get("title") or "").strip()
    if title_rows:
        layout.title = clean_chars(" ".join(r.text for r in title_rows))
    if meta_title and (not layout.title or len(meta_title) > 3 and not meta_title.lower().endswith((".dvi", ".tex", ".pdf"))):
        layout.title = layout.title or meta_title

    start = rows.index(title_rows[-1]) + 1 if title_rows else 0
    abstract_at = None
    body_at = None
    for i in range(start, len(rows)):
        r = rows[i]
        text = r.text
        if re.match(r"^abstract\b", text, re.I) and abstract_at is None:
            abstract_at = i
            continue
        if r.role == "heading" and not re.match(r"^abstract\b", text, re.I):
            body_at = i
            break
    if body_at is None and abstract_at is None:
        return None
    block_end = abstract_at if abstract_at is not None else body_at
    layout.authors = _authors(rows[start:block_end]) or _meta_authors(info.get("author", ""))
    if abstract_at is not None:
        first = re.sub(r"^abstract\s*[-—–.:]?\s*", "", rows[abstract_at].text, flags=re.I)
        lines = [first] if first else []
        stop = body_at if body_at is not None else len(rows)
        lines += [r.text for r in rows[abstract_at + 1 : stop] if r.role in ("body", "small") and len(r.text) > 2]
        layout.abstract = clean_chars(join_lines(lines))
    # An index into the document's rows without furniture, where page one's rows come first.
    return body_at if body_at is not None else len(rows)


def _authors(rows: list[Row]) -> list[str]:
    names: list[str] = []
    for r in rows:
        text = EMAIL.sub("", r.text)
        if AFFILIATION_WORDS.search(text) or not text.strip():
            continue
        # Names are split by commas, 'and', wide gaps, or the marks that tie them to affiliations.
        pieces, current = [], ""
        for a, f in zip([None, *r.frags], r.frags):
            gap = a is not None and f.x - a.end > 1.2 * f.size
            if current and (f.after_mark or gap):
                pieces.append(current)
                current = ""
            current = f"{current} {f.text}".strip()
        pieces.append(current)
        for part in (p for piece in pieces for p in re.split(r",|;|\band\b|\s{3,}", EMAIL.sub("", piece))):
            part = clean_chars(re.sub(r"[\d∗*†‡§¶⋆]+", "", part)).strip()
            if re.fullmatch(r"[A-ZÀ-ÖØ-ÞŁ][\w'’.\-]*(?:\s+[A-ZÀ-ÖØ-ÞŁ][\w'’.\-]*){1,3}", part):
                names.append(clean_chars(part))
    return names


def _meta_authors(value: str) -> list[str]:
    parts = re.split(r";|,|\band\b", value)
    return [p.strip() for p in parts if p.strip()]


def _sections(layout: Layout, rows: list[Row], body: float) -> None:
    compounds = hyphenated_words(" ".join(r.text for r in rows if r.role == "body"))
    sections: list[dict[str, str]] = []
    heading = ""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    skipping = False  # inside the reference list
    prev: Row | None = None
    in_caption = False
    col_left: dict[tuple[int, int], float] = {}
    for r in rows:
        if r.role == "body" and abs(r.size - body) < 0.5:
            key = (r.page, r.column)
            col_left[key] = min(col_left.get(key, r.x), r.x)

    def flush_paragraph() -> None:
        nonlocal current
        if current:
            text = _clean_paragraph(join_lines(current, compounds))
            if text:
                paragraphs.append([text])
        current = []

    def flush_section() -> None:
        nonlocal paragraphs
        flush_paragraph()
        if paragraphs and not skipping:
            sections.append({"heading": heading, "text": "\n\n".join(p[0] for p in paragraphs)})
        paragraphs = []

    for r in rows:
        text = r.text
        if r.role == "heading":
            name = heading_of(r, text, body) or text
            flush_section()
            low = name.lower()
            if low in REFERENCE_HEADINGS:
                skipping = True
            elif skipping and not (low.startswith("appendix") or re.match(r"^[A-Z](\.\d+)*\.?\s", text)):
                pass  # a bold line inside the reference list
            else:
                skipping = False
            heading = name
            prev, in_caption = None, False
            continue
        if skipping:
            continue
        if r.role == "caption":
            flush_paragraph()
            in_caption = True
            current = [text]
            prev = r
            continue
        if in_caption and r.role in ("small", "body") and prev is not None and _same_flow(prev, r, body * 1.6):
            current.append(text)
            prev = r
            continue
        if in_caption:
            flush_paragraph()
            in_caption = False
        if r.role != "body":
            continue
        if prev is not None and _new_paragraph(prev, r, body, col_left):
            flush_paragraph()
        current.append(text)
        prev = r
    flush_section()
    layout.sections = [s for s in sections if s["text"].strip()]


def _same_flow(prev: Row, row: Row, max_gap: float) -> bool:
    return prev.page == row.page and prev.column == row.column and 0 < prev.y - row.y <= max_gap


def _new_paragraph(prev: Row, row: Row, body: float, col_left: dict[tuple[int, int], float]) -> bool:
    left = col_left.get((row.page, row.column), row.x)
    if row.x - left > 0.8 * body:
        return True  # first-line indent
    if prev.page == row.page and prev.column == row.column and prev.y - row.y > 1.9 * body:
        return True  # a blank line between paragraphs
    return False


def _clean_paragraph(text: str) -> str:
    text = clean_chars(text)
    text = EMAIL.sub("", text)
    text = CITATION.sub("", text)
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()
