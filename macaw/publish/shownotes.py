"""What a listener reads beside the audio: show notes, the feed description, transcripts, chapters.

Everything here is rendered from the manifest alone, so `macaw publish` can rebuild every page
and item after a template change without touching the earlier stages' artifacts.

Text from papers, journals and the LLM is untrusted. It reaches HTML only through autoescaping
jinja2 templates, and every rendered HTML fragment then passes through nh3 with a small
allowlist, so a title holding `<script>` or `]]>` shows up as text and never as markup.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import nh3

from macaw import render as templating
from macaw.artifacts import Chapter, Manifest, Quality, Script


DESCRIPTION_MAX_BYTES = 4000
DESCRIPTION_TAGS = {"p", "ol", "ul", "li", "a"}
SHOWNOTES_TAGS = {"h1", "h2", "h3", "p", "ol", "ul", "li", "a", "dl", "dt", "dd", "strong", "em", "code", "small", "section", "pre"}
CODE_MAX_CHARS = 20000  # a journal entry's code blocks (not read aloud) shown in its notes, up to this much
LINK_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}

# XML 1.0 forbids these code points even escaped; PDF text extraction produces them (form feeds).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean_text(value: Any) -> str:
    """A string that is safe to put in XML text: no control characters, no lone surrogates."""
    return _XML_INVALID.sub("", "" if value is None else str(value))


def sanitize_html(fragment: str, tags: set[str] = SHOWNOTES_TAGS) -> str:
    return nh3.clean(clean_text(fragment), tags=tags, attributes=LINK_ATTRIBUTES, url_schemes=URL_SCHEMES)


@functools.lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=templating.loader(),
        # Plain-text templates are not HTML: escaping them would print &amp; to the listener.
        autoescape=lambda name: name is None or not name.endswith(".txt.j2"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # one publish renders thousands of times; a stat per render adds up
    )
    env.filters["clock"] = clock
    env.filters["percent"] = lambda v: f"{float(v) * 100:.1f}%"
    return env


@functools.lru_cache(maxsize=None)
def template(name: str) -> jinja2.Template:
    """A compiled template, looked up once per process (jinja's own lookup costs ~40 µs a call)."""
    return environment().get_template(name)


def clock(seconds: float) -> str:
    """1:02:03 or 2:03: the timestamp people read in show notes."""
    total = int(max(seconds, 0.0))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _paragraphs(text: str) -> list[str]:
    parts = re.split(r"\n\s*\n", clean_text(text).strip())
    return [" ".join(p.split()) for p in parts if p.strip()]


def _author_url(kind: str, name: str, explicit: str = "") -> str:
    if explicit:
        return explicit
    if kind == "arxiv":
        return "https://arxiv.org/search/?searchtype=author&query=" + quote(name)
    return ""


def notes_context(manifest: Manifest, show_title: str = "") -> dict[str, Any]:
    """The facts the show-notes templates print, cleaned once."""
    meta = manifest.metadata or {}
    authors = []
    for a in manifest.authors:
        name = clean_text(a.name).strip()
        if not name:
            continue
        authors.append({
            "name": name,
            "affiliation": clean_text(a.affiliation).strip(),
            "url": _author_url(manifest.kind, name, clean_text(meta.get("author_urls", {}).get(name, ""))),
        })
    categories = meta.get("categories") or []
    if isinstance(categories, str):
        categories = categories.split()
    quality = manifest.quality or {}
    models = {clean_text(k): clean_text(v) for k, v in sorted((manifest.models or {}).items()) if v}
    return {
        "show_title": clean_text(show_title),
        "id": manifest.id,
        "kind": manifest.kind,
        "title": clean_text(manifest.title).strip(),
        "authors": authors,
        "date": clean_text(manifest.date),
        "arxiv_id": clean_text(meta.get("arxiv_id", "")),
        "version": clean_text(meta.get("version", "")),
        "doi": clean_text(meta.get("doi", "")),
        "journal_ref": clean_text(meta.get("journal_ref", "")),
        "categories": [clean_text(c) for c in categories],
        "abstract": _paragraphs(manifest.summary),
        "chapters": [{"title": clean_text(c.title), "start": c.start} for c in manifest.chapters],
        "wer": quality.get("wer"),
        "wer_first_pass": quality.get("wer_first_pass"),
        "grounded_ratio": quality.get("grounded_ratio"),
        "models": models,
        "links": {k: clean_text(v) for k, v in (manifest.links or {}).items()},
        "duration_s": manifest.duration_s,
        "code": _code_blocks(meta.get("code") or []),
        **_script_notes(meta.get("script") or {}, quality),
    }


def _script_notes(script: dict[str, Any], quality: dict[str, Any]) -> dict[str, Any]:
    """A paper's script in the notes: the sentences the model wrote, the gate's counts, the equations."""
    counts = {k: quality.get(f"model_sentences_{k}", script.get(k)) for k in ("offered", "accepted", "refused")}
    return {
        "model_sentences": [clean_text(s) for s in script.get("model_sentences") or []],
        "gate": counts if counts["offered"] is not None else None,
        "equations": [clean_text(e) for e in script.get("equations") or []],
    }


def _code_blocks(blocks: list[Any]) -> list[str]:
    out, size = [], 0
    for block in blocks:
        text = clean_text(block).rstrip()
        if not text.strip() or size + len(text) > CODE_MAX_CHARS:
            continue
        out.append(text)
        size += len(text)
    return out


def render_shownotes_html(manifest: Manifest, show_title: str = "") -> str:
    raw = template("shownotes.html.j2").render(**notes_context(manifest, show_title))
    return sanitize_html(raw).strip() + "\n"


def render_shownotes_text(manifest: Manifest, show_title: str = "") -> str:
    return template("shownotes.txt.j2").render(**notes_context(manifest, show_title))


def render_description(manifest: Manifest, page_url: str) -> str:
    """The item <description>: at most 4000 bytes of p, ol, ul, li and a.

    The abstract is cut at a word boundary until the whole fits, then the chapter list goes.
    """
    context = notes_context(manifest)
    description_template = template("description.html.j2")
    words = " ".join(context["abstract"]).split()

    def attempt(n_words: int, chapters: bool) -> str:
        abstract = " ".join(words[:n_words]) + (" …" if n_words < len(words) else "")
        raw = description_template.render(
            abstract=[abstract] if abstract.strip() else [],
            chapters=context["chapters"] if chapters else [],
            links=context["links"],
            page_url=page_url,
        )
        return nh3.clean(clean_text(raw), tags=DESCRIPTION_TAGS, attributes=LINK_ATTRIBUTES,
                         url_schemes=URL_SCHEMES, link_rel=None).strip()

    for chapters in (True, False):
        html = attempt(len(words), chapters)
        if len(html.encode("utf-8")) <= DESCRIPTION_MAX_BYTES:
            return html
        lo, hi = 0, len(words)  # the largest n that fits, by bisection
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(attempt(mid, chapters).encode("utf-8")) <= DESCRIPTION_MAX_BYTES:
                lo = mid
            else:
                hi = mid - 1
        html = attempt(lo, chapters)
        if len(html.encode("utf-8")) <= DESCRIPTION_MAX_BYTES and (lo > 0 or not chapters):
            return html
    return html[:0]  # nothing fits (absurd links): an empty description rather than a broken one


# --- transcripts and chapters -----------------------------------------------------------------


def cues(script: Script, quality: Quality) -> list[tuple[float, float, str]]:
    """(start, end, text) per spoken sentence, in time order; sentences without timing are left out."""
    timing = {q.index: (q.start, q.end) for q in quality.sentences}
    out = []
    for i, sentence in enumerate(script.sentences):
        if i not in timing:
            continue
        start, end = timing[i]
        text = " ".join(clean_text(sentence.text).split())
        if not text or end <= start:
            continue
        out.append((float(start), float(end), text))
    out.sort(key=lambda c: c[0])
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cue_safe(text: str) -> str:
    # "-->" would end the timing line early in both formats.
    return text.replace("-->", "->")


def render_vtt(items: list[tuple[float, float, str]]) -> str:
    lines = ["WEBVTT", ""]
    for n, (start, end, text) in enumerate(items, 1):
        # VTT cue text is markup-ish: & and < start entities and tags.
        body = _cue_safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines += [str(n), f"{_stamp(start, '.')} --> {_stamp(end, '.')}", body, ""]
    return "\n".join(lines)


def render_srt(items: list[tuple[float, float, str]]) -> str:
    lines = []
    for n, (start, end, text) in enumerate(items, 1):
        lines += [str(n), f"{_stamp(start, ',')} --> {_stamp(end, ',')}", _cue_safe(text), ""]
    return "\n".join(lines)


def render_chapters_json(manifest: Manifest, show_title: str) -> str:
    """Podcasting 2.0 JSON chapters, version 1.2.0."""
    chapters = []
    for c in manifest.chapters:
        item: dict[str, Any] = {"startTime": round(float(c.start), 3), "title": clean_text(c.title)}
        if c.end and c.end > c.start:
            item["endTime"] = round(float(c.end), 3)
        chapters.append(item)
    doc = {
        "version": "1.2.0",
        "title": clean_text(manifest.title),
        "podcastName": clean_text(show_title),
        "author": ", ".join(clean_text(a.name) for a in manifest.authors),
        "fileName": manifest.audio,
        "chapters": chapters,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def chapters_from(data: list[Chapter] | list[dict]) -> list[Chapter]:
    return [c if isinstance(c, Chapter) else Chapter.from_dict(c) for c in data]
