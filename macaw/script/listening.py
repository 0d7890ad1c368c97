"""A paper's sentence made fit to be heard, or dropped whole.

    listenable("As shown in Figure 3, the model converges [12].")  -> "The model converges."
    listenable("The code is at https://github.com/x/y.")           -> "The code is public on GitHub."
    listenable("the keys have dimension ⟦d_k⟧ and ...")            -> None (a fragment: lower-case start)
    listenable("Ivan Rodriguez∗ † Departamento de Física ...")     -> None (debris: an author block)

Dropped: fragments (a lower-case or symbol start, a function word at the end, no verb-sized
length), debris (table rows, author blocks, captions, the arXiv stamp, e-mail addresses),
sentences about a figure or table itself ("Table 2 shows"), section pointers, math that cannot
be said (macaw/script/math.py) and a PDF's math glyphs outside the marks.
"""

from __future__ import annotations

import re
from collections import Counter

from macaw.artifacts import MATH_CLOSE, MATH_OPEN
from macaw.script.math import GREEK_GLYPHS, speak_sentence
from macaw.script.spoken import pronounceable

# A sentence that leans on one before it: never a chapter's first, never read without that one.
LEANING = re.compile(
    r"^(?:This|These|That|Those|It|Its|They|Their|Them|Such|Here|Thus|Hence|Therefore|However|Moreover|"
    r"Furthermore|Also|Additionally|In addition|Similarly|Likewise|Finally|Then|Second|Secondly|Third|Thirdly|"
    r"Next|Instead|Otherwise|Consequently|Accordingly|In contrast|On the other hand|As a result|As such|"
    r"In this case|In particular|Nevertheless|Nonetheless|Still|Yet|Both|The latter|The former|The same|"
    r"Table|Tables|Figure|Figures|Fig|Eq|Equation|Algorithm|Section|Appendix|Above|Below|The above|The following)\b")

_FUNCTION_END = re.compile(
    r"\b(?:a|an|the|and|or|but|of|to|in|on|for|with|by|as|at|from|than|that|which|whose|is|are|was|were|be|"
    r"requires|into|via|between|such|its|their|our|e\.g|i\.e|cf|vs|et al)\.$", re.I)
_CITE_BRACKET = re.compile(r"\s*\[(?:\d+(?:\s*[,–-]\s*\d+)*|[A-Z][A-Za-z+]*\d{2,4}[a-z]?(?:[,;]\s*[A-Z][A-Za-z+]*\d{2,4}[a-z]?)*)\]")
# An author-year citation, in round or square brackets: "(Finn et al., 2017; Nichol, 2018)",
# "[Rajani et al., 2019, Marasović et al., 2021]", "(Yu et al., 2017; Campos Camunez et al., 2018)".
_CITE_NAME = r"(?:(?:van|de|von|der|De|Van)\s+)?[A-Z][^\W\d_]*(?:[-'’][^\W\d_]+)*"
_CITE_YEARS = r"(?:19|20)\d{2}[a-z]?(?:,[a-z])*(?:\s*,\s*(?:19|20)\d{2}[a-z]?(?:,[a-z])*)*"  # "2019, 2020", "2021b,a"
_CITE_ITEM = (rf"(?:[A-Z][\w-]{{0,10}}\s+[–-]\s+)?"  # a label: "RTE-1 – Dagan et al., 2006"
              rf"{_CITE_NAME}(?:\s+{_CITE_NAME})?(?:\s+(?:et\s+al\.?|and|&)\s*(?:{_CITE_NAME})?)?,?\s*{_CITE_YEARS}"
              r"(?:,\s*[A-Z]{2,6}\b)?")  # the name it gives the work: "(Dehghani et al., 2018, UT)"
_CITE_LIST = rf"(?:see\s+|cf\.\s*)?(?:e\.g\.,?\s*)?{_CITE_ITEM}(?:\s*[;,]\s*{_CITE_ITEM})*"
_CITE_PAREN = re.compile(rf"\s*(?:\({_CITE_LIST}\)|\[{_CITE_LIST}\])")
_CITE_INLINE = re.compile(r"\b([A-Z][A-Za-z'’\-]+(?:\s+et al\.?|\s+and\s+[A-Z][A-Za-z'’\-]+)?)\s+\(((?:19|20)\d{2})[a-z]?\)")
_POINTER_PAREN = re.compile(
    r"\s*\((?:see\s+|cf\.\s+)?(?:Fig(?:ure)?s?\.?|Tab(?:le)?s?\.?|Eqs?\.?|Equations?|Sec(?:tion)?s?\.?|§|Appendix|Alg(?:orithm)?\.?)"
    r"\s*[\dA-Z][^()]*\)", re.I)
_POINTER_LEAD = re.compile(
    r"^(?:As (?:shown|seen|illustrated|reported|listed|summari[sz]ed|described|discussed|depicted) in|As in|See|In)\s+"
    r"(?:Fig(?:ure)?\.?|Table|Section|Sec\.|Eq\.?|Equation|Appendix|Algorithm)\s*[\dA-Z.()]+,\s*", re.I)
_POINTER_ANY = re.compile(r"\b(?:Fig(?:ure)?s?\.?|Tables?|Eqs?\.|Equations?|Sections?|Sec\.|§|Appendix|Algorithm)\s*~?\(?S?\d"
                          r"|\b(?:see|in|from|by|and|using|of|to)\s+\(\d+(?:\.\d+)*[a-z]?\)"  # "see (3.12)": an equation's number
                          r"|\bAppendi(?:x|ces)\s+[A-Z]\b"
                          r"|\b(?:Sections?|Sec\.)\s+(?-i:[IVX]{1,5})\b"  # "In Section III we study": Roman, as physics numbers them
                          r"|\(\d{1,3}[a-z]?\)\s*(?:[–-]|and|to)\s*\(\d{1,3}[a-z]?\)"  # "(17)-(19) form a closed set": equations' numbers
                          r"|\b(?:Theorem|Lemma|Corollary|Proposition|Definition|Claim|Remark|Example)s?\s+[A-Z]?\d", re.I)
# "(see reference 7 for a review)", "(for details, see Bergh)", "(see Methods)": pointers a listener cannot follow.
# "described by the effective action (11)", "forbidden by the constraint (4)": an equation's number after
# the thing it numbers goes, the sentence stays. A number after any other word ("the user click (1) and
# non click (0)") may be a value and stays.
_EQUATION_NUMBER = re.compile(
    r"\b((?:action|constraint|condition|equation|relation|expression|definition|formula|inequality|identity|bound|estimate|"
    r"propagator|integral|ansatz|objective|recursion|recurrence|criterion|approximation|decomposition|expansion|"
    r"functional|Hamiltonian|Lagrangian|operator)s?)\s+\(\d{1,3}[a-z]?\)(?=[\s,.;:!?]|$)")
_SEE_PAREN = re.compile(r"\s*\((?:(?:for (?:details|a review|more details|an overview|example)|e\.g\.),?\s+)?(?:see|cf)\b\.?[^()]*\)", re.I)
# "... exact solutions—see for example." once the citations are out: the pointer clause goes.
_SEE_TAIL = re.compile(r"\s*(?:[—–;,]|\s-)\s*(?:see|cf)\b\.?[^—–;()]*?(?=[.!?]$)", re.I)
_FOOTNOTE = re.compile(r"(?<=[A-Za-z.,;)])[\u00b9\u00b2\u00b3\u2070-\u2079∗†‡§¶]+")
_URL = re.compile(r"\s*(?:\bat\s+|\(|:\s*)?\b(?:https?://|www\.)\S+?[)\]]?(?=[\s,;]|\.?$)", re.I)
_GITHUB = re.compile(r"\b(?:https?://)?(?:www\.)?github\.com/\S+", re.I)
_STAMP = re.compile(r"arXiv:\s*\d{4}\.\d{4,5}|\[(?:cs|math|stat|physics|astro-ph|q-bio|eess|hep-\w+|gr-qc|cond-mat)[.\w-]*\]", re.I)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_AFFILIATION = re.compile(r"\b(?:University|Universidad|Universität|Institute|Instituto|Departamento|Department|Laboratory|"
                          r"Lab\b|Inc\.|Corporation|Google Research|Google Brain|DeepMind|Microsoft Research|Facebook AI|"
                          r"Equal contribution|Corresponding author|Work done)", re.I)
_NUMBER_RUN = re.compile(r"(?<![\w.])\d[\d.,]*%?\s+\d[\d.,]*%?\s+\d[\d.,]*%?(?![\w.])")
# A table's row label with its cells glued on: "Zero-shot.628.667 One-shot.616.713" (2205.01068).
_GLUED_CELLS = re.compile(r"[A-Za-z)]\.\d{2,}\.\d{2,}")
_CAPTION = re.compile(r"^(?:Figure|Fig\.|Table|Algorithm|Listing)\s*\d+\s*[:.|]")
# Thanks and funding, also as a maths paper words them ("T.H. is supported by Grant-in-Aid ...",
# "partially supported by GNFM research group", "this work was done while T.H. stayed at ...").
_ACK = re.compile(r"\b(?:we thank|we are grateful|we acknowledge|acknowledg\w+|grant (?:no\.?|number)|funded by|supported by (?:the|a|an) )"
                  r"|\b(?:supported|funded|sponsored)(?: in part| partially| partly)? (?:by|through|via) (?:grants?\b|(?-i:[A-Z]{3,})\b)"
                  r"|\b(?:this )?work was (?:partly |partially |mostly )?(?:done|carried out|performed) (?:while|during)\b", re.I)
_SECTION_NUMBER = re.compile(r"^\d+(?:\.\d+)*\.?\s+(?=[A-Z])")
_SECTION_SIGN = re.compile(r"^In §\s*\d+(?:\.\d+)*,\s*|\s*\(§\s*\d+(?:\.\d+)*\)")
_SELF_POINTER = re.compile(r"^(?:In this (?:section|subsection|chapter)|In the (?:following|next) (?:section|subsection)|Here),?\s+", re.I)
_ELSEWHERE = re.compile(r"\b(?:this (?:section|subsection|chapter)|(?:previous|next|following) (?:section|subsection|chapter)|"
                        r"described (?:earlier|above|below)|shown (?:earlier|above|below)|see above|see below|as above)\b", re.I)
_WORD = re.compile(r"[A-Za-z]{2,}")
_NON_ASCII_MATH = re.compile("[\u2200-\u22ff\u2190-\u21ff\u27c0-\u27e5\u27e8-\u27ff\u2a00-\u2aff\u20d0-\u20ff"
                             "\u0300-\u036f\u02c0-\u02ff\U0001d400-\U0001d7ff∑∏√∫≤≥≈∼±×·−„]")
# A PDF's text layer at its worst: small-capital glyph names, two slashes in a word, a hyphen left hanging.
# A heading run into its first sentence ("GLUE The General Language ..."), a split word ("B idirectional").
_RUN_IN = re.compile(r"[^\s.,;:!?\"“(] (?:The|We|Our|In this) \w|\b[B-HJ-Z] [a-z]{3,}|#\s?\d")
_GLUED_FOOTNOTE = re.compile(r"(?<=[a-z]{4})\d{1,2}(?=[\s,.;:])|(?<=[a-z]),\d{1,2}(?=\s)")
_MATH_SPAN = re.compile(re.escape(MATH_OPEN) + ".*?" + re.escape(MATH_CLOSE), re.S)
_SOUP = re.compile(r"\.sc\b|\S/\S*/|(?<=[a-z])-(?=[\s,.;:])|\b(?:i\.e|e\.g)\.(?=[a-z])|@|§|[a-z]\(\d+\)|\bd\w?/d\w")


def _github(m: re.Match[str]) -> str:
    return " on GitHub"


def _jumbled(token: str) -> bool:
    """A code name mixing capitals with small letters or digits, four capitals or more ("IMRPhenomXPHM")."""
    capitals = sum(c.isupper() for c in token)
    return capitals >= 4 and not token.isupper() and not (token[:-1].isupper() and token.endswith("s"))


def strip_references(sentence: str) -> str:
    """Citations, pointers to figures, tables, equations and sections, footnote marks: out."""
    s = sentence
    s = _POINTER_LEAD.sub("", s)
    if s != sentence and s:
        s = s[0].upper() + s[1:]
    s = _CITE_BRACKET.sub("", s)
    s = _CITE_PAREN.sub("", s)
    s = _CITE_INLINE.sub(r"\1", s)
    s = _POINTER_PAREN.sub("", s)
    s = _EQUATION_NUMBER.sub(r"\1", s)
    s = _SEE_PAREN.sub("", s)
    s = _SEE_TAIL.sub("", s)
    s = _FOOTNOTE.sub("", s)
    s = _GLUED_FOOTNOTE.sub(lambda m: "," if m.group(0).startswith(",") else "", s)
    s = _SECTION_NUMBER.sub("", s)
    s = _SECTION_SIGN.sub("", s)
    s = re.sub(r"\(\s*\)", "", s)
    s = re.sub(r"\s+([,.;:!?])", r"\1", s)
    s = re.sub(r"[,;:]+(?=[.!?]$)", "", s)  # "adopted also by [2], [5]." -> "adopted also by reference 2."
    return re.sub(r"\s+", " ", s).strip()


def _urls(sentence: str) -> str | None:
    if not re.search(r"https?://|www\.", sentence, re.I):
        return sentence
    if not _GITHUB.search(sentence):
        return None  # a URL a listener cannot use: the sentence goes, the show notes keep the paper's links
    s = re.sub(r"\s*(?:\bat\s+|\bon\s+|\bfrom\s+|\(|:\s*)?" + _GITHUB.pattern + r"[)\]]?", " on GitHub", sentence, flags=re.I)
    s = re.sub(r"\b(?:is|are) (?:publicly )?(?:available|released) on GitHub", "is public on GitHub", s)
    s = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s+", " ", s)).strip()
    if re.search(r"https?://|www\.", s):
        return None
    return s if s.endswith((".", "!", "?")) else s + "."


def is_debris(sentence: str) -> bool:
    """Table rows, author blocks, captions, stamps: text from a page, not from the prose."""
    words = sentence.split()
    if _CAPTION.match(sentence) or _STAMP.search(sentence) or _EMAIL.search(sentence):
        return True
    if _AFFILIATION.search(sentence) and sum(w[:1].isupper() for w in words) > 0.5 * len(words):
        return True
    numeric = sum(bool(re.fullmatch(r"[\d.,±%()+\-–]+", w)) for w in words)
    if (numeric >= 4 and numeric > 0.3 * len(words)) or _NUMBER_RUN.search(sentence) or _GLUED_CELLS.search(sentence):
        return True  # a table row, or a table's cells run into a sentence ("than 0.8 0.8 0.8")
    if re.search(r"(?:;\s*[^;]{1,30}){3,}", sentence) or "..." in sentence or "…" in sentence:
        return True  # a table's list of short items run into a sentence ("Tea party; Easter; Bridal shower;...")
    capitalised = sum(w[:1].isupper() for w in words)
    if len(words) >= 6 and capitalised > 0.75 * len(words):
        return True  # a heading run into a row, or a list of names
    return bool(_ACK.search(sentence))


# A full stop inside a sentence with a small letter after it: two pieces of the page glued together,
# unless the word before it is an abbreviation ("et al. show", "vs. the", "e.g. the", "Fig. a").
_STOP_THEN_SMALL = re.compile(r"(\S+)\.\s+(?=[a-z])")
_ABBREVIATED = {"al", "vs", "cf", "etc", "resp", "approx", "viz", "ca", "fig", "figs", "eq", "eqs", "sec", "no", "ref", "refs", "vol",
                "pp", "ch", "dept", "univ", "incl", "min", "max", "avg", "std", "var", "est", "ibid", "op", "cit"}


def _glued(sentence: str) -> bool:
    for m in _STOP_THEN_SMALL.finditer(sentence):
        word = m.group(1).strip("([\"“‘").lower()
        if word in _ABBREVIATED or "." in word or len(word) <= 1:
            continue
        return True
    return False


def is_fragment(sentence: str) -> bool:
    s = sentence.strip()
    if not s or not (s[0].isupper() or s[0].isdigit() or s[0] in "\"“"):
        return True
    if s[-1] not in ".!?":
        return True
    if _FUNCTION_END.search(s):
        return True
    if s.count("(") != s.count(")") or s.count("[") != s.count("]"):
        return True
    return not 6 <= len(s.split()) <= 45


def listenable(sentence: str, *, latex: bool = False) -> str | None:
    """The sentence as a listener should hear it, or None when it cannot be read whole.

    `latex`: its math was written in LaTeX (the source path); otherwise it is a PDF's glyphs,
    said only where nothing can have been lost (macaw/script/math.py).
    """
    s = re.sub(r"\s+", " ", sentence).strip()
    if not s or is_debris(s):
        return None
    if _POINTER_ANY.match(s) or re.match(r"^(?:Table|Figure|Fig\.)\s", s):
        return None  # about a figure or table itself: nothing a listener can see
    s = said_names(strip_references(s))
    if _RUN_IN.search(_MATH_SPAN.sub(" x ", s)) or re.search(r"[=<>]", _MATH_SPAN.sub(" ", s)):
        return None  # before the math is said: "P drop" is math, "B idirectional" a split word, "gk = g" unmarked math
    spoken = _urls(s)
    if spoken is None:
        return None
    if MATH_OPEN in spoken or MATH_CLOSE in spoken:
        spoken = speak_sentence(spoken, glyphs=not latex)
        if spoken is None:
            return None
    for glyph, name in GREEK_GLYPHS.items():
        if glyph in spoken and re.search(rf"(?<![\w]){re.escape(glyph)}(?![\w])", spoken):
            spoken = re.sub(rf"(?<![\w]){re.escape(glyph)}(?![\w])", name, spoken)
    if _NON_ASCII_MATH.search(spoken) or re.search(r"[{}\\^_$]", spoken) or _SOUP.search(spoken):
        return None  # math from a PDF's text layer, or raw LaTeX: not said cleanly
    pointed = _SELF_POINTER.sub("", spoken)
    if pointed != spoken:  # "In this section, we describe ..." -> "We describe ..."
        spoken = pointed[:1].upper() + pointed[1:]
    if _POINTER_ANY.search(spoken) or _ELSEWHERE.search(spoken) or "|" in spoken:
        return None  # "the results in Table 3 show": leans on what the listener cannot see
    if any(_jumbled(token) for token in re.findall(r"[A-Za-z0-9]+", spoken)):
        return None  # "IMRPhenomXPHM", "SEOBNRv4PHM": a code name no voice says so that it is heard back
    if re.search(r"\b(?:of|to|with|by|for|from|on|than)\s+(?:we|they|it is|he|she)\b", spoken, re.I):
        return None  # "the expectation of we are left": the math between them was lost from the text layer
    if re.search(r"\b[Ll]et\s+(?:are|is|be|denote|there|then|and)\b", spoken):
        return None  # "Let are a lot of solutions": "Let 1 < q < ∞. Given f ..., there are" with its math lost
    if re.search(r"(?:\b(?![aAI]\b)[A-Za-z]\b[\s,]*){4,}", spoken):
        return None  # single letters in a row: glyph soup
    letters = sum(c.isalpha() for c in spoken)
    if letters < 0.65 * len(spoken.replace(" ", "")):
        return None
    if _glued(spoken):
        return None  # "... by the effective action. to a single node.": a caption or a table's cells run into it
    if is_fragment(spoken):
        return None
    return spoken


_HYPHENATED = re.compile(r"\b([A-Za-z]+)-([a-z]+)\b")
_WORDS = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def vocabulary(text: str) -> Counter[str]:
    """How often each word (hyphenated ones whole) stands in a text, lower-cased."""
    return Counter(w.lower() for w in _WORDS.findall(text))


def rejoin_hyphens(sentence: str, words: Counter[str]) -> str:
    """A word a line break hyphenated and the PDF kept ("in-troduced") written whole again.

    Decided by the paper's own words: the pieces are joined where the paper writes the joined
    word more often than the hyphenated one ("introduced" 9 times, "in-troduced" once) and never
    writes the second piece alone ("troduced"), so a compound ("fine-tuned", "first-order", even
    where a PDF glued "firstorder" elsewhere) stays as it is.
    """

    def join(m: re.Match[str]) -> str:
        whole = (m.group(1) + m.group(2)).lower()
        if words[m.group(2).lower()] or words[whole] <= words[m.group(0).lower()]:
            return m.group(0)  # "first-order": "order" is a word of its own
        return m.group(1) + m.group(2)

    return _HYPHENATED.sub(join, sentence)


# "It remains unclear whether ...", "It is known that ...": a dummy "it" leans on nothing.
_DUMMY_IT = re.compile(r"^It (?:is|was|remains|seems|appears|has been|turns out)\b(?: [\w-]+){0,3}? (?:that|whether|to|how|if)\b")
_EARLY_PRONOUN = re.compile(r"^(?:[\w-]+,?\s+){1,3}(?:it|its|they|their|them|these|those|this|such)\b"
                            r"(?!\s+(?:paper|work|article|study|report|thesis|note|letter)\b)", re.I)


def leans(sentence: str) -> bool:
    """Does the sentence lean on one before it ("This ...", "On translation it reaches ...")?"""
    s = sentence.strip()
    if _DUMMY_IT.match(s):
        return False
    return bool(LEANING.match(s) or _EARLY_PRONOUN.match(s))


# -- acronyms a paper defines: "deep neural networks (DNNs)" --------------------------------

_DEFINITION = re.compile(r"\s*\(([A-Z]{2,7})(s?)\)")
_SHORT_WORDS = {"all", "any", "are", "big", "can", "few", "get", "how", "its", "new", "not", "now", "off", "one", "our", "out",
                "two", "use", "way", "who", "why", "you", "yes", "low", "top", "end", "key"}
_SMALL_WORDS = {"of", "the", "and", "for", "to", "a", "an", "in", "on", "with", "by", "from", "based"}
_EXPANSION_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")


def _spells(letters: str, words: list[str]) -> bool:
    """Do `words` (hyphenated ones in pieces) give `letters`, each its first letter, small words optional?"""
    if not letters:
        return not words
    if not words:
        return False
    word, rest = words[0], words[1:]
    if word.lower() in _SMALL_WORDS and _spells(letters, rest):
        return True
    if word.isupper() and len(word) > 1 and letters.startswith(word):  # "first-order MAML (FOMAML)"
        return _spells(letters[len(word):], rest)
    return word[0].upper() == letters[0] and _spells(letters[1:], rest)


def defined_acronyms(text: str) -> dict[str, str]:
    """The acronyms a text defines by writing them in brackets after their words, with those words:
    "Noise Contrastive Estimation (NCE)" -> {"NCE": "Noise Contrastive Estimation"}; "deep neural
    networks (DNNs)" -> {"DNN": "deep neural network"}. The words must give the letters in order
    (each its first letter; "of", "the", "and" may be skipped), so "the LUX detector (TPC)" defines nothing."""
    found: dict[str, str] = {}
    for m in _DEFINITION.finditer(text):
        acronym, plural = m.group(1), m.group(2)
        before = re.findall(r"[A-Za-z][\w'’]*(?:-[A-Za-z][\w'’]*)*", text[max(0, m.start() - 160):m.start()])
        for n in range(1, min(len(acronym) + 4, len(before)) + 1):
            phrase = before[-n:]
            pieces = [p for w in phrase for p in w.split("-") if p]
            if phrase[0].lower() in _SMALL_WORDS or not _spells(acronym, pieces):
                continue
            words = " ".join(phrase)
            if plural and words.endswith("s") and not words.endswith("ss"):
                words = words[:-1]
            found.setdefault(acronym, words)
            break
    return found


def _plural(words: str) -> str:
    if re.search(r"(?:s|x|ch|sh)$", words):
        return words + "es"
    if re.search(r"[^aeiou]y$", words):
        return words[:-1] + "ies"
    return words + "s"


def expand_acronyms(sentence: str, table: dict[str, str]) -> str:
    """A defined acronym said as its words: its definition in brackets goes, and where it is used
    alone the listener hears what it stands for ("the DNNs" -> "the deep neural networks"), not
    letters they were never told the meaning of."""
    if not table:
        return sentence

    def definition(m: re.Match[str]) -> str:
        return "" if m.group(1) in table else m.group(0)

    s = _DEFINITION.sub(definition, sentence)

    def use(m: re.Match[str]) -> str:
        words = table[m.group(1)]
        if m.group(2):
            words = _plural(words)
        if m.start() == 0 or re.search(r"[.!?]\s*$", s[:m.start()]):
            words = words[0].upper() + words[1:]
        return words

    pattern = r"(?<![\w-])(" + "|".join(sorted(map(re.escape, table), key=len, reverse=True)) + r")(s)?(?![\w-])"
    return re.sub(pattern, use, s)


# -- acronyms said as words: "MAML", "WIMP", "NASA" (the rule is spoken.pronounceable, shared with journals) --


_SHORT_WORDS = {"all", "any", "are", "big", "can", "few", "get", "how", "its", "new", "not", "now", "off", "one", "our", "out",
                "two", "use", "way", "who", "why", "you", "yes", "low", "top", "end", "key"}
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "via", "with"}


def unshouted(title: str) -> str:
    """A title set in capitals, in title case: the voice spelled "S E A R C H-A L I G N" and read
    "ALIGNMENT" as an acronym. Words of two or three letters that are not small words stay
    capitals (DNA, GPU, RL); a title that is not mostly capitals is left as it is."""
    words = re.findall(r"[A-Za-z]+", title)
    if len(words) < 3 or sum(w.isupper() and len(w) > 1 for w in words) < 0.7 * len(words):
        return title

    def case(m: re.Match[str]) -> str:
        word = m.group(0)
        if word.lower() in _SMALL_WORDS and m.start() > 0:
            return word.lower()
        prefix = m.string[m.end() : m.end() + 1] == "-"  # "PRE-TRAINING", "NON-LINEAR"
        return word if len(word) <= 3 and not prefix and word.lower() not in _SHORT_WORDS else word.capitalize()

    return re.sub(r"[A-Za-z]+", case, title)


def spoken_acronyms(text: str) -> dict[str, str]:
    """The acronyms of a text said as words, as a lexicon gives them ({"MAML": "Maml"})."""
    return {a: a.capitalize() for a in set(re.findall(r"(?<![\w-])([A-Z]{4,8})(?=s?(?![\w-]))", text)) if pronounceable(a)}


_ET_AL = re.compile(r"\bet al\.?(?!,?\s*\(?(?:19|20)\d\d)(?:(?=[\s,;:)])|\.?$)")  # a citation's "et al., 2015" is left to strip_references


def said_names(sentence: str) -> str:
    """'Finn et al.' as it is said: 'Finn and colleagues' (the transcript shows what the voice says)."""
    return _ET_AL.sub(lambda m: "and colleagues" + ("." if m.group(0).endswith("..") or m.end() == len(sentence) and m.group(0).endswith(".") else ""), sentence)


_COMPOUND = re.compile(r"(?<=[A-Za-z][a-z])-(?=[a-z]{2})")


def spaced_compounds(spoken: str) -> str:
    """A hyphenated compound spoken as its words: Piper reads "meta-learning" as one word, which
    tiny.en heard as "metal -learning" 2 times in 2, and "meta learning" right 2 in 2."""
    return _COMPOUND.sub(" ", spoken)
