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
from typing import Any

from macaw.documents.pdffront import front_matter
from macaw.documents.pdfrows import (  # noqa: F401  - Frag, Row and Layout are this module's interface too
    ARXIV_ID_IN_TEXT,
    ARXIV_STAMP,
    CAPTION,
    EQ_NUMBER,
    MARKER,
    MATH_CHARS,
    NAMED_HEADINGS,
    NUMBERED,
    PAGE_NUMBER,
    REFERENCE_HEADINGS,
    Frag,
    Layout,
    Row,
)
from macaw.documents.pdfsections import sections


# ---------------------------------------------------------------- rows and columns


def make_rows(page_index: int, frags: list[Frag]) -> list[Row]:
    """Group fragments sharing a baseline; sub- and superscripts join the row they sit on."""
    rows: list[Row] = []
    # Per row, the distinct (baseline, size) of its fragments and the places of each text: a row of
    # fifty pieces has a handful of baselines, and looking at those alone is the same test.
    lines: list[set[tuple[float, float]]] = []
    texts: list[dict[str, list[float]]] = []
    for f in sorted(frags, key=lambda f: (-f.y, f.x)):
        for k in range(len(rows) - 1, max(-1, len(rows) - 5), -1):
            near = min(abs(y - f.y) - 0.45 * max(f.size, size) for y, size in lines[k])
            if near <= 0 and not any(abs(x - f.x) < 0.5 for x in texts[k].get(f.text, ())):
                rows[k].frags.append(f)
                lines[k].add((f.y, f.size))
                texts[k].setdefault(f.text, []).append(f.x)
                break
        else:
            rows.append(Row(page_index, f.y, [f]))
            lines.append({(f.y, f.size)})
            texts.append({f.text: [f.x]})
    for row in rows:
        row.frags.sort(key=lambda f: f.x)
        # The row's baseline is its main text's, not a subscript's.
        main = max(row.frags, key=lambda f: (f.size, len(f.text)))
        row.y = main.y
    return rows


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
    # The leftmost start shared by enough rows; where no start repeats (scattered figure
    # labels), the heuristic cannot decide and the page is read in plain order.
    common = [x for x, n in modes if n >= max(2, modes[0][1] // 4)]
    if not common:
        for r in rows:
            r.column = 0
        return rows
    split_x = min(common) - 1
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
    if f.x - prev.x <= 8 * prev.size:
        return False
    # Inline math next to it: a piece after a gap (its left neighbour ends well before it),
    # not the next piece of a sentence that changes font (a single-column page of maths).
    return not (f.math or prev.math) or f.x - prev.end > 1.0 * prev.size


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


# A table cell's figure; ".126" is one too (a table that drops the leading zero).
TABLE_FIGURE = re.compile(r"[(±]?[-+]?(?:\d+(?:[.,]\d+)*|\.\d+)[%×x]?[)]?[,;]?")
EQUATION_WORD = re.compile(r"[A-Za-z][a-z]{2,}[,.;:]?")


def is_equation(text: str, row: Row, column_left: float, column_width: float, body: float) -> bool:
    stripped = EQ_NUMBER.sub("", text).strip()
    math = sum(ch in MATH_CHARS for ch in stripped)
    if math == 0:
        return False
    if EQ_NUMBER.search(text) and (math >= 1):
        return True
    tokens = stripped.split()
    words = [t for t in tokens if EQUATION_WORD.fullmatch(t)]
    centered = row.x - column_left > 2 * body and row.end < column_left + column_width
    if centered and len(words) <= max(1, len(tokens) // 3):
        return True
    return math / max(1, len(stripped)) > 0.15 and len(words) < len(tokens) / 2


def is_table_row(row: Row) -> bool:
    tokens = row.text.split()
    numeric = sum(bool(TABLE_FIGURE.fullmatch(t)) for t in tokens)
    if numeric >= 3 and numeric * 2 >= len(tokens):
        return True  # a row of figures, whatever its spacing
    cells = 1
    for a, b in zip(row.frags, row.frags[1:]):
        if b.x - a.end > 1.5 * a.size:
            cells += 1
    return cells >= 3


NOT_HEADING = re.compile(
    r"^(fig\.?|figure|table|tab\.|algorithm|listing|eq\.|equation)\s*\d|^\(?[a-z]\)\s|^\d+(?:\.\d+)?\s*%"
    r"|\b(university|universit[äéà]|institute|department|laborator|college|school of)\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+(?:19|20)\d\d\b"
    r"|^\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?:19|20)\d\d|@|https?:|\.\.\.|…",
    re.I,
)


def heading_of(row: Row, text: str, body: float) -> str | None:
    """The heading's words (numbering dropped) when this row is a section heading."""
    bare = text.strip().rstrip(":").strip()
    if bare.lower() in REFERENCE_HEADINGS and len(row.frags) <= 3:
        return bare  # the reference list's heading, whatever its font: what follows is not read
    if len(text) > 90 or len(text.split()) > 12 or text.endswith((",", ";")) or NOT_HEADING.search(text):
        return None
    letters = sum(ch.isalpha() for ch in text)
    if letters < 3 or letters < 0.6 * len(text.replace(" ", "")):
        return None
    bigger = row.size > body * 1.12
    m = NUMBERED.match(text)
    numbered = bool(m) and m.group(2)[:1].isupper() and not re.search(r"[=<>]", text) and _plausible_number(m.group(1))
    caps = numbered and _mostly_capitals(m.group(2)) and len(m.group(2)) > 3 and abs(row.size - body) < 0.15 * body
    if not (bigger or row.bold or caps):
        return None
    if numbered:
        number = m.group(1).rstrip(".")
        if number.isalpha() and len(number) == 1 and not bigger and not row.bold and not caps:
            return None
        if text.endswith(".") and not m.group(1).endswith("."):
            return None  # a sentence that starts with a number
        return m.group(2).strip().rstrip(".").strip()
    if text.endswith("."):
        return None
    if bare.lower() in NAMED_HEADINGS or (bigger and text[:1].isupper()):
        return bare
    if row.bold and text[:1].isupper() and len(text.split()) <= 6:
        return bare
    return None


TOC_ENTRY = re.compile(r"^(?:(?:\d+|[A-Z])(?:\.\d+)*\.?\s+)?[A-Z][^.]*?(?:\s?\.\s?){0,80}\s\d{1,3}$")


def _join_heading_lines(rows: list[Row]) -> None:
    """A heading that wraps: its next line, same font and size, joins it; a table of contents is not read."""
    contents = False
    for i, r in enumerate(rows):
        if contents:
            # A table of contents: its lines end in page numbers, until the first that does not.
            if re.search(r"\s\d{1,3}$", r.text) and r.role in ("heading", "body", "small", "table"):
                r.role = "furniture"
                continue
            contents = False
        if r.role != "heading":
            continue
        if r.heading.lower() in ("contents", "table of contents"):
            r.role, contents = "furniture", True
            continue
        if TOC_ENTRY.match(r.text) and not re.search(r"\b(19|20)\d\d$", r.text):
            r.role = "furniture"
            continue
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if (
            nxt is not None and nxt.role in ("body", "heading") and nxt.page == r.page and nxt.column == r.column
            and 0 < r.y - nxt.y < 1.6 * r.size and nxt.font == r.font and abs(nxt.size - r.size) < 0.3
            and not NUMBERED.match(nxt.text) and len(nxt.text) < 60
            and (_mostly_capitals(nxt.text) or not _mostly_capitals(r.text)) and not nxt.text.endswith(".")
        ):
            r.heading = f"{r.heading} {nxt.text}".strip()
            nxt.role = "continuation"  # read as part of the heading, not as body text


REFERENCE_NUMBER = re.compile(r"^\[(\d{1,3})\]\s")


def _numbered_references(rows: list[Row], body: float) -> None:
    """A reference list with no heading over it (REVTeX prints none): from an entry "[1] ..." on,
    entries numbered in order and their wrapped lines, smaller than the text, are not read."""
    i = 0
    while i < len(rows):
        m = REFERENCE_NUMBER.match(rows[i].text)
        if not (m and m.group(1) == "1" and rows[i].size < 0.95 * body and rows[i].role in ("body", "small")):
            i += 1
            continue
        run, expected, entries = [], 1, 0
        j = i
        while j < len(rows) and rows[j].role in ("body", "small") and rows[j].size < 0.95 * body:
            m = REFERENCE_NUMBER.match(rows[j].text)
            if m:
                if int(m.group(1)) != expected:
                    break
                expected, entries = expected + 1, entries + 1
            run.append(rows[j])
            j += 1
        if entries >= 3:
            for r in run:
                r.role = "small"
        i = max(j, i + 1)


def _split_bold(row: Row) -> tuple[str, str]:
    """A row's bold beginning and the plain rest ('' when it does not start bold or has no plain rest)."""
    cut = next((i for i, f in enumerate(row.frags) if not f.bold and any(ch.isalpha() for ch in f.text)), len(row.frags))
    if cut == 0 or cut == len(row.frags) or not row.frags[0].bold:
        return "", ""
    return Row(row.page, row.y, row.frags[:cut]).text, Row(row.page, row.y, row.frags[cut:]).marked_text


def _run_in_headings(rows: list[Row]) -> None:
    """A run-in heading ('I. Target Skill or Domain Steering Teacher LLM. The first stage ...'): the
    bold words up to their full stop are the heading, the plain words after them start its text;
    a heading that wraps ('... with a Specific Learn-' / 'ing Objective. The final stage') takes
    the bold start of the next line."""
    for i, r in enumerate(rows):
        if r.role != "heading":
            continue
        bold, rest = _split_bold(r)
        if bold.endswith((".", ":")) and rest[:1].isupper():
            r.heading = (NUMBERED.match(bold).group(2) if NUMBERED.match(bold) else bold).rstrip(".: ")
            r.tail = rest
            continue
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        wrapped = r.heading.endswith("-") or nxt is not None and len(r.text) > 0.8 * len(nxt.text)  # a full line, not "4.1 Datasets"
        if r.bold and wrapped and nxt is not None and nxt.role == "body" and nxt.page == r.page and nxt.column == r.column:
            more, rest = _split_bold(nxt)
            if more.endswith((".", ":")) and rest[:1].isupper() and len(more.split()) <= 6:
                joined = r.heading[:-1] + more if r.heading.endswith("-") and more[:1].islower() else f"{r.heading} {more}"
                r.heading = joined.rstrip(".: ")
                r.tail = rest
                nxt.role = "continuation"


def _numbered_only(page_rows: list[list[Row]]) -> None:
    """In a paper whose sections are numbered, a bold line without a number after page one is a
    figure's label ("TPUv2 Hours"), unless it is a heading every paper may have unnumbered."""
    rows = [r for rows in page_rows[1:] for r in rows if r.role == "heading"]
    numbered = [r for r in rows if NUMBERED.match(r.text)]
    if len(numbered) < 3 or len(numbered) < 0.5 * len(rows):
        return
    for r in rows:
        name = r.heading.lower().rstrip(":. ").strip()
        if NUMBERED.match(r.text) or name in NAMED_HEADINGS or name in REFERENCE_HEADINGS or re.match(r"^(appendix|appendices|supplementary)", name):
            continue
        r.role = "figure"


def _mostly_capitals(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) >= 0.85 * len(letters)


def _plausible_number(number: str) -> bool:
    parts = number.rstrip(".").split(".")
    return all(p.isalpha() or len(p) <= 2 for p in parts) and (not parts[0].isdigit() or int(parts[0]) <= 30)


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
        try:
            page_rows.append(split_columns(rows, page["width"]))
        except (ValueError, IndexError, ZeroDivisionError):
            # A page the column rules cannot decide is read top to bottom.
            page_rows.append(sorted(rows, key=lambda r: -r.y))
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
            elif _subcaption(r, *lefts.get(r.column, (0.0, 612.0))):
                r.role = "caption"
            elif r.page > 0 and r.size > 2.2 * body:
                r.role = "figure"  # lettering of a figure drawn at its own scale; no heading is that large
            elif (name := heading_of(r, text, body)) is not None:
                r.role, r.heading = "heading", name
            elif is_table_row(r):
                r.role = "table"
            elif is_equation(text, r, *lefts.get(r.column, (0.0, 612.0)), body):
                r.role = "equation"
            elif r.size < body * 0.88:
                r.role = "small"
        _footnotes(rows, height, body)
        _join_heading_lines(rows)
        _run_in_headings(rows)
    if not arxiv_id:
        m = ARXIV_ID_IN_TEXT.search(" ".join(r.text for r in page_rows[0][:60]))
        arxiv_id = m.group(1) if m else ""

    _numbered_only(page_rows)
    _numbered_references([r for r in all_rows if r.role != "furniture"], body)
    layout = Layout(arxiv_id=arxiv_id)
    body_start = front_matter(layout, [r for r in page_rows[0] if r.role != "furniture"], body, info)
    rows = [r for r in all_rows if r.role != "furniture"]
    rows = rows[body_start:] if body_start is not None else rows
    sections(layout, rows, body)
    return layout


SUBFIGURE_LABEL = re.compile(r"^\([a-h]\)\s+[A-Z]")


def _subcaption(row: Row, column_left: float, column_width: float) -> bool:
    """'(a) Final test performance vs. ... (b) ...': the captions of subfigures set side by side, a
    line that starts with a label and holds the next one after a gap, or starts far inside the column."""
    if not SUBFIGURE_LABEL.match(row.text):
        return False
    if row.x - column_left > 0.3 * column_width:
        return True
    return any(re.match(r"\([b-h]\)\s", b.text.lstrip()) and b.x - a.end > 1.0 * a.size for a, b in zip(row.frags, row.frags[1:]))


def _footnotes(rows: list[Row], height: float, body: float) -> None:
    """Footnotes: the lines at the foot of a column, in a smaller size than the text above them
    (9 pt under 10 pt is above the "small" threshold), are not read; a sentence the page break cut
    goes on past them on the next page."""
    for column in {r.column for r in rows}:
        own = sorted((r for r in rows if r.column == column and r.role not in ("furniture",)), key=lambda r: r.y)
        block: list[Row] = []
        for r in own:  # from the foot of the page up
            if r.y > height * 0.35 or r.role not in ("body", "small") or r.size >= 0.95 * body or r.size < 0.6 * body:
                break
            block.append(r)
        above = own[len(block):]
        if block and any(r.role == "body" and abs(r.size - body) < 0.5 for r in above):
            for r in block:
                r.role = "small"


def _column_lefts(rows: list[Row], body: float) -> dict[int, tuple[float, float]]:
    out = {}
    for col in (0, 1, 2):
        xs = [r.x for r in rows if r.column == col and abs(r.size - body) < 0.5]
        ends = [r.end for r in rows if r.column == col and abs(r.size - body) < 0.5]
        if xs:
            left = Counter(round(x) for x in xs).most_common(1)[0][0]
            out[col] = (float(left), max(ends) - left)
    return out


