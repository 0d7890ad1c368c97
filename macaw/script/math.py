"""Math said as a person says it: the LaTeX between MATH_OPEN and MATH_CLOSE, in words.

    d_k              "d sub k"            QK^T           "Q K transpose"
    O(n^2)           "order n squared"    \\sqrt{d_k}     "the square root of d sub k"
    P_{drop}         "P drop"             \\frac{1}{2}    "one half"
    10^{-3}          "10 to the minus 3"  \\alpha \\le 1   "alpha is at most 1"

Compared with MathJax's speech-rule-engine (npm `speech-rule-engine` 4, ClearSpeak rules, on
the same expressions as MathML; tests/test_math.py keeps the recording and reruns it when node
and the package are there): the same words for d_k, \\sqrt{d_k}, \\frac{1}{2}, \\frac{x}{y} and
\\hat{y}. Six differ on purpose, for a listener of a paper rather than a reader of a formula:
QK^T (ClearSpeak "Q K to the T power": in a paper T is the transpose), O(n^2) ("O of open
paren n squared close paren"), P_{drop} ("P sub d r o p": a word-like subscript is the word),
10^{-3} ("10 to the negative 3 power"), \\le ("is less than or equal to") and x^n ("x to the
n-th power") are said shorter. MathCAT was not compared (it needs its Rust library).

`say(latex)` returns the words, or None when the expression cannot be said cleanly (an
unknown command, a long formula, glyph soup from a PDF's text layer): the caller drops the
sentence rather than read it raw. A display equation (a paragraph that is all math) is never
read: `is_display` tells it apart, and the paper script keeps it for the show notes.
"""

from __future__ import annotations

import re

from macaw.artifacts import MATH_CLOSE, MATH_OPEN

MAX_WORDS = 14  # longer than this, an inline formula is not something a listener can follow

GREEK = {name: name for name in (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
    "upsilon phi chi psi omega").split()}
GREEK.update({"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho", "varsigma": "sigma",
              "Gamma": "capital gamma", "Delta": "capital delta", "Theta": "capital theta", "Lambda": "capital lambda",
              "Xi": "capital xi", "Pi": "capital pi", "Sigma": "capital sigma", "Phi": "capital phi",
              "Psi": "capital psi", "Omega": "capital omega"})
# The same letters as a PDF's text layer writes them.
GREEK_GLYPHS = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon", "ζ": "zeta",
                "η": "eta", "θ": "theta", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi",
                "ρ": "rho", "σ": "sigma", "τ": "tau", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
                "Γ": "capital gamma", "Δ": "capital delta", "Θ": "capital theta", "Λ": "capital lambda",
                "Σ": "capital sigma", "Φ": "capital phi", "Ψ": "capital psi", "Ω": "capital omega"}

PLAIN = {"=": "equals", "+": "plus", "-": "minus", "<": "is less than", ">": "is greater than", ",": ",",
         "|": "", ".": "", ":": "", ";": ",", "!": "factorial", "*": "times", "×": "times", "·": "times",
         "≤": "is at most", "≥": "is at least", "≈": "is approximately", "∼": "about", "−": "minus", "→": "to",
         "∈": "in", "∞": "infinity", "±": "plus or minus", "%": "percent", "...": "and so on", "…": "and so on"}
OPERATORS = {
    "times": "times", "cdot": "times", "le": "is at most", "leq": "is at most", "ge": "is at least",
    "geq": "is at least", "approx": "is approximately", "sim": "about", "neq": "is not equal to", "ne": "is not equal to",
    "in": "in", "to": "to", "rightarrow": "to", "mapsto": "maps to", "pm": "plus or minus", "propto": "is proportional to",
    "ll": "is much less than", "gg": "is much greater than", "equiv": "is equivalent to", "div": "divided by",
    "cdots": "and so on", "ldots": "and so on", "dots": "and so on", "infty": "infinity", "partial": "partial",
    "nabla": "nabla", "forall": "for all", "exists": "there is", "cup": "union", "cap": "intersection",
    "subset": "a subset of", "subseteq": "a subset of", "circ": "composed with", "otimes": "tensor", "oplus": "plus",
    "odot": "times", "star": "star", "ast": "star", "prime": "prime", "top": "transpose", "log": "log", "ln": "log",
    "exp": "exp", "max": "max", "min": "min", "arg": "arg", "sin": "sine", "cos": "cosine", "tanh": "tanh",
    "softmax": "softmax", "sum": "the sum of", "prod": "the product of", "int": "the integral of", "lim": "the limit of",
    "quad": "", "qquad": "", ",": "", ";": "", "!": "", "left": "", "right": "", "big": "", "Big": "", "bigg": "",
    "displaystyle": "", "textstyle": "", "limits": "", "%": "percent", "mid": "given", "vert": "", "|": "",
}
_FUNCTIONS = {"log", "ln", "exp", "sin", "cos", "tanh", "softmax", "max", "min"}
_SCRIPTS = {"2": "squared", "3": "cubed", "T": "transpose", "\\top": "transpose", "\\intercal": "transpose",
            "-1": "inverse", "*": "star", "\\ast": "star", "\\star": "star", "\\prime": "prime", "'": "prime",
            "\\dagger": "dagger"}
_FONTS = {"mathrm", "text", "textrm", "textit", "textbf", "mathbf", "mathit", "mathsf", "boldsymbol", "bm",
          "operatorname", "mathtt", "texttt", "emph", "mbox", "hbox", "mathbb", "mathcal", "mathscr", "mathfrak"}
_ACCENTS = {"hat": "hat", "tilde": "tilde", "bar": "bar", "overline": "bar", "vec": "vector", "dot": "dot",
            "widehat": "hat", "widetilde": "tilde"}
_FRACTIONS = {("1", "2"): "one half", ("1", "3"): "one third", ("2", "3"): "two thirds", ("1", "4"): "one quarter",
              ("3", "4"): "three quarters"}
UNITS = {"ms": "milliseconds", "s": "seconds", "h": "hours", "GB": "gigabytes", "MB": "megabytes", "KB": "kilobytes",
         "TB": "terabytes", "eV": "electron volts", "keV": "kilo electron volts", "MeV": "mega electron volts",
         "GeV": "giga electron volts", "Hz": "hertz", "kHz": "kilohertz", "MHz": "megahertz", "GHz": "gigahertz",
         "K": "kelvin", "km": "kilometres", "m": "metres", "cm": "centimetres", "mm": "millimetres", "nm": "nanometres",
         "kg": "kilograms", "g": "grams", "W": "watts", "kW": "kilowatts", "V": "volts", "days": "days",
         "hours": "hours", "Mpc": "megaparsecs", "kpc": "kiloparsecs"}
# Metric and model names as a listener knows them; merged into the lexicon the voice reads with.
SPOKEN_TERMS = {"BLEU": "blue", "ROUGE": "rouge", "METEOR": "meteor", "ROUGE-L": "rouge L", "F1": "F one",
                "GLUE": "glue", "SQuAD": "squad", "COCO": "coco", "FLOPs": "flops", "FLOPS": "flops",
                "LSTM": "L-S-T-M", "GAN": "gan", "GANs": "gans", "WMT": "W-M-T", "SOTA": "state of the art"}

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\.\.\.|[A-Za-z]|\d+(?:\.\d+)?|\S")


class Unsayable(ValueError):
    pass


def tokenize(latex: str) -> list[str]:
    return _TOKEN.findall(latex)


class _Parser:
    def __init__(self, latex: str):
        self.toks = tokenize(latex)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise Unsayable("the expression ends early")
        self.i += 1
        return tok

    def group_raw(self) -> list[str]:
        """The tokens of one argument: a {braced group} or a single token."""
        tok = self.take()
        if tok != "{":
            return [tok]
        depth, out = 1, []
        while True:
            tok = self.take()
            depth += (tok == "{") - (tok == "}")
            if depth == 0:
                return out
            out.append(tok)

    def words_of(self, toks: list[str]) -> list[str]:
        sub = _Parser("")
        sub.toks = toks
        return sub.expression()

    def expression(self, stop: str | None = None) -> list[str]:
        out: list[str] = []
        while self.peek() is not None and self.peek() != stop:
            out += self.atom_with_scripts()
        return out

    def atom_with_scripts(self) -> list[str]:
        words = self.atom()
        while self.peek() in ("_", "^", "'"):
            kind = self.take()
            if kind == "'":
                words = words + ["prime"]
                continue
            raw = self.group_raw()
            if kind == "_":
                words = words + _subscript(raw, self)
            else:
                words = words + _superscript(raw, self)
        return words

    def atom(self) -> list[str]:
        tok = self.take()
        if tok == "{":
            inner = self.expression(stop="}")
            self.take()
            return inner
        if tok in ("(", "[") and self.peek() is not None:
            inner = self.expression(stop=")" if tok == "(" else "]")
            if self.peek() is not None:
                self.take()
            return inner
        if tok in (")", "]", "}"):
            return []
        if tok[0].isdigit():
            return [tok]
        if tok in GREEK_GLYPHS:
            return [GREEK_GLYPHS[tok]]
        if tok.isalpha() and len(tok) == 1:
            if tok == "O" and self.peek() == "(":  # big-O
                self.take()
                inner = self.expression(stop=")")
                if self.peek() is not None:
                    self.take()
                return ["order", *inner]
            return [tok]
        if tok.startswith("\\"):
            return self.command(tok[1:])
        if tok in PLAIN:
            return [PLAIN[tok]] if PLAIN[tok] else []
        if tok in GREEK_GLYPHS:
            return [GREEK_GLYPHS[tok]]
        if tok == "/":
            return ["over"]
        if tok == "~":
            return []
        raise Unsayable(f"cannot say {tok!r}")

    def applied(self) -> list[str]:
        """f(x) after a named function: "of x"."""
        if self.peek() != "(":
            return []
        self.take()
        inner = self.expression(stop=")")
        if self.peek() is not None:
            self.take()
        return ["of", *inner]

    def command(self, name: str) -> list[str]:
        if name in GREEK:
            return [GREEK[name]]
        if name == "sqrt":
            if self.peek() == "[":
                self.take()
                index = self.expression(stop="]")
                self.take()
                return ["the", *index, "root of", *self.words_of(self.group_raw())]
            return ["the square root of", *self.words_of(self.group_raw())]
        if name in ("frac", "dfrac", "tfrac"):
            top, bottom = self.group_raw(), self.group_raw()
            if (t := "".join(top), b := "".join(bottom)) in _FRACTIONS:
                return [_FRACTIONS[(t, b)]]
            return [*self.words_of(top), "over", *self.words_of(bottom)]
        if name in _FONTS:
            raw = self.group_raw()
            text = "".join(raw)
            if re.fullmatch(r"[A-Za-z]{2,}", text):
                said = UNITS.get(text, text) if name in ("mathrm", "text", "textrm", "operatorname") else text
                return [said, *self.applied()]
            if name == "mathbb" and text == "R":
                return ["R"]
            return self.words_of(raw)
        if name in _ACCENTS:
            return [*self.words_of(self.group_raw()), _ACCENTS[name]]
        if name in OPERATORS:
            said = OPERATORS[name]
            return [said, *self.applied()] if name in _FUNCTIONS else ([said] if said else [])
        if name in ("label", "nonumber", "notag", "tag"):
            if name in ("label", "tag"):
                self.group_raw()
            return []
        raise Unsayable(f"no words for \\{name}")


def _word_like(raw: list[str]) -> str:
    text = "".join(raw)
    return text if re.fullmatch(r"[A-Za-z]{3,}", text) else ""


def _subscript(raw: list[str], parser: _Parser) -> list[str]:
    if raw and raw[0] in ("\\mathrm", "\\text", "\\textrm", "\\rm") and len(raw) > 1:
        raw = [t for t in raw[1:] if t not in "{}"]
    word = _word_like(raw)
    if word:
        return [word]  # P_{drop}: "P drop"
    return ["sub", *parser.words_of(raw)]


def _superscript(raw: list[str], parser: _Parser) -> list[str]:
    key = "".join(raw)
    if key in _SCRIPTS:
        return [_SCRIPTS[key]]
    if re.fullmatch(r"-\d+(?:\.\d+)?", key):
        return ["to the minus", key[1:]]
    if re.fullmatch(r"[A-Z]", key):
        return ["super", key]  # W^Q: a label, not a power
    inner = parser.words_of(raw)
    if len(inner) == 1 and re.fullmatch(r"[a-z]|\d+", inner[0]):
        return ["to the", inner[0]]
    return ["to the power", *inner]


_LATEX_SIGNS = re.compile(r"[\\_^{}]")
_GLYPH_LETTER = "[A-Za-z" + "".join(GREEK_GLYPHS) + "]"
_GLYPH_VALUE = r"(?:-?\d+(?:\.\d+)?|" + _GLYPH_LETTER + ")"
_GLYPHS_SAYABLE = re.compile(rf"^(?:{_GLYPH_VALUE})(?:\s*[=≈<>≤≥∼]\s*{_GLYPH_VALUE})?$")


def say(latex: str, *, glyphs: bool = False) -> str | None:
    """The words for one inline expression, or None when it cannot be said cleanly.

    `glyphs`: the math comes from a PDF's text layer, not LaTeX. Unless it has LaTeX in it
    (a backslash, braces, ^ or _), "tanh(W 1z + b1)" has lost what was a subscript and what a
    product: only a lone symbol or number, or a plain "x = 5", is said; the rest is refused.
    """
    latex = latex.strip().strip("$").strip()
    if not latex:
        return None
    if glyphs and not _LATEX_SIGNS.search(latex) and not _GLYPHS_SAYABLE.match(latex.rstrip(".,; ")):
        return None
    try:
        words = [w for w in _Parser(latex).expression() if w]
    except (Unsayable, RecursionError):
        return None
    text = " ".join(words).replace(" ,", ",")
    text = re.sub(r"\s+", " ", text).strip(" ,")
    if not text or len(text.split()) > MAX_WORDS:
        return None
    return text


_SPAN = re.compile(re.escape(MATH_OPEN) + r"(.*?)" + re.escape(MATH_CLOSE), re.S)


def spans(text: str) -> list[str]:
    return _SPAN.findall(text)


def is_display(paragraph: str) -> bool:
    """A paragraph that is nothing but math: a display equation."""
    stripped = paragraph.strip()
    return bool(stripped) and not _SPAN.sub("", stripped).strip(" .,;:")


def speak_sentence(sentence: str, *, glyphs: bool = False) -> str | None:
    """A sentence with its math in words, or None when some of its math cannot be said."""
    failed = False

    def words(m: re.Match[str]) -> str:
        nonlocal failed
        said = say(m.group(1), glyphs=glyphs)
        if said is None:
            failed = True
            return ""
        return said

    out = _SPAN.sub(words, sentence)
    if failed or MATH_OPEN in out or MATH_CLOSE in out:
        return None
    return re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s+", " ", out)).strip()
