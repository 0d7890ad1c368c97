"""The pieces PDF layout analysis works with: positioned fragments, rows, the result, and patterns.

Plain Python over the numbers pypdf gives (baseline position, size, font name), shared by
`pdflayout` (rows, columns, roles), `pdffront` (title, authors, abstract) and `pdfsections`
(the reading text).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from macaw.artifacts import MATH_CLOSE, MATH_OPEN

CHAR_WIDTH = 0.5  # average glyph width in ems, for estimating where a fragment ends

ARXIV_STAMP = re.compile(r"^arXiv:\s?(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?\s+\[[^\]]+\]\s+\d{1,2}\s+\w{3}\s+\d{4}$")
ARXIV_ID_IN_TEXT = re.compile(r"arXiv:\s?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)")
PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s+of\s+\d{1,4})?$", re.I)
# "Figure 3 | Scaling ...": the bar of that caption style comes out of a TeX symbol font as "j".
CAPTION = re.compile(r"^(Figure|Fig\.|Table|Algorithm|FIGURE|FIG\.|TABLE|ALGORITHM)\s+[A-Z]?\d+(?:[.:|]|\s+j\s+(?=[A-Z]))")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\{[\w.,\s-]+\}@[\w-]+(?:\.[\w-]+)+")
CITATION = re.compile(r"\s?\[\d+(?:\s?[,–-]\s?\d+)*\]")
EQ_NUMBER = re.compile(r"\(\d+[a-z]?\)\s*$")
MATH_CHARS = set("=+−×·∑∏∫√≤≥≈≠∞∂∇→←⊕⊗∈∀∃^_{}|/") | set("αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ")
MARKER = re.compile(r"^[\d,∗*†‡§¶⋆]{1,4}$")
NAMED_HEADINGS = {
    "abstract", "introduction", "background", "related work", "method", "methods", "model",
    "results", "experiments", "discussion", "conclusion", "conclusions", "acknowledgments",
    "acknowledgements", "acknowledgment", "acknowledgement", "references", "bibliography",
    "appendix", "evaluation", "limitations", "future work", "summary", "broader impact",
    "broader impacts", "ethics statement", "reproducibility statement", "author contributions",
    "contributions", "funding", "data availability", "code availability", "supplementary material",
    "conclusion and future work", "conclusions and future work", "related works", "preliminaries",
}
# Fonts that set only mathematics: TeX's math italic, symbols and extension fonts, the AMS
# symbol and blackboard fonts, fraktur and script, and the math fonts of txfonts/newtx, Latin
# Modern, STIX, Cambria and XCharter. Text in them is inline math, whatever its glyphs.
MATH_FONT = re.compile(
    r"^(?:CMMI|CMSY|CMEX|CMBSY|CMMIB|MSAM|MSBM|EUFM|EUFB|EUSM|EUSB|EUEX|RSFS|LMMathItalic|LMMathSymbols|LMMathExtension"
    r"|txmi|txsy|txex|ntxmi|ntxsy|ntxex|rtxmi|rtxsy|NewTXMI|NewTXSY|STIXMath|STIXTwoMath|CambriaMath|LatinModernMath"
    r"|[A-Za-z]*Math(?:MI|SY|EX|Italic|Symbols?)\b)",
)
MATH_WORDS = {"log", "ln", "exp", "sin", "cos", "tan", "max", "min", "sup", "inf", "lim", "det", "arg", "argmax", "argmin", "poly", "polylog", "Pr", "mod", "tr", "softmax"}
NOT_MATH_GLYPHS = set(".,;:•◦∗*†‡·() \t")
REFERENCE_HEADINGS = {"references", "bibliography", "literature cited", "works cited"}
NUMBERED = re.compile(r"^((?:\d+(?:\.\d+)*|[A-Z](?:\.\d+)*|[IVX]{1,5}(?=\.))\.?)\s+(\S.*)$")
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

    # A fragment's text, font and size never change once it is made, so what follows from them is
    # worked out once: the layout asks a row's text (and so each piece's font) many times over.
    @cached_property
    def bold(self) -> bool:
        return bool(re.search(r"bold|black|heavy|semibold|medi(?:um)?\b|-Medi|\.B\b|-B\b|(?:CM|LM|EU|T1)\w*BX|CMB\d|Bd\b", self.font, re.I))

    @property
    def end(self) -> float:
        return self.x + len(self.text) * self.size * CHAR_WIDTH

    @cached_property
    def letters(self) -> int:
        return sum(map(str.isalpha, self.text))

    @cached_property
    def math(self) -> bool:
        """Set in a math font (not just a full stop, comma or bullet it lends), or in Unicode's math letters."""
        if any("\U0001d400" <= ch <= "\U0001d7ff" for ch in self.text):
            return True
        return bool(MATH_FONT.match(self.font.split("+")[-1])) and any(ch not in NOT_MATH_GLYPHS for ch in self.text)


@dataclass
class Row:
    page: int
    y: float
    frags: list[Frag]
    role: str = "body"  # body | heading | caption | equation | table | furniture | small
    column: int = 0  # 0 full width / single, 1 left, 2 right
    heading: str = ""  # a heading's words, numbering dropped
    tail: str = ""  # after a run-in heading ("IV. Training. The final stage ..."), the text that starts its paragraph

    def _memo(self, name: str, work: Any) -> Any:
        """`work()` for this row, kept until its fragments change (a new list, or one grown, cut or
        sorted in place): the layout asks a row's size, font and text many times over."""
        # The fragments themselves are the key: comparing two tuples of the same objects is an
        # identity test per item, and building one is a copy in C (a tuple of ids cost a tenth of
        # the whole layout). An equal fragment put in place of another gives equal answers.
        key = tuple(self.frags)
        memo = self.__dict__.get("_kept")
        if memo is None or memo[0] != key:
            memo = (key, {})
            self.__dict__["_kept"] = memo
        if name not in memo[1]:
            memo[1][name] = work()
        return memo[1][name]

    @property
    def x(self) -> float:
        return self.frags[0].x

    @property
    def end(self) -> float:
        return self._memo("end", lambda: max(f.end for f in self.frags))

    @property
    def size(self) -> float:
        return self._memo("size", self._size)

    def _size(self) -> float:
        # The size most of the characters have: a superscript does not make a row small.
        sizes: Counter[float] = Counter()
        for f in self.frags:
            sizes[round(f.size, 1)] += len(f.text)
        return sizes.most_common(1)[0][0]

    @property
    def font(self) -> str:
        return self._memo("font", self._font)

    def _font(self) -> str:
        fonts: Counter[str] = Counter()
        for f in self.frags:
            fonts[f.font.split("+")[-1]] += len(f.text)
        return fonts.most_common(1)[0][0]

    @property
    def bold(self) -> bool:
        return self._memo("bold", self._bold)

    def _bold(self) -> bool:
        # Bold when the letters are: a symbol from a math font (→, ∞) does not make a heading plain.
        letters = sum(f.letters for f in self.frags)
        bold = sum(f.letters for f in self.frags if f.bold)
        return letters > 0 and bold >= 0.85 * letters

    def _pieces(self) -> list[tuple[str, bool]]:
        """The row's pieces in order, spaces put where the gaps are, each with whether it is math."""
        return self._memo("pieces", self._find_pieces)

    def _find_pieces(self) -> list[tuple[str, bool]]:
        pieces: list[tuple[str, bool]] = []
        out, out_end, prev_size = "", 0.0, 0.0
        for f in self.frags:
            piece = f.text
            if out and not out.endswith((" ", "-")) and not piece.startswith(" "):
                gap = f.x - out_end
                if gap > f.size * 0.15 and not _small_caps(out, piece, prev_size, f.size, gap):
                    out += " "
                    pieces.append((" ", False))
            out += piece
            pieces.append((piece, f.math))
            out_end = f.end
            prev_size = f.size
        return pieces

    @property
    def text(self) -> str:
        return self._memo("text", lambda: " ".join("".join(p for p, _ in self._pieces()).split()))

    @property
    def marked_text(self) -> str:
        """The text with inline math (pieces in a math font) between MATH_OPEN and MATH_CLOSE.

        Pieces between two math pieces join the span when they hold no word ("=", "(", "2",
        "log"); a full stop or comma that ends a span stays outside it, for the sentence.
        """
        pieces = self._pieces()
        math = [m for _, m in pieces]
        at = [i for i, m in enumerate(math) if m]
        for a, b in zip(at, at[1:]):
            between = "".join(p for p, _ in pieces[a + 1 : b])
            if all(w in MATH_WORDS for w in re.findall(r"[A-Za-z]+", between)):
                for i in range(a + 1, b):
                    math[i] = True
        out = ""
        i = 0
        while i < len(pieces):
            if not math[i]:
                out += pieces[i][0]
                i += 1
                continue
            j = i
            while j < len(pieces) and math[j]:
                j += 1
            span = "".join(p for p, _ in pieces[i:j])
            core = span.strip()
            rest = "".join(p for p, _ in pieces[j:])
            # A full stop ends the sentence only where the row ends or a new sentence starts ("u." in
            # "where u. is the reward" is the math's own).
            tail = re.search(r"[,;:]+$" if re.match(r"\s*[a-z]", rest) else r"[.,;:]+$", core)
            core, tail_text = (core[: tail.start()].rstrip(), tail.group(0)) if tail else (core, "")
            lead = span[: len(span) - len(span.lstrip())]
            trail = span[len(span.rstrip()) :]
            out += lead + (f"{MATH_OPEN}{core}{MATH_CLOSE}" if core else "") + tail_text + trail
            i = j
        return re.sub(r"\s+", " ", out).strip()


def _small_caps(before: str, piece: str, size_before: float, size: float, gap: float) -> bool:
    """'E' + 'MBED': small capitals are a capital and smaller capitals, drawn as two pieces."""
    if abs(size_before - size) < 0.05 * size or gap > 1.0 * max(size, size_before):
        return False
    head = re.search(r"[A-Z\-]+$", before)
    return bool(head) and bool(re.match(r"[A-Z\-]", piece)) and piece.split()[0].upper() == piece.split()[0]


@dataclass
class Layout:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    sections: list[dict[str, Any]] = field(default_factory=list)  # heading, text, level, appendix
    arxiv_id: str = ""
    captions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "authors": self.authors,
            "abstract": self.abstract,
            "sections": self.sections,
            "arxiv_id": self.arxiv_id,
            "captions": self.captions,
        }


