"""The one spoken-form normaliser, shared by write (what the voice says), speak, and check.

`to_spoken(text)` turns written text into words a voice reads well: numbers, decimals,
percentages, years, ranges, symbols, citations, URLs. `wer_words(text)` is the form both the
script and the recogniser's transcript are reduced to before words are compared, so "34%",
"thirty-four percent" and "34 percent" all count as the same three words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from num2words import num2words

from macaw.script.quantities import NEGATIVE, PER, SCIENTIFIC, UNIT, negative, per, scientific, unit
from macaw.script.written import MONTHS as _MONTHS, math_words, ordinal as _ordinal, say_written, tidy_spoken

# Acronyms said as words, not spelled. Users extend this through `lexicon` arguments.
# Most are found by their shape (`pronounceable`: NASA, ARENA, MIDI, YAML); these are the ones
# the rule cannot tell: three letters, or an onset English has no word with (JPEG).
WORD_ACRONYMS = {"GIF", "JPEG", "RAM", "ROM"}

# Terms a voice gets wrong when it reads the letters. Users extend this with a lexicon file
# (`[script] lexicon` in macaw.toml; see load_lexicon).
PRONUNCIATIONS = {
    "arXiv": "archive",
    "Macaw": "Mackaw",  # Piper reads "Macaw" as "Matt call"; this spelling comes back as "Macaw"
    "LaTeX": "lah-tek",
    "PyTorch": "pie torch",
    "NumPy": "num pie",
    "SciPy": "sigh pie",
    "GitHub": "git hub",
    "ResNet": "res net",
    "ImageNet": "image net",
    "BERT": "bert",
    "GPU": "G P U",
    "NNFS": "N N F S",
    # Letters joined by hyphens are said as one term; with spaces Piper swallows the first letter
    # ("A I safety" came back as "I safety" 3 times in 3, "A-I safety" as "AI safety" 3 in 3;
    # "M L" as "L" 3/3 vs "M-L" as "ML" 3/3; "A S R" as "SR" 3/3 vs "A-S-R" 3/3 right).
    "AI": "A-I",
    "ML": "M-L",
    "ASR": "A-S-R",
    "CNN": "C.N.N.",
    "README": "read me",
    # Words a programmer's journal is full of, said as programmers say them.
    "asyncio": "async I-O",
    "JSON": "jason",
    "GUI": "gooey",
    "stdout": "standard out",
    "stdin": "standard in",
    "macOS": "mac O-S",
    "kwargs": "keyword args",
    "venv": "V-env",
    "pytest": "pie test",
    "IPython": "I-Python",
    "AJAX": "ay-jax",
    "jQuery": "jay query",
    "JQuery": "jay query",
    "sklearn": "S-K learn",
    "scikit-learn": "sci-kit learn",
    "TLDR": "T L D R",  # "C-N-N" came back right 1 time in 3, "C.N.N." 3 in 3
}

Lexicon = set[str] | frozenset[str] | dict[str, str]


def load_lexicon(path: str | Path) -> dict[str, str]:
    """Read a pronunciation lexicon: one entry a line, `#` starts a comment.

        TERM = how to say it     ("arXiv = archive", "SQL = sequel")
        TERM                     an acronym said as a word rather than spelled ("NASA")
    """
    lexicon: dict[str, str] = {}
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        term, sep, said = line.partition("=")
        term = term.strip()
        if term:
            lexicon[term] = said.strip() if sep and said.strip() else term.capitalize()
        # An acronym with no pronunciation is said as a word, like the WORD_ACRONYMS.
    return lexicon

_SYMBOLS = {
    "&": " and ",
    "+": " plus ",
    "=": " equals ",
    "≈": " approximately ",
    "±": " plus or minus ",
    "×": " times ",
    "→": " to ",
    "≤": " at most ",
    "≥": " at least ",
    "<": " less than ",
    ">": " greater than ",
    "@": " at ",
    "~": " about ",
    "°": " degrees ",
    "#": " number ",
}

_URL = re.compile(r"\b(?:https?://|www\.)([^\s/]+)[^\s]*", re.I)
_CITATION_BRACKET = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")
_CITATION_PAREN = re.compile(r"\s*\((?:[A-Z][A-Za-z'-]+(?: et al\.?| and [A-Z][A-Za-z'-]+)?,? \d{4}[a-z]?(?:; )?)+\)")
_COMPACT_DATE = re.compile(r"\b(19|20)(\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\b")
_RANGE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*[–-]\s*(\d+(?:\.\d+)?)(?!\w|\.\d)")  # "pages 10-20." at a sentence's end too
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|s)?(?![\d])")
_LETTER_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?!(?:st|nd|rd|th|s)\b)(?=[A-Za-z]{2,})")
_ACRONYM = re.compile(r"\b([A-Z]{2,6})(s?)\b")
_SPACES = re.compile(r"\s+")
_ARXIV_ID = re.compile(r"(?<![\w.])(\d{4})\.(\d{4,5})(?:v(\d+))?(?!\w|\.\d)")
_DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


_ABBREVIATION_WORDS = [
    (re.compile(r"\be\.g\.,?"), "for example,"),
    (re.compile(r"\bi\.e\.,?"), "that is,"),
    (re.compile(r"\bet al\.(?=\s|$|,)"), "and colleagues"),
    (re.compile(r"\bvs\.?(?=\s|$)"), "versus"),
    (re.compile(r"\b[Mm]isc\.?(?=\s|$)"), "miscellaneous"),
    (re.compile(r"\b[Aa]pprox\.(?=\s|$)"), "approximately"),
    (re.compile(r"\bcf\.(?=\s)"), "compare"),
    (re.compile(r"\bFig\.(?=\s)"), "Figure"),
    (re.compile(r"\bEq\.(?=\s)"), "Equation"),
    (re.compile(r"\bSec\.(?=\s)"), "Section"),
]
_MAGNITUDE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)([kKMB])(?![\w])")
_TIMES = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[x×](?![\w])")
_MATH = re.compile(r"\$([^$]{1,200})\$")
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "θ": "theta", "λ": "lambda",
    "μ": "mu", "π": "pi", "σ": "sigma", "τ": "tau", "φ": "phi", "ω": "omega", "Δ": "delta", "Σ": "sigma",
}


def _math(m: re.Match[str]) -> str:
    return math_words(m.group(1))


def _digits(run: str) -> str:
    return " ".join(_DIGIT_NAMES[int(d)] for d in run)


def _arxiv_id(m: re.Match[str]) -> str:
    # arXiv ids are read digit by digit, as people read them out: "one seven zero six dot ..."
    version = f" version {num2words(int(m.group(3)))}" if m.group(3) else ""
    return f"{_digits(m.group(1))} dot {_digits(m.group(2))}{version}"


def _number_words(integer: str, fraction: str | None, suffix: str | None) -> str:
    value = int(integer.replace(",", ""))
    if fraction:
        return num2words(value) + " point " + " ".join(num2words(int(d)) for d in fraction)
    if suffix in ("st", "nd", "rd", "th"):
        return num2words(value, to="ordinal")
    if suffix == "s" and 1000 <= value <= 2099 and value % 10 == 0:  # the 1990s
        return num2words(value, to="year").replace("ty", "ties") if value % 100 else num2words(value, to="year") + "s"
    if "," not in integer and 1100 <= value <= 2099 and len(integer) == 4:
        return num2words(value, to="year")
    return num2words(value)


# A four-digit number a year could be ("1200", "2048") counts something when a lower-case word
# follows it and nothing before it says "year" ("1200 hidden units", not "in 2015 we"): said as
# the number, as the recogniser writes it back ("1,200").
_FOUR_DIGITS = re.compile(r"(?<![\w.,])(1[1-9]\d\d|20\d\d)(?=\s+[a-z])(?!\s+(?:and|or|to|through|until|when|onwards?|was|is|were|had|saw)\b)")
_YEAR_CONTEXT = re.compile(r"(?:\b(?:in|since|from|until|till|by|during|before|after|around|circa|early|late|mid|year|years|"
                           + "|".join(_MONTHS) + r")|\b(?:summer|winter|spring|autumn|fall|end|start|beginning|middle) of|[(,])\s*$", re.I)


_AFTER_A_NAME = re.compile(r"\b[A-Z][A-Za-z]*[A-Z][A-Za-z]*\s*$")  # "ECCV 2014", "ILSVRC 2014", "NeurIPS 2020"


def _count(m: re.Match[str]) -> str:
    before = m.string[max(0, m.start() - 24):m.start()]
    # after a name, only a recent year: "ECCV 2014" is a year, "GPT 2048 tokens" a count
    if _YEAR_CONTEXT.search(before) or _AFTER_A_NAME.search(before) and 1950 <= int(m.group(1)) <= 2035:
        return m.group(0)
    return num2words(int(m.group(1)))


# Words an author shouts in capitals ("BUT if you", "**DONE**") are words, not acronyms.
SHOUTED_WORDS = {"BUT", "AND", "NOT", "THE", "ALL", "NEW", "DONE", "TODO", "YES", "NO", "NOW", "WHY", "HOW", "WHAT",
                 "VERY", "THIS", "THAT", "ONLY", "NEVER", "ALWAYS", "MUST", "STOP", "WAIT", "LOG", "NOTE", "HUGE", "BIG", "SO", "OR", "EDIT", "LETS", "OUT", "OMG", "LOL",
                 "CODE", "REALLY", "SUPER", "LOVE", "GOOD", "BAD", "WORK", "HELP", "THANKS", "FREE", "NEED", "WANT", "BEST",
                 "MORE", "LESS", "FUN", "YOU", "WILL", "CAN", "DID", "HAVE", "IS", "ARE", "WAS", "WE", "IT", "OF", "TO", "IN", "ON"}
_SHOUTING = re.compile(r"\b[A-Z]{2,}(?:'[A-Z]+)?(?:\s+[A-Z]{2,}(?:'[A-Z]+)?){2,}\b")  # three capitalised words in a row


# The consonants an English word may start or end with (before its first vowel, after its last):
# an acronym shaped like a word (NASA, ARENA, MIDI, YAML, SCUBA) is said as one; one that is not
# (NNFS, SQL, RMSE, ILSVRC, HTTPX) is spelled.
_ONSETS = {"", "BL", "BR", "CH", "CL", "CR", "DR", "FL", "FR", "GL", "GR", "KN", "PH", "PL", "PR", "SC", "SH", "SK", "SL", "SM",
           "SN", "SP", "SQ", "ST", "SW", "TH", "TR", "TW", "WH", "WR", "QU", "SQU", "SCR", "SPR", "STR", "SPL", "THR", "SHR"}
_CODAS = {"", "CH", "CK", "CT", "FT", "LD", "LF", "LK", "LL", "LM", "LP", "LT", "ML", "MP", "ND", "NG", "NK", "NT", "PH", "PT",
          "RB", "RD", "RK", "RL", "RM", "RN", "RP", "RT", "SH", "SK", "SP", "SS", "ST", "TH", "XT", "LS", "MS", "NS", "PS", "TS", "RS",
          "DS", "GS", "KS", "NTS", "NDS", "RTS", "RDS", "STS", "NKS", "CKS", "LTS"}


def pronounceable(acronym: str) -> bool:
    """Is an all-capitals word shaped like a word English speakers say (vowels where a word has them)?

    Four letters or more; the consonants before the first vowel an English onset, those after the
    last an English coda, at most two consonants between two vowels (three when an onset), no run
    of three vowels. Y is a vowel after the first letter ("YAML", "VERY").
    """
    word = acronym.upper()
    if len(word) < 4 or not word.isalpha():
        return False
    shape = "".join("V" if (c in "AEIOU" and word[i - 1 : i] != "Q") or c == "Y" and i > 0 else "C" for i, c in enumerate(word))
    if "V" not in shape or "VVV" in shape or re.search(r"(.)\1\1", word):
        return False
    first, last = shape.index("V"), shape.rindex("V")
    if len(word[:first]) > 1 and word[:first] not in _ONSETS or word[last + 1 :] not in _CODAS and len(word[last + 1 :]) > 1:
        return False
    if first == 0 and word[0] == word[1]:  # "AAAI", "EEG": letters
        return False
    for gap in re.finditer(r"C+", shape[first:last + 1]):
        run = word[first + gap.start() : first + gap.end()]
        if len(run) > 3 or len(run) == 3 and run[1:] not in _ONSETS and run[:2] not in _CODAS:
            return False
    return True


def _spell(acronym: str, lexicon: frozenset[str]) -> str:
    if acronym in lexicon:
        return acronym.capitalize()
    if acronym in SHOUTED_WORDS:
        return acronym.lower()  # a shouted word ("BUT", "DONE"), not letters to spell
    if pronounceable(acronym):
        return acronym.capitalize() if len(acronym) <= 5 else acronym.lower()  # "Arena", "update"
    # Two letters joined by a hyphen: with a space Piper swallows the first ("H N" came back as
    # "H &" 2 times in 2, "H-N" as "HN" 2 in 2; so "A I", "M L" before). Longer ones keep spaces
    # (measured mixed: "S Q L" 2/2 right, "H T M L" 2/2 as "HTM L", "H-T-M-L" as "HD ML" 2/2).
    return "-".join(acronym) if len(acronym) == 2 else " ".join(acronym)


def spell_acronyms(text: str, lexicon: Lexicon | None = None) -> str:
    """Each all-capitals word that is not said as a word, letter by letter ("NNFS" "N N F S");
    "ARENA" and the lexicon's words stay whole. The retakes' spelled-out alternative uses it."""
    words = set(WORD_ACRONYMS) | SHOUTED_WORDS | (set(lexicon) if lexicon else set())
    return re.sub(r"\b([A-Z]{2,})\b", lambda m: m.group(1) if m.group(1) in words or pronounceable(m.group(1)) else " ".join(m.group(1)), text)


@lru_cache(maxsize=64)
def _pronunciation_pattern(pairs: frozenset[tuple[str, str]]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    table = dict(pairs)
    if not table:
        return None, table
    terms = sorted(table, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(t) for t in terms) + r")(?![A-Za-z-])"), table


# "1/7th the carbon footprint", "2/3rds of the data": a fraction written with its ordinal's ending.
_FRACTION_ORDINAL = re.compile(r"(?<![\w/.])(\d{1,2})/(\d{1,3})(?:st|nd|rd|th)(?:s)?\b")


def _fraction(m: re.Match[str]) -> str:
    top, bottom = int(m.group(1)), int(m.group(2))
    name = {2: "half", 4: "quarter"}.get(bottom) or num2words(bottom, to="ordinal").replace("-", " ")
    return f"{num2words(top)} {name}{'s' if top > 1 else ''}"


@lru_cache(maxsize=4096)
def _to_spoken(text: str, lexicon: frozenset[str], pronunciations: frozenset[tuple[str, str]] = frozenset()) -> str:
    text = say_written(text.replace("´", "'"))
    text = PER.sub(per, text)  # before the lexicon spells "GPU"
    pattern, table = _pronunciation_pattern(pronunciations)
    if pattern is not None:
        text = pattern.sub(lambda m: table[m.group(1)], text)
    text = _URL.sub(lambda m: " " + m.group(1).removeprefix("www.") + " ", text)
    text = _FRACTION_ORDINAL.sub(_fraction, text)
    text = _CITATION_BRACKET.sub("", text)
    text = _CITATION_PAREN.sub("", text)
    text = _ARXIV_ID.sub(_arxiv_id, text)
    for pattern, words in _ABBREVIATION_WORDS:
        text = pattern.sub(words, text)
    text = _MATH.sub(_math, text)
    for letter, name in _GREEK.items():
        text = text.replace(letter, f" {name} ")
    text = SCIENTIFIC.sub(scientific, text)
    text = _MAGNITUDE.sub(lambda m: f"{m.group(1)} {dict(k='thousand', K='thousand', M='million', B='billion')[m.group(2)]}", text)
    text = _TIMES.sub(lambda m: f"{m.group(1)} times", text)
    text = UNIT.sub(unit, text)
    text = _PERCENT.sub(lambda m: m.group(1) + " percent", text)
    text = _RANGE.sub(lambda m: f"{m.group(1)} to {m.group(2)}", text)
    # "at index -1": "minus one", not "- one" (the voice skips a lone dash); after a name's capitals
    # the dash joins the name to its number ("ZeRO -100B", a PDF's "ZeRO-100B").
    text = NEGATIVE.sub(negative, text)
    text = _COMPACT_DATE.sub(lambda m: f"{_MONTHS[int(m.group(3)) - 1]} {_ordinal(int(m.group(4)))}, {m.group(1)}{m.group(2)}", text)
    text = _LETTER_DIGIT.sub(" ", text)
    text = _FOUR_DIGITS.sub(_count, text)
    text = _NUMBER.sub(lambda m: " " + _number_words(m.group(1), m.group(2), m.group(3)) + " ", text)
    text = _SHOUTING.sub(lambda m: m.group(0).lower(), text)
    text = _ACRONYM.sub(lambda m: _spell(m.group(1), lexicon) + ("'s" if m.group(2) else ""), text)
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    text = text.replace("_", " ").replace("/", " slash ").replace("*", "").replace("`", "")
    text = tidy_spoken(text)
    text = re.sub(r"(?<=\w) -(?=[A-Za-z])|(?<=[A-Za-z])- (?=[a-z])", "-", text)  # "one hundred-line", "cifar-ten"
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))  # "( thirty" from a number said inside brackets
    text = re.sub(r"\s*[:;,]+\s*\)", ")", text)  # "(hint: 🐔)" without its emoji
    text = re.sub(r"\(\s*\)", "", text)  # brackets left empty (an emoticon or a dropped citation was all they held)
    return _SPACES.sub(" ", text).strip()


def to_spoken(text: str, lexicon: Lexicon | None = None) -> str:
    """Written text -> the words a voice should say.

    `lexicon` is either a set of acronyms said as words, or a mapping from a term to how it
    is said (what load_lexicon returns); either extends the built-in tables.
    """
    words = set(WORD_ACRONYMS)
    table = dict(PRONUNCIATIONS)
    if isinstance(lexicon, dict):
        table.update(lexicon)
    elif lexicon:
        words |= set(lexicon)
    return _to_spoken(text, frozenset(words), frozenset(table.items()))


# One spelling for words a recogniser may write either way: the same word, said the same.
# British -> American (tiny.en writes American), and a few common alternatives. Only whole words
# that are one word in two spellings belong here, never homophones ("peak"/"peek" differ).
SPELLING_VARIANTS = {
    "recogniser": "recognizer", "recognisers": "recognizers", "recognise": "recognize", "recognised": "recognized",
    "recognises": "recognizes", "recognising": "recognizing", "normalise": "normalize", "normalised": "normalized", "normaliser": "normalizer", "normalisation": "normalization",
    "normalises": "normalizes", "normalising": "normalizing",
    "organise": "organize", "organised": "organized", "organisation": "organization", "organising": "organizing",
    "realise": "realize", "realised": "realized", "realising": "realizing", "realises": "realizes",
    "optimise": "optimize", "optimised": "optimized", "optimiser": "optimizer", "optimisers": "optimizers",
    "optimisation": "optimization", "optimising": "optimizing",
    "summarise": "summarize", "summarised": "summarized", "summarising": "summarizing",
    "synthesise": "synthesize", "synthesised": "synthesized", "synthesiser": "synthesizer",
    "visualise": "visualize", "visualised": "visualized", "visualising": "visualizing", "visualisation": "visualization",
    "tokenise": "tokenize", "tokenised": "tokenized", "tokeniser": "tokenizer", "tokenisation": "tokenization",
    "analyse": "analyze", "analysed": "analyzed", "analysing": "analyzing",
    "behaviour": "behavior", "behaviours": "behaviors", "colour": "color", "colours": "colors", "favourite": "favorite",
    "honour": "honor", "labour": "labor", "neighbour": "neighbor", "neighbours": "neighbors", "humour": "humor",
    "centre": "center", "centres": "centers", "metre": "meter", "metres": "meters", "litre": "liter",
    "modelling": "modeling", "modelled": "modeled", "labelled": "labeled", "labelling": "labeling",
    "travelling": "traveling", "travelled": "traveled", "cancelled": "canceled",
    "catalogue": "catalog", "dialogue": "dialog", "programme": "program", "grey": "gray", "defence": "defense",
    "licence": "license", "practise": "practice", "judgement": "judgment",
    "ok": "okay", "alright": "all right", "learnt": "learned", "spelt": "spelled", "dreamt": "dreamed", "burnt": "burned",
}
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})
_DIGIT_RUN = re.compile(r"\d+")
_LONE_DECIMAL = re.compile(r"(?<![\w.])\.(\d+)\b(%?)")
_LONE_THOUSANDS = re.compile(r"(?<![\w,]),(\d{3})\b")
_LONE_PERCENT = re.compile(r"(?<![\w%])%")


def _split_number_pieces(text: str) -> str:
    """The pieces a recogniser splits a spoken number into, as they were said.

    tiny.en hears Piper's "five point one percent" and writes three words, "5", ".1" and "%"
    (measured on the real journal takes), and "one thousand" as "1" and ",000"; each word is
    reduced on its own, so ".1" is "point one", ",000" "thousand", "%" "percent".
    """
    # ".8%" (one word: the decimal and the sign) is "point eight percent", the sign kept
    text = _LONE_DECIMAL.sub(lambda m: " point " + " ".join(_DIGIT_NAMES[int(d)] for d in m.group(1)) + (" percent" if m.group(2) else ""), text)
    text = _LONE_THOUSANDS.sub(lambda m: " thousand" + (f" {num2words(int(m.group(1)))}" if int(m.group(1)) else ""), text)
    return _LONE_PERCENT.sub(" percent", text)


def wer_words(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Reduce text to lower-case words for comparison: spoken form, no punctuation, no hyphens."""
    # A typographic apostrophe is an apostrophe: "haven’t" is one word, as "haven't" is.
    text = _split_number_pieces(text.translate(_QUOTES))
    # The article "a" (lower case: a spelled acronym's letters are capitals) is a word, not the first
    # letter of the acronym after it: "a R N N model" is "a rnn model", as a recogniser writes it.
    spoken = re.sub(r"(?<![\w'-])a(?![\w'-])", "a_article", to_spoken(text, lexicon)).lower()
    # A spelled acronym's possessive ("A-I's", "R N N's") keeps its letters together: "a i s" is one
    # token below, "ais", as the recogniser's "AI's" is; "a is" was two errors where the voice was right.
    spoken = re.sub(r"(?<![\w'])([a-z])'s\b", r"\1 s", spoken.replace("-", " ")).replace("'s", "s")
    spoken = re.sub(r"[^\w\s']", " ", spoken).replace("'", "")
    # Letters and digits written together are the same words as written apart: "boto3" is what a
    # recogniser writes "Boto 3", "gpt2" "GPT 2".
    spoken = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", spoken)
    # Digits to_spoken left alone are still the number said.
    spoken = _DIGIT_RUN.sub(lambda m: " " + num2words(int(m.group())).replace("-", " ").replace(",", "") + " ", spoken)
    # A run of single letters ("a i" from "AI") compares as one token, as a recogniser may write "AI".
    merged: list[str] = []
    run: list[str] = []
    for w in spoken.split() + [""]:
        if len(w) == 1 and w.isalpha():
            run.append(w)
            continue
        if run:
            merged.extend(["".join(run)] if len(run) > 1 else run)
            run = []
        if w:
            merged.append("a" if w == "a_article" else w)
    return canonical_dates([SPELLING_VARIANTS.get(w, w) for w in merged])


# A day after a month name is one day however it is written: "November second", "November 2nd"
# and the recogniser's "November 2" all compare as "november second". Word sequences, so it works
# on the token lists align.py builds (where "November" and "2" come from separate recognised words).
_MONTH_WORDS = {m.lower() for m in _MONTHS} - {"may"}  # "may one day" is not a date
_DAY_ORDINALS = {tuple(num2words(d, to="ordinal").replace("-", " ").split()): d for d in range(1, 32)}
_DAY_CARDINALS = {tuple(num2words(d).replace("-", " ").split()): d for d in range(1, 32)}
# A cardinal that can start a year ("October twenty twenty-four", "May two thousand") is left alone,
# unless a whole year follows it ("November nineteen twenty twenty-four": the 19th, then 2024).
_YEAR_STARTS = {tuple(num2words(n).split()) for n in range(10, 21)}
_NUMBER_WORDS = {w for table in (_DAY_ORDINALS, _DAY_CARDINALS) for key in table for w in key} | {"thousand", "hundred"}
_YEAR_SECOND = {num2words(n) for n in range(10, 100, 10)} | {num2words(n) for n in range(10, 20)} | {"hundred", "thousand", "oh"}


def _year_at(words: list[str], i: int) -> bool:
    """Do the words from i say a whole year ("twenty twenty four", "two thousand", "nineteen ninety")?"""
    first, second = (words[i : i + 2] + ["", ""])[:2]
    return (first,) in _YEAR_STARTS and second in _YEAR_SECOND or (first, second) == ("two", "thousand")


def canonical_dates(words: list[str]) -> list[str]:
    """The same list with each day after a month name in ordinal words; never changes its length."""
    out = list(words)
    for i, w in enumerate(words[:-1]):
        if w not in _MONTH_WORDS and w != "may":
            continue
        for size in (2, 1):  # the longest day first: "twenty first" before "twenty"
            key = tuple(words[i + 1 : i + 1 + size])
            if len(key) < size:
                continue
            if key in _DAY_ORDINALS:
                break
            if w == "may" and not _year_at(words, i + 1 + size):
                continue  # "may one day" is not a date; "May 15, 2023" ("may fifteen twenty twenty three") is
            if key in _DAY_CARDINALS:
                following = words[i + 1 + size] if i + 1 + size < len(words) else ""
                year_here = following in _NUMBER_WORDS and (size == 1 and key in _YEAR_STARTS or key == ("two",) and following == "thousand")
                if year_here and not _year_at(words, i + 1 + size):
                    break  # a year, not a day
                ordinal = num2words(_DAY_CARDINALS[key], to="ordinal").replace("-", " ").split()
                if len(ordinal) == size:
                    out[i + 1 : i + 1 + size] = ordinal
                break
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "Dr.", "Mr.", "Mrs.", "Ms.", "Prof.", "Fig.", "Eq.", "No.", "cf.")


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences, keeping common abbreviations whole."""
    text = _SPACES.sub(" ", paragraph).strip()
    if not text:
        return []
    protected = text
    for i, abbr in enumerate(_ABBREVIATIONS):
        if abbr == "etc.":  # "thoughts and feelings, etc. This morning ...": before a capital, "etc." ends the sentence
            protected = re.sub(r"\betc\.(?!\s+[\"“‘(\[]?[A-Z])", f"etc\x00{i}\x00", protected)
            continue
        protected = protected.replace(abbr, abbr.replace(".", f"\x00{i}\x00"))
    parts = _SENTENCE_END.split(protected)
    out = []
    for part in parts:
        for i, abbr in enumerate(_ABBREVIATIONS):
            part = part.replace(abbr.replace(".", f"\x00{i}\x00"), abbr)
        part = part.strip()
        if part:
            out.append(part)
    return out
