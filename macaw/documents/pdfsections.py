"""The reading text: rows with roles, in reading order, to sections of paragraphs.

Body rows are joined into paragraphs across line, column and page breaks (a paragraph ends at
an indent or a blank line, not at the foot of a column); captions go to `Layout.captions`;
display equations stay in the paragraph as math between MATH_OPEN and MATH_CLOSE; tables,
footnotes and furniture are not read; the reference list is dropped, and what follows it
(or a heading named Appendix, or lettered after numbered ones) is kept as appendix sections.
"""

from __future__ import annotations

import re
from typing import Any

from macaw.artifacts import MATH_CLOSE, MATH_OPEN
from macaw.documents.pdfrows import CITATION, EMAIL, NUMBERED, REFERENCE_HEADINGS, Layout, Row
from macaw.documents.textclean import clean_chars, hyphenated_words, join_lines

APPENDIX = re.compile(r"^(appendix|appendices|supplementary|supplemental)\b", re.I)
WORD = re.compile(r"[A-Za-z]{3,}")
BULLET = re.compile(r"^[•◦▪‣∙·\-–]\s")


def heading_level(text: str) -> int:
    m = NUMBERED.match(text)
    if not m:
        return 1
    return m.group(1).rstrip(".").count(".") + 1


def sections(layout: Layout, rows: list[Row], body: float) -> None:
    compounds = hyphenated_words(" ".join(r.text for r in rows if r.role == "body"))
    out: list[dict[str, Any]] = []
    state: dict[str, Any] = {"heading": "", "level": 1, "appendix": False}
    paragraphs: list[str] = []
    current: list[str] = []
    caption: list[str] = []
    skipping = False  # inside the reference list
    appendix = False
    seen_numbered = False
    prev: Row | None = None
    col_left: dict[tuple[int, int], float] = {}
    for r in rows:
        if r.role == "body" and abs(r.size - body) < 0.5:
            key = (r.page, r.column)
            col_left[key] = min(col_left.get(key, r.x), r.x)

    def flush_caption() -> None:
        nonlocal caption
        if caption:
            text = _clean_paragraph(join_lines(caption, compounds))
            if text:
                layout.captions.append(text)
        caption = []

    def flush_paragraph() -> None:
        nonlocal current
        if current:
            text = _clean_paragraph(join_lines(current, compounds))
            if text and (text.startswith(MATH_OPEN) or WORD.search(text)) and not _table_as_prose(text):
                if paragraphs and text[:1].islower() and not paragraphs[-1].endswith(":"):
                    # A paragraph does not start lower-case: a float or a page break cut a sentence.
                    paragraphs[-1] = join_lines([paragraphs[-1], text], compounds)
                else:
                    paragraphs.append(text)
        current = []

    def flush_section() -> None:
        nonlocal paragraphs
        flush_paragraph()
        flush_caption()
        if (paragraphs or state["heading"]) and not skipping:
            out.append({**state, "text": "\n\n".join(paragraphs)})
        paragraphs = []

    for r in rows:
        text = r.text
        if r.role == "heading":
            name = clean_chars(r.heading or text)
            low = name.lower().rstrip(":").strip()
            number = NUMBERED.match(text)
            lettered = bool(number) and number.group(1).rstrip(".").split(".")[0].isalpha() and not re.fullmatch(r"[IVX]+\.?", number.group(1))
            if skipping and not (APPENDIX.match(name) or lettered and seen_numbered):
                continue  # a bold line inside the reference list
            flush_section()
            if low in REFERENCE_HEADINGS:
                skipping = True
            else:
                if skipping or APPENDIX.match(name) or lettered and seen_numbered:
                    appendix = True
                skipping = False
            seen_numbered = seen_numbered or (bool(number) and number.group(1)[:1].isdigit())
            level = heading_level(text) if number else (2 if appendix and not APPENDIX.match(name) else 1)
            state = {"heading": name, "level": level, "appendix": appendix}
            prev = None
            continue
        if skipping:
            continue
        if r.role == "caption":
            flush_caption()
            caption = [text]
            prev = r
            continue
        if caption and r.role in ("small", "body") and prev is not None and _same_flow(prev, r, body * 1.6):
            caption.append(text)
            prev = r
            continue
        flush_caption()
        if r.role == "equation":
            equation = f"{MATH_OPEN}{text}{MATH_CLOSE}"
            if current and (current[-1].endswith(MATH_CLOSE) or not current[-1].rstrip().endswith((".", "!", "?"))):
                current.append(equation)  # the sentence goes on through it, or the display goes on
            else:
                flush_paragraph()
                current = [equation]  # a display equation between sentences: a paragraph of its own
            prev = r
            continue
        if r.role != "body" or not (WORD.search(text) or re.fullmatch(r"[\[\]\d,;:.()\s–-]*[.,;:]", text)):
            continue
        if prev is not None and _new_paragraph(prev, r, body, col_left, current):
            flush_paragraph()
        current.append(text)
        prev = r
    flush_section()
    # A heading with no text of its own stays when subsections follow it (the section tree).
    layout.sections = [
        s for i, s in enumerate(out)
        if s["text"].strip() or i + 1 < len(out) and out[i + 1]["level"] > s["level"] and out[i + 1]["text"].strip()
    ]


def _table_as_prose(text: str) -> bool:
    """A table whose cells came out as one line each: mostly figures, hardly a sentence."""
    tokens = text.split()
    numbers = sum(bool(re.fullmatch(r"[(±]?[-+]?\d+(?:[.,]\d+)*[%]?[)]?[,;.]?", t)) for t in tokens)
    return numbers >= 6 and numbers >= 0.35 * len(tokens) and text.count(". ") <= 1


def _same_flow(prev: Row, row: Row, max_gap: float) -> bool:
    return prev.page == row.page and prev.column == row.column and 0 < prev.y - row.y <= max_gap


def _new_paragraph(prev: Row, row: Row, body: float, col_left: dict[tuple[int, int], float], current: list[str]) -> bool:
    if current and current[-1].endswith(MATH_CLOSE):
        # After an equation inside a sentence, the sentence goes on ("where x is ..."); after a
        # display equation of its own, a new paragraph starts unless the line goes on lower-case.
        return all(c.startswith(MATH_OPEN) for c in current) and not row.text[:1].islower()
    same = prev.page == row.page and prev.column == row.column
    if same and prev.y - row.y > 1.9 * body:
        return True  # a blank line between paragraphs
    if BULLET.match(row.text):
        return True  # a list item
    if current and BULLET.match(current[0]):
        return False  # a list item's wrapped lines sit under its text, not under the bullet
    if same:
        return row.x - prev.x > 0.8 * body  # a first-line indent under a full line
    left = col_left.get((row.page, row.column), row.x)
    # Across a column or page break the paragraph goes on unless the new line is indented
    # and the last one ended a sentence.
    return row.x - left > 0.8 * body and bool(current) and current[-1].rstrip().endswith((".", ":", "?", "!"))


def _cited(m: re.Match[str]) -> str:
    """'identical to [12]' keeps its object: 'identical to reference 12' (dropping it would end the sentence on 'to')."""
    numbers = re.findall(r"\d+", m.group(0)[len(m.group(1)) :])
    if len(numbers) == 1:
        return f"{m.group(1)} reference {numbers[0]}"
    if len(numbers) == 2 and re.search(r"\d\s?[–-]\s?\d", m.group(0)):
        return f"{m.group(1)} references {numbers[0]} to {numbers[1]}"
    return f"{m.group(1)} references " + ", ".join(numbers[:-1]) + f" and {numbers[-1]}"


def _clean_paragraph(text: str) -> str:
    text = BULLET.sub("", clean_chars(text))
    # A list's labels, "a) DP has ..." or "(ii) For smaller ...", are not read before the sentence.
    text = re.sub(r"(^|(?<=[.:;] ))\(?(?:[a-h]|i{1,3}|iv|vi{0,3}|ix|x)\)\s+(?=[A-Z])", "", text)
    text = EMAIL.sub("", text)
    text = re.sub(r"\b(to|in|of|by|see|also|from|with|and|as|than|on|cf\.)" + CITATION.pattern, _cited, text)
    text = CITATION.sub("", text)
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()
