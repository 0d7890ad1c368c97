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
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
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
    title = str(front.get("title") or "").strip() or _title_from_body(body) or _title_from_name(path.stem)
    date = _date(front.get("date")) or _date_from_name(path.name) or dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    return Entry(title=title, date=date, body=body, origin=str(path.resolve()), author=str(front.get("author") or ""), raw=raw, meta=front)


def split_front_matter(raw: str, where: str) -> tuple[dict[str, Any], str]:
    match = _FRONT.match(raw)
    if not match:
        return {}, raw
    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" (line {line + 2})" if line is not None else ""
        raise SourceError(f"front matter of {where} is not valid YAML{at}", hint="fix or remove the block between the --- lines") from None
    if not isinstance(front, dict):
        raise SourceError(f"front matter of {where} must be key: value lines", hint="e.g. title: My entry")
    return front, raw[match.end():]


def _title_from_body(body: str) -> str:
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading:
            return heading.group(1).strip()
        # A plain-text entry's first line is its title when it reads like one.
        if len(line) <= 120 and not line.endswith((".", "!", "?", ":", ";", ",")):
            return line
        return ""
    return ""


def _title_from_name(stem: str) -> str:
    words = re.sub(r"^\d{4}-\d{2}-\d{2}[-_ ]*", "", stem).replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else stem


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        match = _DATE_IN_NAME.search(value)
        if match:
            try:
                return dt.date(*map(int, match.groups())).isoformat()
            except ValueError:
                return ""
    return ""


def _date_from_name(name: str) -> str:
    return _date(name)


def _from_feed(url: str, config: Config | None = None) -> list[Entry]:
    # The download is macaw.sources.http's: timeouts, a size cap, private addresses refused,
    # redirects re-checked, entity-declaring XML refused before feedparser sees it.
    from macaw.sources import http

    response = http.get(url, http.policy_for(config))
    http.check_xml(response.body, url)
    return parse_feed(response.body, url)


def parse_feed(content: bytes, url: str) -> list[Entry]:
    import feedparser

    parsed = feedparser.parse(content)
    if not parsed.entries:
        raise SourceNotFoundError(f"{url} is not an RSS or Atom feed with entries", hint="point --journal at the blog's feed URL")
    entries = []
    for item in parsed.entries:
        content = item.get("content", [{}])[0].get("value") or item.get("summary", "")
        body = html_to_text(content)
        if not body.strip():
            continue
        stamp = item.get("published_parsed") or item.get("updated_parsed")
        date = dt.date(*stamp[:3]).isoformat() if stamp else dt.date.today().isoformat()
        title = html.unescape(item.get("title", "")).strip() or _title_from_body(body) or "Untitled"
        entries.append(Entry(title=title, date=date, body=body, origin=item.get("link") or url, author=item.get("author", ""), raw=body))
    if not entries:
        raise EmptySourceError(f"every entry of feed {url} is empty", hint="the feed may carry only titles")
    return entries


def html_to_text(markup: str) -> str:
    """Blog HTML -> markdown-ish text: headings stay headings, paragraphs stay apart."""
    text = re.sub(r"(?is)<(script|style|pre|figure)\b.*?</\1>", "\n", markup)
    text = re.sub(r"(?i)<h[1-6][^>]*>", "\n\n## ", text)
    text = re.sub(r"(?i)</h[1-6]>", "\n\n", text)
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</?(p|div|li|ul|ol|blockquote|section|article)\b[^>]*>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


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
        metadata={k: v for k, v in entry.meta.items() if isinstance(v, (str, int, float, bool))},
    )
