"""A paper's first page: title, authors and abstract, and where the body begins.

Everything between the title and the abstract (names, affiliations, e-mails, addresses) is
the author block: it feeds `authors` and never reaches the sections.
"""

from __future__ import annotations

import re

from macaw.documents.pdfrows import AFFILIATION_WORDS, EMAIL, NAMED_HEADINGS, NUMBERED, Layout, Row
from macaw.documents.textclean import clean_chars, join_lines

ABSTRACT = re.compile(r"^a\s?b\s?s\s?t\s?r\s?a\s?c\s?t\b", re.I)
NAME = re.compile(r"[A-ZÀ-ÖØ-ÞŁŠŽČ][\w'’.\-]*(?:\s+(?:[A-ZÀ-ÖØ-ÞŁŠŽČ][\w'’.\-]*|de|del|van|von|der|da|di|le|la)){1,4}")
PLACE_WORDS = re.compile(
    r"\b(inc|ltd|llc|gmbh|usa|uk|china|germany|france|japan|canada|italy|spain|view|street|road|avenue|"
    r"city|park|hall|campus|road|cambridge|stanford|seattle|london|paris|beijing|boston|york|california|"
    r"massachusetts|washington|berkeley|toronto|montreal|zurich|sydney|hong kong|brain|ai|language|team|group)\b",
    re.I,
)
NOT_NAMES = re.compile(r"\b(abstract|preprint|submitted|conference|proceedings|workshop|arxiv|equal|contribution|corresponding|author)\b", re.I)


def front_matter(layout: Layout, rows: list[Row], body: float, info: dict[str, str]) -> int | None:
    """Fill title, authors and abstract from page one's rows (reading order, furniture removed).

    Returns how many of those rows the front matter used (the body starts after them), or None
    when the page shows no abstract and no heading to start from.
    """
    if not rows:
        return None
    lines, parts = _lines(rows)
    title_rows = _title_rows(lines, body)
    meta_title = (info.get("title") or "").strip()
    if title_rows:
        title = clean_chars(" ".join(r.text for r in title_rows))
        layout.title = re.sub(r"(?<=[A-Z]) (?=[-:])|(?<=-) (?=[A-Z])", "", title)
    elif meta_title and len(meta_title) > 3 and not meta_title.lower().endswith((".dvi", ".tex", ".pdf")):
        layout.title = meta_title

    used = {id(part) for line in title_rows for part in parts[id(line)]}
    start = max((i + 1 for i, r in enumerate(rows) if id(r) in used), default=0)
    abstract_at = next((i for i in range(start, len(rows)) if ABSTRACT.match(rows[i].text)), None)
    body_at = None
    for i in range(abstract_at + 1 if abstract_at is not None else start, len(rows)):
        r = rows[i]
        if r.role != "heading":
            continue
        text = r.text
        numbered = NUMBERED.match(text)
        named = text.lower().rstrip(":").strip() in NAMED_HEADINGS
        if abstract_at is not None or numbered or named:
            body_at = i
            break
    if body_at is None and abstract_at is None:
        return None
    block_end = abstract_at if abstract_at is not None else body_at
    block = sorted(rows[start:block_end], key=lambda r: (-round(r.y), r.x))
    layout.authors = authors_from(block) or meta_authors(info.get("author", ""))
    if abstract_at is not None:
        first = ABSTRACT.sub("", rows[abstract_at].text).lstrip(" -—–.:")
        lines = [first] if first else []
        stop = body_at if body_at is not None else len(rows)
        following = [r for r in rows[abstract_at + 1 : stop] if r.role in ("body", "small") and len(r.text) > 2]
        size = rows[abstract_at].size if first else (following[0].size if following else body)
        # Footnotes at the foot of page one (affiliations, "equal contribution") are smaller.
        lines += [r.text for r in following if r.size >= size - 0.6]
        layout.abstract = clean_chars(join_lines(lines))
    return body_at if body_at is not None else len(rows)


def _lines(rows: list[Row]) -> tuple[list[Row], dict[int, list[Row]]]:
    """Page one's rows top to bottom, the halves of a line the column split cut apart joined again."""
    lines: list[Row] = []
    parts: dict[int, list[Row]] = {}
    for r in sorted(rows, key=lambda r: (-r.y, r.x)):
        last = lines[-1] if lines else None
        if last is not None and abs(last.y - r.y) < 1 and r.page == last.page and abs(r.size - last.size) < 0.3:
            last.frags = sorted(last.frags + r.frags, key=lambda f: f.x)
            parts[id(last)].append(r)
        else:
            line = Row(r.page, r.y, list(r.frags), role=r.role)
            lines.append(line)
            parts[id(line)] = [r]
    return lines, parts


def _title_rows(rows: list[Row], body: float) -> list[Row]:
    top = rows[: max(1, len(rows) // 2)]
    candidates = [r for r in top if r.size > body * 1.1 and len(r.text) > 3 and not ABSTRACT.match(r.text)]
    if not candidates:
        return []
    biggest = max(r.size for r in candidates)
    out: list[Row] = []
    for r in rows:
        if not out:
            if abs(r.size - biggest) < 0.3 and r in candidates:
                out.append(r)
            continue
        last = out[-1]
        near = 0 < last.y - r.y < 2.2 * biggest
        same_size = abs(r.size - biggest) < 0.3
        subtitle = r.font == out[0].font and r.size >= 0.8 * biggest and r.size > body * 1.1 and "," not in r.text
        if near and (same_size or subtitle):
            out.append(r)
        else:
            break
    return out


def authors_from(rows: list[Row]) -> list[str]:
    """Names in the author block: the rows in the first name row's font, split at gaps, commas and 'and'."""
    rows = [r for r in rows if r.text.strip() and not EMAIL.search(r.text) and "@" not in r.text]
    if not rows:
        return []
    plain = [r for r in rows if not AFFILIATION_WORDS.search(r.text)]
    name_font = plain[0].font if plain else rows[0].font
    candidates = [r for r in rows if r.font == name_font and not AFFILIATION_WORDS.search(r.text)] or plain
    names: list[str] = []
    for r in candidates:
        pieces, current = [], ""
        for a, f in zip([None, *r.frags], r.frags):
            gap = a is not None and f.x - a.end > 1.2 * f.size
            if current and (f.after_mark or gap):
                pieces.append(current)
                current = ""
            current = f"{current} {f.text}".strip()
        pieces.append(current)
        for piece in pieces:
            for part in re.split(r",|;|\band\b|&|\s{3,}", EMAIL.sub("", piece)):
                if re.search(r"\d{3,}", part):
                    continue  # a postcode or a phone number: an address
                part = re.sub(r"[^\w\s'’.\-]|\d|_", "", clean_chars(part))
                part = " ".join(part.split()).strip(" .")
                words = part.split()
                if not NAME.fullmatch(part) and len(words) >= 4 and len(words) % 2 == 0 and all(w[:1].isupper() and len(w) > 2 for w in words):
                    # Names set apart by spaces alone ("Jacob Devlin Ming-Wei Chang"): first and last names in pairs.
                    split = [" ".join(words[i : i + 2]) for i in range(0, len(words), 2)]
                else:
                    split = [part]
                names += [n for n in split if NAME.fullmatch(n) and not PLACE_WORDS.search(n) and not NOT_NAMES.search(n)]
    seen: list[str] = []
    for n in names:
        if n not in seen:
            seen.append(n)
    # A name-shaped line that repeats (an address under each author) is not a name.
    return [n for n in seen if names.count(n) == 1 or len(seen) == 1]


def meta_authors(value: str) -> list[str]:
    parts = re.split(r";|,|\band\b", value)
    out = [p.strip() for p in parts if p.strip()]
    # /Author is often a user name ('kaichen') rather than the paper's authors.
    return out if all(" " in p for p in out) else []
