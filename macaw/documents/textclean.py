"""Text repairs for what PDF extraction gets wrong: ligatures, split accents, hyphenated breaks.

Pure functions on strings, shared by the PDF layout code and usable on any extracted text.
"""

from __future__ import annotations

import re
import unicodedata

LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
    "\u0132": "IJ",
    "\u0133": "ij",
}

# Spacing accents that TeX fonts draw as a separate glyph over or beside the letter.
_SPACING_TO_COMBINING = {
    "\u00b4": "\u0301",  # ´ acute
    "\u0060": "\u0300",  # ` grave
    "\u00a8": "\u0308",  # ¨ diaeresis
    "\u02c6": "\u0302",  # ˆ circumflex
    "\u005e": "\u0302",  # ^ circumflex (some encodings)
    "\u02dc": "\u0303",  # ˜ tilde
    "\u007e": "\u0303",  # ~ tilde (some encodings)
    "\u00b8": "\u0327",  # ¸ cedilla
    "\u02c7": "\u030c",  # ˇ caron
    "\u02d8": "\u0306",  # ˘ breve
    "\u02da": "\u030a",  # ˚ ring
    "\u00af": "\u0304",  # ¯ macron
    "\u02dd": "\u030b",  # ˝ double acute
}
_ACCENT_BEFORE = re.compile("([\u00b4\u0060\u00a8\u02c6\u02dc\u00b8\u02c7\u02d8\u02da\u00af\u02dd]) ?([A-Za-z\u0131])")
_ACCENT_AFTER = re.compile("([A-Za-z])([\u00b4\u00a8\u02c6\u02dc\u02c7\u02da\u02dd])")
_SOFT = re.compile("[\u00ad\u200b\u200c\u200d\ufeff]")


def fix_ligatures(text: str) -> str:
    for lig, plain in LIGATURES.items():
        text = text.replace(lig, plain)
    return text


def _compose(letter: str, accent: str) -> str | None:
    if letter == "\u0131":  # dotless i under an accent is a plain i
        letter = "i"
    combined = unicodedata.normalize("NFC", letter + _SPACING_TO_COMBINING[accent])
    return combined if len(combined) == 1 else None


def fix_accents(text: str) -> str:
    """'R´enyi' -> 'Rényi', 'Schro¨dinger' -> 'Schrödinger'; leaves an accent it cannot place."""

    def before(m: re.Match[str]) -> str:
        return _compose(m.group(2), m.group(1)) or m.group(0)

    def after(m: re.Match[str]) -> str:
        return _compose(m.group(1), m.group(2)) or m.group(0)

    text = _ACCENT_BEFORE.sub(before, text)
    text = _ACCENT_AFTER.sub(after, text)
    return unicodedata.normalize("NFC", text)


_LONE_ACCENTED = re.compile("(?<=[A-Za-z]) ([\u00e0-\u00f6\u00f8-\u00ff\u0100-\u017f]) (?=[a-z])")


def clean_chars(text: str) -> str:
    text = _SOFT.sub("", text)
    text = _LONE_ACCENTED.sub(r"\1", text)  # 'G ü nter': an accented letter drawn as its own piece
    text = fix_ligatures(text)
    text = fix_accents(text)
    return text.replace("\u2212", "-").replace("\u00a0", " ")


# Prefixes that are real hyphenated compounds far more often than split words.
_KEEP_HYPHEN = {
    "self", "non", "multi", "cross", "end", "state", "well", "high", "low", "long", "short",
    "fine", "large", "small", "real", "semi", "pre", "post", "co", "sub", "open", "first",
    "second", "third", "two", "three", "one", "zero", "few", "single", "double", "top", "left",
    "right", "out", "in", "on", "off", "data", "task", "model", "word", "byte", "sequence",
}


_SPLIT_WORD = re.compile(r"(\w+)-$")


def join_lines(lines: list[str], compounds: set[str] | None = None) -> str:
    """Join the lines of one paragraph, undoing the hyphenation of words split at a line end.

    A break after 'self-' keeps the hyphen (self-attention); a break inside an ordinary word
    ('trans-' + 'former') drops it. `compounds` are hyphenated words seen whole elsewhere in
    the document, which settles the ambiguous cases.
    """
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        # Only the end of what is joined so far is looked at: searching all of it at every line
        # made a long paragraph quadratic.
        m = _SPLIT_WORD.search(out, max(0, len(out) - 256)) if out.endswith("-") else None
        if m and line[:1].islower():
            head = m.group(1)
            tail = re.match(r"\w+", line)
            whole = f"{head}-{tail.group(0)}".lower() if tail else ""
            if head.lower() in _KEEP_HYPHEN or (compounds and whole in compounds):
                out += line
            else:
                out = out[:-1] + line
        else:
            out += " " + line
    return re.sub(r"[ \t]+", " ", out).strip()


def hyphenated_words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\b\w+-\w+\b", text)}
