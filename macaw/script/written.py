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


def _path(m: re.Match[str]) -> str:
    parts = [p for p in m.group(0).split("/") if p and p not in (".", "..", "~")]
    return f" {_code_word(parts[-1])} " if parts else " "


def _code_word(token: str) -> str:
    token = token.strip().strip("'\"")
    token = re.sub(r"^\$\s+", "", token)
    token = re.sub(r"^-{1,2}", "", token)
    token = re.sub(r"^\.(?=[A-Za-z])", "dot ", token)
    token = token.replace("::", " ").replace("=", " equals ").replace("_", " ")
    token = re.sub(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z])", " dot ", token)
    token = re.sub(r"[^\w\s'.,+-]", " ", token).strip(" .,")
    return re.sub(r"\s+", " ", token)


def say_code(code: str) -> str:
    """Inline code as a programmer reads it aloud, or "" when it cannot be said."""
    code = code.strip()
    if not code:
        return ""
    if _ISO_DATE.fullmatch(code) or re.fullmatch(r"\d+(?:\.\d+)?%?", code):
        return code
    if "/" in code and " " not in code and not re.search(r"[()=]", code) and (code.startswith(("/", "~", ".")) or code.count("/") >= 2):
        parts = [p for p in code.split("/") if p and p not in (".", "..", "~")]
        return _code_word(parts[-1]) if parts else ""
    for _ in range(3):  # calls lose their arguments when they hold more than a name
        code = re.sub(r"\(([^()]*)\)", lambda m: " " + m.group(1) + " " if re.fullmatch(r"\s*[A-Za-z_][\w.]*\s*", m.group(1)) else " ", code)
    code = code.replace("[", " ").replace("]", " ").replace("/", " ")
    tokens = code.split()
    if tokens and tokens[0] in ("$", ">", "%", "#", ">>>"):
        tokens = tokens[1:]
    if len(tokens) > 4:  # a whole command line: its command's name
        tokens = tokens[:1]
    words = " ".join(_code_word(t) for t in tokens)
    words = re.sub(r"\s+", " ", words).strip()
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
    text = _CODE.sub(lambda m: " " + say_code(m.group(1)) + " ", text)
    text = re.sub(r"<((?:https?://|www\.)[^>\s]+)>", r"\1", text)
    text = _URL.sub(lambda m: " " + site_name(m.group(0)) + " ", text)
    text = _BARE_DOMAIN.sub(lambda m: " " + site_name(m.group(1)) + " ", text)
    text = _BARE_CALL.sub(lambda m: say_code(m.group(0)), text)  # learn.fit() written without backticks
    text = _PATH.sub(_path, text)
    text = _HEX.sub(" ", text)
    text = strip_emoji(text)
    text = _MONEY.sub(_money, text)
    text = _VERSION.sub(lambda m: "version " + m.group(1), text)
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
    text = _ETC.sub("et cetera", text)
    text = _CAMEL_ACRONYM.sub(lambda m: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", m.group(0)), text)
    return text


def tidy_spoken(text: str) -> str:
    """The last pass: no markup character survives into what the voice says."""
    return _LEFTOVER.sub(" ", text)
