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


def _tables_under_captions(rows: list[Row], body: float) -> None:
    """A table set as plain lines under its caption ("Table 3: ..." then "Inner batch size", "10 20"):
    a run of at least three short lines (under half the paper's usual line) right after the caption's own lines is the table, not prose.
    (One short line there is the end of a paragraph the float interrupted, and is kept.)"""
    # Short against the paper's usual line (the median body line): a narrow column's lines are short too.
    lengths = sorted(len(r.text) for r in rows if r.role == "body")
    line = lengths[len(lengths) // 2] if lengths else 90
    i = 0
    while i < len(rows):
        r = rows[i]
        i += 1
        if r.role != "caption" or not re.match(r"(?:Table|TABLE)\s", r.text):
            continue
        prev = r
        while i < len(rows) and rows[i].role in ("small", "body") and _same_flow(prev, rows[i], body * 1.6):
            prev = rows[i]  # the caption's own lines
            i += 1
        run = i
        while run < len(rows) and rows[run].role in ("body", "small", "table", "equation") and len(rows[run].text) < 0.5 * line:
            run += 1
        if run - i >= 3:
            for t in rows[i:run]:
                t.role = "table"
            i = run


def sections(layout: Layout, rows: list[Row], body: float) -> None:
    _tables_under_captions(rows, body)
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
                # A paragraph does not start lower-case, nor with inline math after an unfinished
                # sentence: a float or a page break cut a sentence.
                cut = text[:1].islower() or text.startswith(MATH_OPEN) and bool(paragraphs) and not paragraphs[-1].endswith((".", "?", "!", MATH_CLOSE))
                # After a colon a list may start lower-case; "where" goes on past a dropped display.
                if paragraphs and cut and (not paragraphs[-1].endswith(":") or re.match(r"where\b", text)):
                    at = _unfinished(paragraphs) if text[:1].islower() else len(paragraphs) - 1
                    paragraphs[at] = join_lines([paragraphs[at], text], compounds)
                elif not paragraphs and text[:1].islower() and out and out[-1]["appendix"] == state["appendix"] and _goes_on(out[-1]["text"]):
                    # No section starts in mid-sentence: the "heading" above was a figure's label
                    # (bold lettering inside a float); the sentence the float cut goes on.
                    earlier = out[-1]["text"].split("\n\n")
                    at = _unfinished(earlier)
                    earlier[at] = join_lines([earlier[at], text], compounds)
                    out[-1]["text"] = "\n\n".join(earlier)
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
            if r.tail:
                current, prev = [r.tail], r  # a run-in heading's paragraph starts on its line
            continue
        if skipping:
            continue
        if r.role == "caption":
            flush_caption()
            caption = [text]
            prev = r
            continue
        if caption and r.role in ("small", "body") and prev is not None and _caption_flow(prev, r, body):
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
        current.append(r.marked_text)  # inline math, found by its font, marked
        prev = r
    flush_section()
    # A heading with no text of its own stays when subsections follow it (the section tree).
    layout.sections = [
        s for i, s in enumerate(out)
        if s["text"].strip() or i + 1 < len(out) and out[i + 1]["level"] > s["level"] and out[i + 1]["text"].strip()
    ]


def _unfinished(paragraphs: list[str]) -> int:
    """Where a cut sentence goes on: the last paragraph, or, when that one ends a sentence, the
    paragraph a float interrupted (a figure's or table's text read between the two halves)."""
    last = len(paragraphs) - 1
    if not paragraphs[last].endswith((".", "?", "!")):
        return last
    for at in range(last - 1, max(-1, last - 4), -1):
        # It stops on a word or a comma ("the figure's labels 6 and 7" are not that sentence).
        if re.search(r"[a-z][a-z,\-]$", paragraphs[at]):
            return at
    return last


def _goes_on(text: str) -> bool:
    """The section's text has a sentence a float cut: its last paragraph, or one just before it, stops on a word."""
    earlier = text.split("\n\n")
    return bool(text) and bool(re.search(r"[a-z][a-z,\-]$", earlier[_unfinished(earlier)]))


PROSE_TABLE_FIGURE = re.compile(r"[(±]?[-+]?\d+(?:[.,]\d+)*[%]?[)]?[,;.]?")


def _table_as_prose(text: str) -> bool:
    """A table whose cells came out as one line each: mostly figures, hardly a sentence."""
    tokens = text.split()
    numbers = sum(bool(PROSE_TABLE_FIGURE.fullmatch(t)) for t in tokens)
    return numbers >= 6 and numbers >= 0.35 * len(tokens) and text.count(". ") <= 1


def _caption_flow(prev: Row, row: Row, body: float) -> bool:
    """The caption's next line: close under the last one, in its column, or starting where it starts
    (a full-width caption's short last lines are put in the left column by the column split)."""
    if _same_flow(prev, row, body * 1.6):
        return True
    return prev.page == row.page and 0 < prev.y - row.y <= body * 1.6 and abs(row.x - prev.x) < body and row.size <= prev.size + 0.3


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


def _cited_subject(citation: str) -> str:
    said = _cited(re.match(r"(\w*)(.*)", "x" + citation))[2:]
    return said[:1].upper() + said[1:]


def _clean_paragraph(text: str) -> str:
    text = BULLET.sub("", clean_chars(text))
    # A list's labels, "a) DP has ..." or "(ii) For smaller ...", are not read before the sentence.
    text = re.sub(r"(^|(?<=[.:;] ))\(?(?:[a-h]|i{1,3}|iv|vi{0,3}|ix|x)\)\s+(?=[A-Z])", "", text)
    text = EMAIL.sub("", text)
    text = re.sub(r"\b([ie])\. ([eg])\.", r"\1.\2.", text)  # "i. e." set with a space is "i.e."
    # "n!" inside a sentence is a factorial (the "!" is set in the text font, after the math); a
    # full stop right after math with the sentence going on lower-case ("where u. is") is the math's.
    text = re.sub(f"{MATH_CLOSE}!(?=\\s+[a-z(]|[)\\],;])", f"!{MATH_CLOSE}", text)
    text = re.sub(f"{MATH_CLOSE}\\.(?=\\s+[a-z])", f".{MATH_CLOSE}", text)
    text = re.sub(r"\b(to|in|of|by|see|also|from|with|and|as|than|on|cf\.)" + CITATION.pattern, _cited, text)
    # A citation that is the sentence's subject: "[16, 17] exploit ..." -> "References 16 and 17 exploit ...".
    text = re.sub(r"(^|(?<=[.!?] )(?<!al\. )(?<!vs\. )(?<!cf\. )(?<!e\.g\. )(?<!i\.e\. ))(" + CITATION.pattern.replace("\\s?", "", 1) + r")(?= [a-z])", lambda m: _cited_subject(m.group(2)), text)
    text = CITATION.sub("", text)
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()
