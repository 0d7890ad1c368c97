"""Journal entries: a markdown or text file, a folder of them, or a blog's RSS/Atom feed.

Each entry becomes one episode, `journal-<date>-<slug>`. A markdown entry may start with
front matter (`---` / `title:` / `date:` / `author:` / `---`); without it the title is the
first heading or first short line, and the date comes from the file name (`2024-10-14-…`) or,
failing that, the file's modification time.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from macaw.artifacts import Author, Source
from macaw.config import Config
from macaw.errors import EmptySourceError, SourceError, SourceNotFoundError
from macaw.fsutil import atomic_write_text, sha256_text

SUFFIXES = (".md", ".markdown", ".txt", ".text")
MAX_BYTES = 5 * 1024 * 1024
_FRONT = re.compile(r"\A\s*---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
_TOML_FRONT = re.compile(r"\A\s*\+\+\+\s*\n(.*?)\n\+\+\+\s*(?:\n|\Z)", re.S)
_PELICAN = re.compile(r"\A(?:(?:title|date|author|authors|slug|tags|category|summary|modified|status|lang)[ \t]*:[^\n]*\n)+", re.I)
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass
class Entry:
    """One journal entry, read and ready to become an episode."""

    title: str
    date: str  # ISO yyyy-mm-dd
    body: str  # the text after any front matter, as the author wrote it
    origin: str  # file path or feed URL
    author: str = ""
    raw: str = ""  # the whole file, front matter included (kept as source.md)
    meta: dict[str, Any] = field(default_factory=dict)
    format: str = "markdown"  # markdown | text (a .txt entry) | html (a feed post, kept as markdown)

    @property
    def episode_id(self) -> str:
        return f"journal-{self.date}-{slugify(self.title)}"

    @property
    def digest(self) -> str:
        return sha256_text(self.raw or self.body)


def slugify(text: str, limit: int = 48) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return (slug[:limit].rstrip("-") or "entry")


def load_entries(value: str, config: Config) -> list[Entry]:
    """Every entry `value` names: a file, a folder (its .md/.txt files, sorted), or a feed URL."""
    if value.startswith(("http://", "https://")):
        return _from_feed(value, config)
    path = Path(value).expanduser()
    if not path.exists():
        raise SourceNotFoundError(f"journal entry not found: {value}", hint="check the path")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise SourceNotFoundError(f"no .md or .txt entries in folder {value}", hint="point --journal at an entry or a folder of them")
        return [read_entry(p) for p in files]
    return [read_entry(path)]


def read_entry(path: Path) -> Entry:
    if path.stat().st_size > MAX_BYTES:
        raise SourceError(f"journal entry {path} is larger than {MAX_BYTES // 1_000_000} MB", hint="split it into entries")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"journal entry {path} is not UTF-8 text", hint="save it as UTF-8 markdown or plain text") from None
    front, body = split_front_matter(raw, str(path))
    if not body.strip():
        raise EmptySourceError(f"journal entry {path} has no text", hint="write something in it, or remove it from the folder")
    title = clean_title(str(front.get("title") or "")) or _title_from_body(body) or _title_from_name(path.stem)
    date = (_date(front.get("date")) or _date_from_body(body) or _date_from_name(path.name)
            or dt.date.fromtimestamp(path.stat().st_mtime).isoformat())
    return Entry(title=title, date=date, body=body, origin=str(path.resolve()), author=_author(front), raw=raw, meta=front,
                 format="text" if path.suffix.lower() in (".txt", ".text") else "markdown")


def split_front_matter(raw: str, where: str) -> tuple[dict[str, Any], str]:
    """YAML (`---`), TOML (`+++`) or Pelican (`Title: ...` lines at the top) -> (fields, body)."""
    match = _FRONT.match(raw)
    if match:
        try:
            front = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            at = f" (line {line + 2})" if line is not None else ""
            raise SourceError(f"front matter of {where} is not valid YAML{at}", hint="fix or remove the block between the --- lines") from None
        if not isinstance(front, dict):
            raise SourceError(f"front matter of {where} must be key: value lines", hint="e.g. title: My entry")
        return front, raw[match.end():]
    match = _TOML_FRONT.match(raw)
    if match:
        import tomllib

        try:
            return tomllib.loads(match.group(1)), raw[match.end():]
        except tomllib.TOMLDecodeError as exc:
            raise SourceError(f"front matter of {where} is not valid TOML ({exc})", hint="fix or remove the block between the +++ lines") from None
    match = _PELICAN.match(raw)
    if match and re.search(r"(?im)^title\s*:", match.group(0)) and raw[match.end():match.end() + 1] in ("\n", ""):
        front = {}
        for line in match.group(0).splitlines():
            key, _, value = line.partition(":")
            front[key.strip().lower()] = value.strip()
        return front, raw[match.end():]
    return {}, raw


_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")


def clean_title(text: str) -> str:
    """A title as a listener hears it and a slug is made from: no emoji, markup or braces."""
    from macaw.documents.markdown import strip_emoji

    text = html.unescape(text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = _EMPHASIS.sub(r"\2", text).replace("`", "")
    text = re.sub(r"</?[A-Za-z][^>]*>", "", text)
    text = strip_emoji(text.replace("{", " ").replace("}", " "))
    return re.sub(r"\s+", " ", text).strip()


def _author(front: dict[str, Any]) -> str:
    value = front.get("author") or front.get("authors") or ""
    if isinstance(value, dict):
        value = value.get("name", "")
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v.get("name", "") if isinstance(v, dict) else v) for v in value)
    detail = front.get("author_detail")  # a feed's author, parsed: Atom's <name>, RSS's "mail (Name)"
    name = str(detail.get("name") or "").strip() if isinstance(detail, dict) else ""
    if name and "@" not in name:
        return name
    text = re.sub(r"\s*<[^>]*>", "", str(value)).strip()  # "Paul Koerbitz <paul@…>" -> the name
    text = re.sub(r"^\S+@\S+\s*\((.+)\)$", r"\1", text)  # RSS 2.0's "lawyer@boyer.net (Lawyer Boyer)" -> the name
    text = re.sub(r"\s*\(\s*\S+@\S+\s*\)", "", text).strip()  # "Reuben Son (reubenson@gmail.com)" -> the name
    return "" if re.fullmatch(r"\S+@\S+", text) else text  # a bare address is nobody's name to say


def _title_from_body(body: str) -> str:
    """The entry's own title line: its top heading, or a short first line of plain text."""
    lines = [ln.strip() for ln in _FENCED.sub("", body).splitlines() if ln.strip()]
    pattern = re.compile(r"(#{1,6})\s+(.*?)\s*#*$")
    headings = [len(m.group(1)) for ln in lines if (m := pattern.match(ln))]
    if lines and (m := pattern.match(lines[0])):
        # The first heading is the title when it outranks the rest: "# Topics" followed by
        # "# Creating a classifier" is a section, and so is a first "## Setup". An author's odd
        # second "#" among forty "##" does not demote the title.
        others = sum(1 for level in headings[1:] if level <= 1)
        if len(m.group(1)) == 1 and others <= 0.1 * len(headings):
            return clean_title(m.group(2))
        return ""
    for line in lines[:1]:
        if line.startswith(("<", "{", "!", "[", "|", "-", "*", ">", "`")) or _DATE_LINE.match(line):
            return ""
        # A plain-text entry's first line is its title when it reads like one.
        if len(line) <= 120 and not line.endswith((".", "!", "?", ":", ";", ",", ")")):
            return clean_title(line)
    return ""


_FENCED = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?^[ \t]*\1[^\n]*$", re.S | re.M)
_ACRONYM_WORDS = {"ml", "ai", "rc", "ui", "api", "llm", "gpt", "nlp", "cv", "aws", "til", "sql", "css", "html"}


def _title_from_name(stem: str) -> str:
    words = re.sub(r"^\d{4}-\d{2}-\d{2}[-_ ]*", "", stem).replace("_", " ").replace("-", " ").split()
    words = [w.upper() if w.lower() in _ACRONYM_WORDS else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else stem


_MONTH_NAMES = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_TEXT_DATE = re.compile(
    r"\b(?:(\d{1,2})(?:st|nd|rd|th)?\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
    r"(?:\s+(\d{1,2})(?:st|nd|rd|th)?)?,?\s+(\d{4})\b", re.I)
_DATE_LINE = re.compile(r"^\W*(?:[A-Za-z]+\.?,?\s+)?(?:\d{4}-\d{2}-\d{2}|\S+\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}\s+\S+\s+\d{4})\W*$")


def parse_date(text: str) -> str:
    """A date written in text ("2024-10-15", "October 15, 2024", "Tue 18 February 2014") -> ISO."""
    match = _DATE_IN_NAME.search(text)
    if match:
        try:
            return dt.date(*map(int, match.groups())).isoformat()
        except ValueError:
            pass
    match = _TEXT_DATE.search(text)
    if match and (match.group(1) or match.group(3)):
        day = int(match.group(1) or match.group(3))
        try:
            return dt.date(int(match.group(4)), _MONTH_NAMES[match.group(2).lower()[:3]], day).isoformat()
        except ValueError:
            return ""
    return ""


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return parse_date(value)
    return ""


def _date_from_body(body: str) -> str:
    """A date in the first lines: a line that is a date, or one that holds little else ("Day 0 : Jan 14, 2019")."""
    lines = [ln for ln in body.splitlines() if ln.strip()][:5]
    for line in lines:
        plain = re.sub(r"[#*_`>\[\]()]", " ", line).strip()
        found = parse_date(plain)
        if not found:
            continue
        rest = _TEXT_DATE.sub(" ", _DATE_IN_NAME.sub(" ", plain))
        if len(re.findall(r"[A-Za-z]{2,}|\d+", rest)) <= 3:
            return found
    return ""


def _date_from_name(name: str) -> str:
    match = _DATE_IN_NAME.search(name)
    return _date(match.group(0)) if match else ""


def _from_feed(url: str, config: Config | None = None) -> list[Entry]:
    # The download is macaw.sources.http's: timeouts, a size cap, private addresses refused,
    # redirects re-checked, entity-declaring XML refused before feedparser sees it.
    from macaw.sources import http

    response = http.get(url, http.policy_for(config))
    http.check_xml(response.body, url)
    return parse_feed(response.body, url)


def parse_feed(content: bytes, url: str) -> list[Entry]:
    """The posts of an RSS or Atom feed, each one entry; its HTML becomes markdown (documents/html.py)."""
    import feedparser

    from macaw.documents.html import to_markdown

    parsed = feedparser.parse(content)
    if not parsed.entries:
        raise SourceNotFoundError(f"{url} is not an RSS or Atom feed with entries", hint="point --journal at the blog's feed URL")
    entries = []
    for item in parsed.entries:
        content_html = (item.get("content") or [{}])[0].get("value") or item.get("summary", "")
        body = to_markdown(content_html)
        if not body.strip():
            continue
        title = clean_title(item.get("title", "")) or _title_from_body(body) or "Untitled"
        date = _feed_date(item) or _date_from_body(body) or dt.date.today().isoformat()
        entries.append(Entry(title=title, date=date, body=body, origin=item.get("link") or url,
                             author=_author(item) or _author(parsed.feed), raw=body, meta={"feed": url}, format="html"))
    if not entries:
        raise EmptySourceError(f"every entry of feed {url} is empty", hint="the feed may carry only titles")
    return entries


def _feed_date(item: Any) -> str:
    """The post's date as its author wrote it (the feed's own offset, not UTC)."""
    from email.utils import parsedate_to_datetime

    for key in ("published", "updated", "created"):
        value = item.get(key)
        if not value:
            continue
        try:
            return parsedate_to_datetime(value).date().isoformat()
        except (TypeError, ValueError):
            found = parse_date(value)
            if found:
                return found
    stamp = item.get("published_parsed") or item.get("updated_parsed")
    return dt.date(*stamp[:3]).isoformat() if stamp else ""


def html_to_text(markup: str) -> str:
    """Blog HTML -> markdown (kept for callers of the old name)."""
    from macaw.documents.html import to_markdown

    return to_markdown(markup).strip()


def fetch(entry: Entry, config: Config, folder: Path) -> Source:
    """Keep the entry as the author wrote it (source.md) and describe it (Source)."""
    atomic_write_text(folder / "source.md", entry.raw or entry.body)
    author = entry.author or config.journal.author or config.show.author
    return Source(
        kind="journal",
        id=entry.episode_id,
        title=entry.title,
        authors=[Author(name=author)] if author else [],
        date=entry.date,
        origin=entry.origin,
        raw_file="source.md",
        metadata={**{k: v for k, v in entry.meta.items() if isinstance(v, (str, int, float, bool))}, "format": entry.format},
    )
