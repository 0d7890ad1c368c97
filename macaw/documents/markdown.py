"""A journal entry (markdown or plain text, after its front matter) -> a Document.

What a listener hears is decided here, block by block (markdown-it-py's CommonMark parser,
tables on):

- headings start sections; a heading that repeats the title, or holds nothing to say, does not;
  in a plain-text entry a short standalone line is a heading unless it is a date, an
  attribution ("– Arrival") or reads like a sentence;
- each list item is a paragraph of its own (its own sentence and pause), nested items too;
- a block quote is read as a quote; followed by an attribution it becomes "NAME says: “…”";
- fenced and indented code is not read: one short sentence says the entry shows code there,
  and the block goes to Document.code for the show notes; inline code stays between backticks
  for the spoken-form normaliser (macaw/script/spoken.py), which says it as a programmer would;
- a small table is read row by row ("Myth: truth."), a big one is announced like code;
- raw HTML keeps its text (links, paragraphs), loses images and figure captions (captions);
- Liquid and Hugo shortcodes, kramdown attributes, HTML comments and footnotes are dropped;
- math ($…$, $$…$$) is kept as written between MATH_OPEN and MATH_CLOSE.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from macaw.artifacts import MATH_CLOSE, MATH_OPEN, Document, Section, Source

_LIQUID = re.compile(r"\{%-?\s*(?:raw|endraw)\s*-?%\}|\{\{<.*?>\}\}|\{\{%.*?%\}\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_WIKI_EMBED = re.compile(r"!\[\[[^\]\n]*\]\]")
_WIKI_LINK = re.compile(r"\[\[([^\]|\n]+)(?:\|([^\]\n]+))?\]\]")
_KRAMDOWN_ATTR = re.compile(r"\{:[^}\n]*\}")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FOOTNOTE_DEF = re.compile(r"^\[\^[^\]\n]+\]:.*(?:\n(?:[ \t]+.*)?)*?(?=\n\S|\n*\Z)", re.M)
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\n]+\]")
_BULLET_GLYPH = re.compile(r"^([ \t]*)[•◦▪‣●○■□➤►](?=[ \t])", re.M)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=[^\s$])([^$\n]{1,300}?)(?<=[^\s$\\])\$(?![\w$])")
_MATH_HINT = re.compile(r"[\\^_{}]|^[A-Za-z]$|^[A-Za-z][,\s]")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_DISPLAY_ONLY = re.compile("(?:\ue000\\d+\ue001\\s*)+")
_MATH_ALNUM = re.compile("[\U0001d400-\U0001d7ff]")
_ATTRIBUTION = re.compile(r"^\s*(?:[–—―~]|-{1,2})\s*([^\s–—].{0,80})$")
_QUOTED = re.compile(r"^\s*[\"“”‘'«]")
_DATE_WORDS = re.compile(
    r"^\W*(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?(?:\d{4}-\d{2}-\d{2}|"
    r"(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?\d{4}|"
    r"\d{1,2}/\d{1,2}/\d{2,4})\W*$", re.I)
_SENTENCE_END = (".", "!", "?", ":", ";", ",", '"', "”", "’", ")")
_CODE_WORDS = {
    "": "code", "python": "Python code", "py": "Python code", "pycon": "Python code", "ipython": "Python code",
    "bash": "a shell command", "sh": "a shell command", "shell": "a shell command", "console": "a shell command",
    "zsh": "a shell command", "shell-session": "a shell command", "sql": "an SQL query", "js": "JavaScript code",
    "javascript": "JavaScript code", "json": "some JSON", "yaml": "some YAML", "html": "some HTML",
    "text": "some text output", "output": "some output",
}
TABLE_READ_ROWS = 12  # a table with more rows than this (or more than 3 columns) is announced, not read
MAX_TABLE_COLUMNS = 3


@dataclass
class _Out:
    title: str
    plain: bool
    sections: list[Section] = field(default_factory=list)
    heading: str = ""
    level: int = 1
    paragraphs: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    math: list[str] = field(default_factory=list)
    first_block: bool = True
    announced: int = 0

    def close(self) -> None:
        if self.paragraphs:
            self.sections.append(Section(heading=self.heading, text="\n\n".join(self.paragraphs), level=self.level))
        self.paragraphs = []

    def start(self, heading: str, level: int) -> None:
        self.close()
        self.heading, self.level = heading, level

    def say(self, text: str) -> None:
        text = re.sub(r"\s+", " ", text).strip()
        if text and re.search(r"[A-Za-z0-9]", text):
            self.paragraphs.append(text)
        self.first_block = False

    def announce(self, what: str) -> None:
        if self.paragraphs and ANNOUNCEMENT.match(self.paragraphs[-1]):
            return  # one sentence for a run of blocks with no prose between them
        self.announced += 1
        nth = "" if self.announced == 1 else f", the {_ORDINALS[min(self.announced, len(_ORDINALS)) - 1]} block"
        self.paragraphs.append(f"The entry shows {what} here{nth}.")
        self.first_block = False


# What an announcement of a code block or table looks like (macaw/script/journal.py says it as
# the host's, not the author's, words).
ANNOUNCEMENT = re.compile(r"^The entry shows [\w ,-]+ here(?:, the [a-z-]+ block)?\.$")
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
             "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
             "twentieth", "next"]


def extract(raw_body: str, source: Source, *, plain: bool = False, origin_format: str = "markdown") -> Document:
    """The body of an entry (front matter already removed) -> a Document with sections and code."""
    out = _Out(title=source.title, plain=plain)
    text, out.math = _prepare(raw_body, plain)
    for block in _blocks(text, plain):
        _emit(out, block)
    out.close()
    return Document(title=source.title, authors=source.authors, date=source.date, sections=out.sections,
                    code=out.code, captions=out.captions, origin_format=origin_format)


# -- before parsing ---------------------------------------------------------------------------


def _prepare(body: str, plain: bool) -> tuple[str, list[str]]:
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    text = _MATH_ALNUM.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = _COMMENT.sub("", text)
    math: list[str] = []

    def hold(latex: str, display: bool) -> str:
        math.append(latex.strip())
        mark = f"\ue000{len(math) - 1}\ue001"
        return f"\n\n{mark}\n\n" if display else mark

    if not plain:
        text = _protect_code(text, lambda t: _LIQUID.sub("", t))
        # Wiki-style notes (Obsidian, Roam): an embedded file is for the eye; a [[link]] is its text.
        text = _protect_code(text, lambda t: _WIKI_LINK.sub(lambda m: m.group(2) or m.group(1), _WIKI_EMBED.sub("", t)))
        text = _KRAMDOWN_ATTR.sub("", text)
        text = _FOOTNOTE_DEF.sub("", text)
        text = _FOOTNOTE_REF.sub("", text)
        text = _protect_code(text, lambda t: _DISPLAY_MATH.sub(lambda m: hold(m.group(1), True), t))
        text = _protect_code(text, lambda t: _INLINE_MATH.sub(
            lambda m: hold(m.group(1), False) if _MATH_HINT.search(m.group(1).strip()) else m.group(0), t))
    text = _BULLET_GLYPH.sub(r"\1-", text)
    text = _clamp_list_indents(text)
    if plain:
        text = _isolate_plain_lines(text)
        lines = [ln for ln in text.splitlines() if ln.strip()]
        # Copied from a web page, a plain-text entry has one paragraph a line; hard-wrapped text
        # (short lines) keeps its blank lines as the only paragraph breaks.
        if lines and sum(len(ln) for ln in lines) / len(lines) > 90:
            text = "\n\n".join(ln if _is_list_line(ln) else ln.strip() for ln in text.splitlines() if ln.strip())
    return text, math


def _isolate_plain_lines(text: str) -> str:
    """A plain-text entry's title line and date lines stand alone, whatever follows them."""
    lines = text.split("\n")
    first = next((i for i, ln in enumerate(lines) if ln.strip()), -1)
    out = []
    for i, line in enumerate(lines):
        alone = _DATE_WORDS.match(line.strip()) or (i == first and len(line) <= 120 and not line.rstrip().endswith(_SENTENCE_END))
        out.extend(["", line, ""] if alone and line.strip() else [line])
    return "\n".join(out)


_LIST_LINE = re.compile(r"^([ \t]*)([-*+]|\d+[.)])([ \t]+)(?=\S)")


def _clamp_list_indents(text: str) -> str:
    """A sub-item indented past its parent's text ("- Read:" then six spaces and "- a book") is
    still a sub-item, as its author meant, not a lazy continuation of the parent's line."""
    out: list[str] = []
    content = -1  # the column where the previous item's text starts
    for line in text.split("\n"):
        m = _LIST_LINE.match(line)
        if m:
            indent = len(m.group(1).expandtabs(4))
            if content >= 0 and indent > content + 1 and not m.group(1).startswith("\t"):
                line = " " * content + line[len(m.group(1)):]
                indent = content
            content = indent + len(m.group(2)) + len(m.group(3).expandtabs(4))
        elif not line.strip():
            pass
        elif not line.startswith((" ", "\t")):
            content = -1
        out.append(line)
    return "\n".join(out)


def _is_list_line(line: str) -> bool:
    return bool(re.match(r"^\s*(?:[-*+]|\d+[.)])\s+", line))


_FENCE_SPAN = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1?\2[^\n]*$|`[^`\n]+`", re.S | re.M)


def _protect_code(text: str, change) -> str:  # type: ignore[no-untyped-def]
    """Apply `change` to the text outside code (fences and inline spans stay as written)."""
    out, last = [], 0
    for m in _FENCE_SPAN.finditer(text):
        out.append(change(text[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(change(text[last:]))
    return "".join(out)


# -- blocks -----------------------------------------------------------------------------------


@dataclass
class _Block:
    kind: str  # heading | paragraph | item | quote | code | table | html | hr
    text: str = ""
    level: int = 0
    info: str = ""
    setext: bool = False
    rows: list[list[str]] = field(default_factory=list)


def _parser(plain: bool):  # type: ignore[no-untyped-def]
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": not plain}).enable("table")
    if plain:
        md.disable(["code", "html_block", "html_inline", "heading", "lheading"])
    return md


def _blocks(text: str, plain: bool) -> list[_Block]:
    tokens = _parser(plain).parse(text)
    blocks: list[_Block] = []
    quote_depth = 0
    list_depth = 0
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.type == "blockquote_open":
            quote_depth += 1
        elif t.type == "blockquote_close":
            quote_depth -= 1
            blocks.append(_Block("quote_end"))
        elif t.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif t.type == "heading_open":
            blocks.append(_Block("heading", inline(tokens[i + 1].children or []), int(t.tag[1]), setext=t.markup in ("-", "=")))
            i += 2
        elif t.type == "paragraph_open":
            kind = "quote" if quote_depth else "item" if list_depth else "paragraph"
            blocks.append(_Block(kind, inline(tokens[i + 1].children or []), list_depth))
            i += 2
        elif t.type in ("fence", "code_block"):
            blocks.append(_Block("code", t.content, info=(t.info or "").split()[0].lower() if t.info.strip() else ""))
        elif t.type == "html_block":
            blocks.append(_Block("html", t.content))
        elif t.type == "table_open":
            rows, row = [], []
            i += 1
            while tokens[i].type != "table_close":
                if tokens[i].type == "tr_close":
                    rows.append(row)
                    row = []
                elif tokens[i].type == "inline":
                    row.append(inline(tokens[i].children or []))
                i += 1
            blocks.append(_Block("table", rows=rows))
        elif t.type == "hr":
            blocks.append(_Block("hr"))
        i += 1
    return blocks


# Tags at the end of a line ("Yann Lecun #person"): a note-taking app's metadata, not words.
_TRAILING_TAGS = re.compile(r"(?:\s+#[A-Za-z][\w/-]*)+\s*$")


def _end_tagged_line(parts: list[str], line_start: int) -> None:
    """The line from parts[line_start:] without its trailing tags, ended as a sentence: a list of
    tagged lines ("Yoshua Bengio #person", one a line) is read line by line, not as one run."""
    line = "".join(parts[line_start:])
    tagged = _TRAILING_TAGS.search(line)
    if tagged and line[: tagged.start()].strip():
        kept = line[: tagged.start()].rstrip()
        parts[line_start:] = [kept + ("" if kept.endswith(_SENTENCE_END) else ".")]


_COMMIT_TEXT = re.compile(r"`?(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}`?")


def inline(children: list) -> str:  # type: ignore[type-arg]
    """Inline tokens -> plain text; inline code stays between backticks, links keep their text.

    A line set in bold on its own ("**Food**" and a line break) is a heading in all but name: it
    ends as a sentence, so that it is not read into the line after it.
    """
    parts: list[str] = []
    in_image = 0
    link_href: list[str] = []
    link_start: list[int] = []
    line_start, bold_from, bold_to = 0, -1, -1
    for c in children:
        if c.type == "text":
            if not in_image:
                parts.append(c.content)
        elif c.type == "code_inline":
            code = c.content.strip()
            if code:
                parts.append(f"`{code}`")
        elif c.type in ("softbreak", "hardbreak"):
            _end_tagged_line(parts, line_start)
            line = "".join(parts[line_start:]).strip()
            after_bold = "".join(parts[bold_to:]).strip() if bold_to >= line_start else "x"
            if bold_from == line_start and not after_bold and line and not line.endswith(_SENTENCE_END):
                parts.append(".")
            parts.append("\x02\n" if c.type == "hardbreak" else "\n")
            line_start = len(parts)
        elif c.type == "strong_open":
            if not "".join(parts[line_start:]).strip():
                bold_from = line_start
        elif c.type == "strong_close":
            bold_to = len(parts)
        elif c.type == "image":
            continue  # alt text is for readers of the page, not listeners
        elif c.type == "link_open":
            link_href.append(str(c.attrGet("href") or ""))
            link_start.append(len(parts))
        elif c.type == "link_close":
            href = link_href.pop() if link_href else ""
            start = link_start.pop() if link_start else len(parts)
            if _COMMIT_TEXT.fullmatch("".join(parts[start:]).strip()) and "/commit" in href:
                parts[start:] = ["this commit"]  # a commit's hash as a link's text: "as of this commit"
        elif c.type == "html_inline":
            tag = c.content.lower()
            if tag.startswith("<br"):
                parts.append(" ")
        elif c.type.endswith(("_open", "_close")):
            continue  # emphasis
    _end_tagged_line(parts, line_start)
    text = re.sub(r"[ \t]+", " ", "".join(parts)).strip()
    # A hard line break between a line with no closing mark and one that starts a sentence ends it.
    text = re.sub(r"(?<=[\w`)\u27e7\ue001])\s*\x02\n(?=\s*[A-Z“\"])", ".\n", text)
    return text.replace("\x02", "")


# -- what each block says -----------------------------------------------------------------------


def _emit(out: _Out, block: _Block) -> None:
    from macaw.documents.html import html_block_text

    if block.kind == "heading":
        text = _restore(block.text, out.math)
        if block.setext and (len(text.split()) > 8 or text.endswith((".", "!", "?"))):
            out.say(text)  # "text\n---": a paragraph above a rule, not a heading
            return
        name = _heading_text(text)
        if not name:
            return
        if out.first_block and _same(name, out.title):
            out.first_block = False
            return
        if _DATE_WORDS.match(name) and not out.sections and not out.paragraphs and out.first_block:
            return  # the entry's date line under its title: the intro says the date
        out.start(name, block.level)
        out.first_block = False
    elif block.kind in ("paragraph", "item", "quote"):
        if _DISPLAY_ONLY.fullmatch(block.text.strip()):
            out.code.append(_restore(block.text, out.math).strip(MATH_OPEN + MATH_CLOSE + " "))
            out.announce("an equation")  # display math: shown in the notes, announced, not read
            return
        text = _restore(block.text, out.math)
        if block.kind == "paragraph" and out.first_block and _same(text, out.title):
            out.first_block = False
            return
        if block.kind == "paragraph" and not out.sections and not out.paragraphs and _DATE_WORDS.match(text):
            return  # a date line at the top
        if block.kind == "paragraph" and out.plain and _plain_heading(text):
            out.start(text, 2)
            out.first_block = False
            return
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if block.kind != "item" and len(lines) > 1 and _ATTRIBUTION.match(lines[-1]):
            quote = _as_quote(" ".join(lines[:-1]))
            out.say(f"{_speaker(_ATTRIBUTION.match(lines[-1]).group(1))} says: {quote}")
            return
        attribution = _ATTRIBUTION.match(text) if block.kind != "item" else None
        if attribution and out.paragraphs and _QUOTED.match(out.paragraphs[-1]):
            out.paragraphs[-1] = f"{_speaker(attribution.group(1))} says: {out.paragraphs[-1]}"
            return
        if block.kind == "quote":
            text = _as_quote(text)
        out.say(_finish(text) if block.kind == "item" else text)
    elif block.kind == "quote_end":
        pass
    elif block.kind == "code":
        if block.text.strip():
            out.code.append(block.text.rstrip("\n"))
            out.announce(_CODE_WORDS.get(block.info, "code"))
    elif block.kind == "table":
        _table(out, block.rows)
    elif block.kind == "html":
        text, captions = html_block_text(block.text)
        out.captions.extend(captions)
        for para in text:
            out.say(_restore(para, out.math))


def _table(out: _Out, rows: list[list[str]]) -> None:
    rows = [[_restore(c, out.math) for c in r] for r in rows if any(c.strip() for c in r)]
    if not rows:
        return
    header, body = rows[0], rows[1:]
    if len(header) > MAX_TABLE_COLUMNS or len(body) > TABLE_READ_ROWS or not body:
        out.code.append("\n".join(" | ".join(r) for r in rows))
        out.announce("a table")
        return
    for row in body:
        cells = [c.strip().rstrip(".") for c in row if c.strip()]
        if cells:
            out.say(_finish(cells[0] + (": " + ", ".join(cells[1:]) if len(cells) > 1 else "")))


def _restore(text: str, math: list[str]) -> str:
    def put(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"{MATH_OPEN}{math[n]}{MATH_CLOSE}" if n < len(math) else ""

    return _PLACEHOLDER.sub(put, text)


def _heading_text(text: str) -> str:
    text = re.sub(r"</?[A-Za-z][^>]*>", "", text)
    text = strip_emoji(text).strip().rstrip(":").strip()
    return text if re.search(r"[A-Za-z0-9]", text) else ""


def _plain_heading(line: str) -> bool:
    """A plain-text entry marks parts with short standalone lines ("Day 1", "Normalization")."""
    line = line.strip()
    if _is_list_line(line) or _DATE_WORDS.match(line) or _ATTRIBUTION.match(line) or _QUOTED.match(line):
        return False
    return (len(line) <= 60 and len(line.split()) <= 6 and line[:1].isalnum() and line[:1] == line[:1].upper()
            and not line.endswith(_SENTENCE_END))


def _speaker(attribution: str) -> str:
    """ "Louise Banks, Arrival" -> "Louise Banks"; "Arrival" stays "Arrival"."""
    name = attribution.strip().strip("*_").strip()
    return name.split(",")[0].strip() or name


def _as_quote(text: str) -> str:
    text = text.strip()
    if _QUOTED.match(text) or not text:
        return text
    return f"“{text}”"


def _finish(text: str) -> str:
    text = strip_emoji(text).strip() or text.strip()
    if text and (text[-1].isalnum() or text[-1] in ")`" + MATH_CLOSE):
        return text + "."
    return text


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"[^a-z0-9]+", "", strip_emoji(s).lower())

    return bool(norm(a)) and norm(a) == norm(b)


_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b00-\u2bff\u231a-\u23ff"
    "\ufe0f\ufe0e\u200d\U000e0020-\U000e007f\u20e3\U0001f3fb-\U0001f3ff]"
)
_EMOJI_CODE = re.compile(r"(?<![\w:]):[a-z0-9_+-]{2,30}:(?![\w:])")  # GitHub and Slack's ":facepalm:"
# Text emoticons, after a space or a bracket and before one, or before the end of the sentence.
_EMOTICON = re.compile(r"(?<![^\s(])(?:[:;=][\-o\*'^]?[\)\]\(\[dDpPoO/\\|3]|\^_?\^|<3+|>\.<|[xX]D|T_T|-_-|o_O|O_o)(?=[\s.,;!?)]|$)")


def strip_emoji(text: str) -> str:
    """Emoji, their modifiers and joiners, and text emoticons (":)", ";)") out; spaces tidied."""
    text = _EMOJI.sub("", text)
    text = _EMOJI_CODE.sub("", text)
    text = _EMOTICON.sub("", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
