"""Written forms a blog or a learning journal is full of, said the way a person would say them.

`to_spoken` (macaw/script/spoken.py) calls `say_written` first, before numbers are read:

- inline code (between backticks) as a programmer says it aloud: `requires_grad()` is
  "requires grad", `torch.clip(y, 0.)` "torch dot clip", a path its last part, a long shell
  command its command's name; what cannot be said is left out;
- math kept between MATH_OPEN and MATH_CLOSE: short formulas in words, long ones "an equation";
- URLs by their site's name ("GitHub", "YouTube"); paths never character by character;
- money ("$16" sixteen dollars, "€5", "$10,000 AUD"), versions ("v2.1"), ISO dates, clock
  times ("7am", "14:53"), "1d", "32/64", "7499 / 12930", "2 x 3", arrows, "etc.", hashtags;
- commit hashes and emoji are dropped.
"""

from __future__ import annotations

import re

from macaw.artifacts import MATH_CLOSE, MATH_OPEN

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def ordinal(day: int) -> str:
    """21 -> "21st", 12 -> "12th": a day as it is written before the normaliser says it."""
    return f"{day}{'th' if 10 <= day % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"

SITES = {
    "github": "GitHub", "githubusercontent": "GitHub", "github.io": "GitHub", "youtube": "YouTube", "youtu": "YouTube",
    "twitter": "Twitter", "x": "X", "wikipedia": "Wikipedia", "arxiv": "archive", "medium": "Medium",
    "stackoverflow": "Stack Overflow", "ycombinator": "Hacker News", "reddit": "Reddit", "google": "Google",
    "kaggle": "Kaggle", "notion": "Notion", "coursera": "Coursera", "fast": "fast A-I", "huggingface": "Hugging Face",
    "pytorch": "pie torch", "python": "Python", "amazon": "Amazon", "nytimes": "the New York Times",
    "linkedin": "LinkedIn", "instagram": "Instagram", "facebook": "Facebook", "gitlab": "GitLab",
}
_GENERIC_HOSTS = {"www", "docs", "blog", "en", "m", "api", "bits", "blogs", "course", "light", "aws", "raw", "gist", "user-images", "news"}
_TLDS = {"com", "org", "net", "io", "ai", "co", "uk", "de", "fr", "edu", "gov", "me", "dev", "info", "site", "app", "au", "ca", "us", "html"}

_CODE = re.compile(r"``?\s*([^`]+?)\s*``?")
_MATH = re.compile(re.escape(MATH_OPEN) + r"(.*?)" + re.escape(MATH_CLOSE), re.S)
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"'`)\]]+", re.I)
_BARE_DOMAIN = re.compile(r"\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|ai|dev|edu))(/[^\s)]*)?\b", re.I)
_PATH = re.compile(r"(?<![\w/.])(?:~|\.{1,2})?(?:/[\w.@+-]+){2,}/?|(?<![\w/])(?:[\w.-]+/){2,}[\w.-]*")
_HEX = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{10,}\b")
_MONEY = re.compile(r"([$€£¥])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?(?:\s?(k|K|M|million|billion|thousand)\b)?(?:\s?(AUD|USD|CAD|NZD|EUR|GBP)\b)?")
_CURRENCY = {"$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds"), "¥": ("yen", "yen")}
_CURRENCY_CODE = {"AUD": "Australian", "USD": "US", "CAD": "Canadian", "NZD": "New Zealand"}
_VERSION = re.compile(r"\bv(\d+(?:\.\d+)*)\b")
_DOTTED_VERSION = re.compile(r"(?<![\w.])\d+(?:\.\d+){2,3}(?![\w]|\.\d)")
_SLASH_DATE = re.compile(r"(?<![\w/])(\d{4})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?![\w/])")
_ISO_DATE = re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?\s?(am|pm|AM|PM|a\.m\.|p\.m\.)?(?!\d)")
_AMPM = re.compile(r"\b(1[0-2]|[1-9])\s?(am|pm|AM|PM)\b")
_DIM = re.compile(r"\b(\d)[dD]\b")
_RATIO_SPACED = re.compile(r"(?<![\w.])(\d[\d,]*\d|\d)\s+/\s+(\d[\d,]*\d|\d)(?!\w|\.\d)")
_RATIO = re.compile(r"(?<![\w./])(\d+)/(\d+)(?![\w/])")
_TIMES_BETWEEN = re.compile(r"(?<=\d)\s?[x×]\s?(?=\d)")
_ARROWS = [(re.compile(r"\s*(?:->|=>|→|⟶|⇒)\s*"), " to "), (re.compile(r"\s*(?:<-|←)\s*"), " from ")]
_HASHTAG = re.compile(r"(?<![\w&])#(?=[A-Za-z])")
_HANDLE = re.compile(r"(?<![\w.])@(?=[A-Za-z])")
_TIMES_WORDS = re.compile(r"(?<=[A-Za-z0-9])\s+x\s+(?=[A-Za-z0-9])(?!(?:and|or|is|axis|values?|y|coordinates?)\b)")
_BARE_CALL = re.compile(r"(?<![\w`.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\(\)|(?<![\w`.])[a-z_]\w*(?:\.[a-z_]\w*)+(?![\w.])")
_CAMEL_ACRONYM = re.compile(r"\b(?:[A-Z][a-z]+){2,}[A-Z]{2,}(?=\b|'s)")  # "DeepLearningAI": words, then letters
_ETC = re.compile(r"\betc\.?(?=\W|$)")
_CODE_PLURAL = re.compile(r"`([^`\s]+)`s\b")  # "`DataLoader`s": the plural of the name
_BARE_SLICE = re.compile(r"(?<![`\w])\[\s*-?\d*\s*:\s*-?\d*\s*\]|(?<=[\w)])\[\s*-?\d*\s*:\s*-?\d*\s*\]")  # [:1], x[1:-1]
_COMPARE = [(re.compile(r"\s*==+\s*"), " equals "), (re.compile(r"\s*!=\s*"), " is not "), (re.compile(r"\s*<=\s*(?=\w)"), " at most "),
            (re.compile(r"\s*>=\s*(?=\w)"), " at least ")]
_OF = re.compile(r"(?<![\w.])([A-Za-z])\(([^()]{1,20})\)")  # O(n), H(2N + 2): "O of n"
_GLUED_PAREN = re.compile(r"(?<=[A-Za-z]{2})\((?=[A-Za-z0-9])")  # "graphs(kind of": a missing space
_EMAIL = re.compile(r"(?<![\w.@])([A-Za-z0-9][\w.+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b")
# File names by their extension, the extension said as people say it.
EXTENSIONS = {"py": "pie", "js": "J-S", "ts": "T-S", "md": "M-D", "csv": "C-S-V", "txt": "text", "ipynb": "I-P-Y-N-B",
              "yml": "yaml", "yaml": "yaml", "sh": "S-H", "png": "P-N-G", "jpg": "J-peg", "jpeg": "J-peg", "pdf": "P-D-F",
              "svg": "S-V-G", "css": "C-S-S", "html": "H-T-M-L", "xml": "X-M-L", "json": "jason", "toml": "toml",
              "bin": "bin", "pt": "P-T", "gz": "G-Z", "zip": "zip", "db": "D-B", "sql": "S-Q-L", "rb": "R-B", "rs": "R-S",
              "cpp": "C-P-P", "ini": "I-N-I", "cfg": "config", "log": "log", "wav": "wave", "mp3": "M-P-three", "epub": "E-pub",
              "lock": "lock", "gif": "gif", "onnx": "onyx", "tar": "tar", "exe": "E-X-E", "dll": "D-L-L", "rst": "R-S-T", "php": "P-H-P"}
_FILE = re.compile(r"(?<![\w/@-])([A-Za-z_][\w-]*)?\.(" + "|".join(EXTENSIONS) + r")\b(?!\.\w|@)", re.I)
_DOT_WORD = re.compile(r"(?<![\w.])\.([a-z]{2,8})\b(?!\.\w)")  # ".php", ".bashrc": an extension or a dotfile, not "...wait"
_MONTH_ABBR = {"Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Jun": "June", "Jul": "July", "Aug": "August",
               "Sep": "September", "Sept": "September", "Oct": "October", "Nov": "November", "Dec": "December"}
_MONTH_SHORT = re.compile(r"(?<=\d\s)(" + "|".join(_MONTH_ABBR) + r")\b\.?|\b(" + "|".join(_MONTH_ABBR) + r")\b\.?(?=\s\d)")
_DAY_ABBR = {"Mon": "Monday", "Tue": "Tuesday", "Tues": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday", "Thur": "Thursday",
             "Thurs": "Thursday", "Fri": "Friday", "Sat": "Saturday", "Sun": "Sunday"}
# A day's abbreviation where it cannot be a word (Mon, Thu) or in a list of them ("Tue, Thu, Sat").
_DAY_SHORT = re.compile(r"\b(Mon|Tues?|Thu(?:rs?)?|Fri)\b\.?|\b(Wed|Sat|Sun)\b\.?(?=,?\s(?:and\s)?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b)|"
                        r"(?<=\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )(Wed|Sat|Sun)\b|(?<=\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) and )(Wed|Sat|Sun)\b")
_LEFTOVER = re.compile(r"[{}\[\]<>|\\^`_*~$€£¥]")


def site_name(url: str) -> str:
    """ "https://github.com/karpathy/nanoGPT" -> "GitHub"; "http://mark.reid.name/blog" -> "reid"."""
    host = re.sub(r"^(?:[a-z]+://)?", "", url.lower()).split("/")[0].split(":")[0]
    parts = [p for p in host.split(".") if p]
    for p in parts:
        if p in SITES:
            return SITES[p]
    words = [p for p in parts if p not in _TLDS and p not in _GENERIC_HOSTS] or parts[:1]
    return words[-1].replace("-", " ") if words else ""


_TRACKER = {"issues": "issue", "issue": "issue", "pull": "pull request", "pulls": "pull request", "discussions": "discussion"}


def _path(m: re.Match[str]) -> str:
    path = m.group(0)
    stop = "." if path.endswith(".") and not path.endswith("..") else ""  # the sentence's full stop, not the path's
    parts = [p for p in path.removesuffix(stop).split("/") if p and p not in (".", "..", "~")]
    if len(parts) >= 3 and parts[-2].lower() in _TRACKER and parts[-1].isdigit():
        # "starlette/issues/486", a link's text as GitHub writes it: "starlette issue 486", not "486"
        return f" {_code_word(parts[-3])} {_TRACKER[parts[-2].lower()]} {parts[-1]}{stop} "
    return f" {_code_word(parts[-1])}{stop} " if parts else f"{stop} "


def _file(m: re.Match[str]) -> str:
    return f"{m.group(1) or ''} dot {EXTENSIONS[m.group(2).lower()]}".strip()


def _code_word(token: str) -> str:
    token = token.strip().strip("'\"")
    token = re.sub(r"^\$\s+", "", token)
    token = re.sub(r"^-{1,2}", "", token)
    token = re.sub(r"^\.(?=[A-Za-z])", "dot ", token)
    token = token.replace("::", " ").replace("=", " equals ").replace("_", " ")
    token = _FILE.sub(_file, token)
    token = re.sub(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z])", " dot ", token)
    token = re.sub(r"[^\w\s'.,+-]", " ", token).strip(" .,")
    token = re.sub(r"(?<=[a-z])(?=[A-Z][a-z])", " ", token)  # BasicOptim, vision_learner: words
    return re.sub(r"\s+", " ", token)


# Code that is only a symbol, said by its name.
_SYMBOL_CODE = {"/": "slash", "[]": "empty brackets", "{}": "empty braces", "()": "empty parentheses", "*": "star",
                "**": "double star", "==": "double equals", "=": "equals", "!=": "not equals", "->": "arrow", "=>": "arrow",
                "...": "dot dot dot", "#": "hash", "@": "at", "&&": "and and", "||": "or or", "|": "pipe", "~": "tilde",
                "%": "percent", "$": "dollar", "_": "underscore", ":": "colon", ";": "semicolon", ".": "dot", ",": "comma"}
# An index or a slice, after a name or alone: x[0], x[:1], x[2:], x[1:-1], [:-1].
_SLICE = re.compile(r"\[\s*(-?\w+)?\s*(:)?\s*(-?\w+)?\s*\]")


def _index(value: str) -> str:
    return ("minus " + value[1:]) if value.startswith("-") else value


def _slice(m: re.Match[str]) -> str:
    start, colon, stop = m.group(1), m.group(2), m.group(3)
    if not colon:
        return f", at index {_index(start)}," if start else " "
    if start and stop:
        return f", from index {_index(start)} to {_index(stop)},"
    if stop:
        return f", up to index {_index(stop)},"
    return f", from index {_index(start)}," if start else ", all of it,"


def say_code(code: str) -> str:
    """Inline code as a programmer reads it aloud, or "" when it cannot be said."""
    code = code.strip()
    if not code:
        return ""
    if code in _SYMBOL_CODE:
        return _SYMBOL_CODE[code]
    if _ISO_DATE.fullmatch(code) or re.fullmatch(r"\d+(?:\.\d+)?%?", code):
        return code
    if "/" in code and " " not in code and not re.search(r"[()=]", code) and (code.startswith(("/", "~", ".")) or code.count("/") >= 2):
        parts = [p for p in code.split("/") if p and p not in (".", "..", "~")]
        return _code_word(parts[-1]) if parts else ""
    if re.fullmatch(r"\[\s*[^\[\]]+\s*\]", code) and "," in code:  # a list literal: its items
        items = [_code_word(i) for i in code[1:-1].split(",")]
        return "the list " + ", ".join(i for i in items if i)
    said: list[str] = []  # the slices' words, put back after the tokens are counted
    code = _SLICE.sub(lambda m: said.append(_slice(m)) or f" \x03{len(said) - 1} ", code)
    for _ in range(3):  # calls lose their arguments when they hold more than a name
        code = re.sub(r"\(([^()]*)\)", lambda m: " " + m.group(1) + " " if re.fullmatch(r"\s*[A-Za-z_][\w.]*\s*", m.group(1)) else " ", code)
    code = code.replace("[", " ").replace("]", " ").replace("/", " ")
    tokens = code.split()
    if tokens and tokens[0] in ("$", ">", "%", "#", ">>>"):
        tokens = tokens[1:]
    if len([t for t in tokens if not t.startswith("\x03") and re.search(r"\w", t)]) > 4:  # a whole command line: its command's name
        tokens = tokens[:1]
    words = " ".join(said[int(t[1:])] if t.startswith("\x03") else _code_word(t) for t in tokens)
    words = re.sub(r"\s+,", ",", re.sub(r"\s+", " ", words)).strip(" ,")
    return words if re.search(r"[A-Za-z0-9]", words) else ""


_LATEX_WORDS = {r"\cdot": " times ", r"\times": " times ", r"\leq": " at most ", r"\geq": " at least ", r"\approx": " approximately ",
                r"\sum": " the sum of ", r"\log": " log ", r"\in": " in ", r"\infty": " infinity ", r"\pm": " plus or minus "}


def math_words(text: str) -> str:
    """Inline math said in words: symbols, Greek letters, powers and subscripts."""
    for command, words in _LATEX_WORDS.items():
        text = text.replace(command, words)
    text = re.sub(r"\\([A-Za-z]+)", r" \1 ", text)  # \alpha -> alpha
    text = re.sub(r"\^\{?2\}?", " squared ", text)
    text = re.sub(r"\^\{?([^{}\s]+)\}?", r" to the power of \1 ", text)
    text = re.sub(r"_\{?([^{}\s]+)\}?", r" sub \1 ", text)
    return " " + text.replace("{", " ").replace("}", " ") + " "


def say_math(latex: str) -> str:
    latex = latex.strip()
    body = re.sub(r"\\(?:begin|end)\{[^}]*\}|&|\\\\|\\(?:left|right|quad|,|;)", " ", latex)
    if len(body) > 40 or body.count("\\") > 3 or "\n" in body.strip() or "\\begin" in latex or "=" in body:
        return " an equation "
    words = math_words(body)
    words = re.sub(r"[^\w\s.,'-]", " ", words)
    return " " + re.sub(r"\s+", " ", words).strip() + " "


def _money(m: re.Match[str]) -> str:
    symbol, amount, cents, scale, code = m.groups()
    one, many = _CURRENCY[symbol]
    name = f"{_CURRENCY_CODE[code]} {many}" if code in _CURRENCY_CODE else many
    scale_word = {"k": "thousand", "K": "thousand", "M": "million"}.get(scale or "", scale or "")
    if scale_word:
        return f"{amount} {scale_word} {name}"
    if amount == "1" and not cents and not code:
        name = one
    return f"{amount} {name}" + (f" and {int(cents)} cents" if cents and int(cents) else "")


def _iso_date(m: re.Match[str]) -> str:
    return f"{MONTHS[int(m.group(2)) - 1]} {ordinal(int(m.group(3)))}, {m.group(1)}"


def _clock(m: re.Match[str]) -> str:
    hour, minute, half = int(m.group(1)), int(m.group(2)), (m.group(3) or "").lower().replace(".", "")
    said = f"{hour} o'clock" if minute == 0 and not half else f"{hour}" if minute == 0 else f"{hour} {'oh ' if minute < 10 else ''}{minute}"
    return said + (f" {' '.join(half.upper())}" if half else "")


def say_written(text: str) -> str:
    """The written forms of a blog or journal said in words (before numbers are)."""
    from macaw.documents.markdown import strip_emoji

    text = _MATH.sub(lambda m: say_math(m.group(1)), text)
    text = text.replace(MATH_OPEN, " ").replace(MATH_CLOSE, " ")
    text = _CODE_PLURAL.sub(r"`\1s`", text)
    text = _CODE.sub(lambda m: " " + say_code(m.group(1)) + " ", text)
    text = re.sub(r"<((?:https?://|www\.)[^>\s]+)>", r"\1", text)
    text = _URL.sub(lambda m: " " + site_name(m.group(0)) + " ", text)
    text = _EMAIL.sub(lambda m: f"{_code_word(m.group(1))} at {m.group(2).replace('.', ' dot ')}", text)
    text = _BARE_DOMAIN.sub(lambda m: " " + site_name(m.group(1)) + " ", text)
    text = _FILE.sub(_file, text)  # index.html, .ipynb
    text = _DOT_WORD.sub(lambda m: " dot " + (m.group(1) if re.search("[aeiouy]", m.group(1)) else "-".join(m.group(1).upper())), text)
    text = _BARE_SLICE.sub(lambda m: say_code(m.group(0)).join("  "), text)  # "group[:1]" outside backticks
    text = _BARE_CALL.sub(lambda m: say_code(m.group(0)), text)  # learn.fit() written without backticks
    text = _OF.sub(r"\1 of \2", text)
    text = _GLUED_PAREN.sub(" (", text)
    for pattern, words in _COMPARE:
        text = pattern.sub(words, text)
    text = _MONTH_SHORT.sub(lambda m: _MONTH_ABBR[m.group(1) or m.group(2)], text)
    text = _DAY_SHORT.sub(lambda m: _DAY_ABBR[next(g for g in m.groups() if g)], text)
    text = _SLASH_DATE.sub(_iso_date, text)  # 2019/01/28, before it is taken for a path
    text = _PATH.sub(_path, text)
    text = _HEX.sub(" ", text)
    text = strip_emoji(text)
    text = _MONEY.sub(_money, text)
    text = _VERSION.sub(lambda m: "version " + m.group(1), text)
    text = _DOTTED_VERSION.sub(lambda m: " point ".join(m.group(0).split(".")), text)  # Python 3.4.3
    text = _ISO_DATE.sub(_iso_date, text)
    text = _CLOCK.sub(_clock, text)
    text = _AMPM.sub(lambda m: f"{m.group(1)} {' '.join(m.group(2).upper())}", text)
    text = _DIM.sub(lambda m: f"{m.group(1)} D", text)
    text = _RATIO_SPACED.sub(lambda m: f"{m.group(1)} out of {m.group(2)}", text)
    text = _RATIO.sub(lambda m: f"{m.group(1)} or {m.group(2)}" if int(m.group(2)) > 12 else f"{m.group(1)} over {m.group(2)}", text)
    text = _TIMES_BETWEEN.sub(" times ", text)
    text = _TIMES_WORDS.sub(" times ", text)
    for pattern, words in _ARROWS:
        text = pattern.sub(words, text)
    text = _HASHTAG.sub("hashtag ", text)
    text = _HANDLE.sub("at ", text)
    text = _ETC.sub(lambda m: "et cetera." if m.group(0).endswith(".") and not text[m.end():].strip() else "et cetera", text)  # a sentence's end keeps its stop
    text = _CAMEL_ACRONYM.sub(lambda m: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", m.group(0)), text)
    return text


def tidy_spoken(text: str) -> str:
    """The last pass: no markup character survives into what the voice says."""
    return _LEFTOVER.sub(" ", text)
