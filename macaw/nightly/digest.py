"""The night's digest (`[nightly] digest = true`): one more episode, `digest-<date>`, covering every
paper published that day (UTC).

    an opening that names the papers
    per paper, a chapter of its own: its title and authors, what it is about (its abstract, as the
    authors wrote it), and its key result (its results or conclusion section, else the abstract's
    last sentences): about two minutes each
    a closing

Every sentence is the authors' own, read from the paper's document.json (grounded by
construction; math and anything marked as math are left out), through the Writer, which gives
each its spoken form. Nothing is asked of the language model, so a digest costs speak, check and
master, not a second write. Every author of every paper is on the episode (show notes and
podcast:person, through the manifest's authors).

The digest has no fetch or extract of its own: this module writes its source, document and
script and records those three stages in the episode's stage cache, so the pipeline's
build_one takes it from speak to publish with the usual cache, gate and atomic feed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from macaw.artifacts import MATH_OPEN, Author, Document, Section, Source
from macaw.config import Config

WORDS_PER_PAPER = 300  # about two minutes at the bundled voice's pace
_CAPTION = re.compile(r"^(table|figure|fig\.)\s*\d", re.I)
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
_RESULT_HEADING = re.compile(r"result|finding|conclusion|evaluation|experiment|discussion|summary", re.I)


def digest_id(day: str) -> str:
    return f"digest-{day}"


def _sentences(text: str) -> list[str]:
    from macaw.script.writer import paragraphs

    return [s for para in paragraphs(text) for s in para
            if MATH_OPEN not in s and len(s.split()) >= 4 and not _CAPTION.match(s)]


def _take(sentences: list[str], budget: int) -> list[str]:
    out, words = [], 0
    for s in sentences:
        if words and words + len(s.split()) > budget:
            break
        out.append(s)
        words += len(s.split())
    return out


def paper_parts(document: Document, abstract_text: str = "") -> tuple[list[str], list[str]]:
    """(what it is about, its key result): sentences of the paper, as written. `abstract_text`
    (arXiv's own, from source.json) stands in when the document's abstract came out empty."""
    abstract = _sentences(document.abstract or abstract_text)
    results: list[str] = []
    for section in document.sections:
        if not section.appendix and _RESULT_HEADING.search(section.heading):
            results = _sentences(section.text)
            if results:
                break
    about = _take(abstract, WORDS_PER_PAPER * 2 // 3)
    if sum(len(s.split()) for s in about) < 60:  # a thin abstract: the introduction's opening says more
        first = next((sec for sec in document.sections if not sec.appendix and not _RESULT_HEADING.search(sec.heading)), None)
        if first is not None:
            used = sum(len(s.split()) for s in about)
            about += _take([s for s in _sentences(first.text) if s not in about], WORDS_PER_PAPER // 2 - used)
    if not results:
        results = [s for s in abstract if s not in about][-3:]
    key = _take([s for s in results if s not in about], WORDS_PER_PAPER - sum(len(s.split()) for s in about))
    return about, key


def compose(config: Config, day: str, folders: list[Path]) -> tuple[Source, Document, list[dict[str, Any]]]:
    """The digest's Source and Document, and per paper what the script says about it."""
    papers: list[dict[str, Any]] = []
    authors: list[Author] = []
    sections: list[Section] = []
    for folder in folders:
        source, document = Source.load(folder), Document.load(folder)
        names = [a.name for a in (document.authors or source.authors) if a.name.strip()]
        for a in document.authors or source.authors:
            if a.name.strip() and a.name not in {b.name for b in authors}:
                authors.append(Author(a.name, a.affiliation))
        about, key = paper_parts(document, str(source.metadata.get("abstract") or ""))
        arxiv_id = str(source.metadata.get("id") or source.id.removeprefix("arxiv-"))
        version = str(source.metadata.get("version") or "")
        title = document.title or source.title
        papers.append({"episode": source.id, "arxiv_id": arxiv_id, "version": version, "title": title, "authors": names,
                       "about": about, "key": key, "abs_url": source.metadata.get("abs_url", "")})
        sections.append(Section(heading=title, text=" ".join(about) + "\n\n" + " ".join(key)))
    listing = "; ".join(f"{p['title']} (arXiv {p['arxiv_id']}{p['version']}), by {', '.join(p['authors'])}" for p in papers)
    title = f"{config.show.title} digest for {day}"
    source = Source(kind="digest", id=digest_id(day), title=title, authors=authors, date=day, origin="macaw nightly",
                    raw_file="source.md", metadata={"papers": [{k: p[k] for k in ("arxiv_id", "version", "title", "authors", "abs_url")} for p in papers]})
    document = Document(title=title, authors=authors, abstract=f"The papers of {day}: {listing}.", date=day, sections=sections,
                        origin_format="markdown")
    return source, document, papers


def _script(ctx: Any, source: Source, document: Document, papers: list[dict[str, Any]]) -> Any:
    from macaw.script.writer import Writer, name_list, spoken_date

    w = Writer(ctx, document, source)
    opening = "Tonight's papers"
    w.add(f"Welcome to {ctx.config.show.title}.", opening, 0, origin="template", support="(episode metadata)")
    count = "one new paper" if len(papers) == 1 else f"{len(papers)} new papers"
    w.add(f"This is the digest for {spoken_date(source.date)}: {count}.", opening, 0, origin="template", support="(episode metadata)")
    titles = name_list([f'"{p["title"]}"' for p in papers], limit=len(papers))
    w.add(f"In order, {titles}.", opening, 0, origin="template", support="(episode metadata)")
    for n, p in enumerate(papers):
        segment = p["title"]
        # Template lines must differ from paper to paper: the Writer drops a repeated sentence.
        nth = _ORDINALS[n] if n < len(_ORDINALS) else f"number {n + 1}"
        by = f', by {name_list(p["authors"])}' if p["authors"] else ""
        w.add(f'The {nth} paper: "{p["title"]}"{by}.', segment, 0, origin="template", support="(paper metadata)")
        if p["about"]:
            w.add(f"What the {nth} paper is about.", segment, 1, origin="template", support="(episode structure)")
            for s in p["about"]:
                w.add(s, segment, 1, origin="source", support=f"{p['arxiv_id']} abstract")
        if p["key"]:
            w.add(f"The {nth} paper's key result.", segment, 2, origin="template", support="(episode structure)")
            for s in p["key"]:
                w.add(s, segment, 2, origin="source", support=f"{p['arxiv_id']}")
    closing = "Closing"
    w.add(f"That was the {ctx.config.show.title} digest for {spoken_date(source.date)}.", closing, 0, origin="template", support="(episode metadata)")
    w.add("Each paper has its own episode in the feed.", closing, 0, origin="template", support="(episode metadata)")
    return w.script()


def build_digest(config: Config, day: str, folders: list[Path], engines: dict[str, Any]) -> Any:
    """Build and publish the digest for `day` from the papers' episode folders; returns its Manifest."""
    from macaw import cache as stage_cache
    from macaw import pipeline
    from macaw.fsutil import atomic_write_text
    from macaw.stages.context import StageContext

    source, document, papers = compose(config, day, folders)
    folder = config.episodes_dir / source.id
    text = "\n\n".join([f"# {source.title}", *(f"## {p['title']}\n\n{', '.join(p['authors'])}\n\n{' '.join(p['about'])}\n\n{' '.join(p['key'])}"
                                                for p in papers)]) + "\n"

    def fetch(cfg: Config, target: Path) -> Source:
        atomic_write_text(target / "source.md", text)
        return source

    key = {"kind": "digest", "day": day, "papers": [f"{p['arxiv_id']}{p['version']}" for p in papers]}
    request = pipeline.Request("digest", source.id, key, fetch, f"digest {day}")
    reporter = pipeline.SilentReporter()
    pipeline.build_one(config, request, "fetch", reporter, engines, pipeline.Outcome(request))
    ctx = StageContext(config=config, folder=folder, episode_id=source.id, _engines=engines)
    cache = stage_cache.StageCache(folder)
    # extract and write, done here: record them as the stage cache would, inputs first.
    document.save(folder)
    cache.record("extract", pipeline.stage_parts("extract", ctx, request), 0.0)
    script = _script(ctx, source, document, papers)
    script.save(folder)
    atomic_write_text(folder / "script.md", script.to_markdown())
    cache.record("write", pipeline.stage_parts("write", ctx, request), 0.0)
    outcome = pipeline.Outcome(request)
    pipeline.build_one(config, request, "publish", reporter, engines, outcome)
    return outcome.manifest


def papers_of_the_day(state: Any, config: Config, when: float) -> tuple[str, list[Path]]:
    """The UTC day of `when`, and the episode folders of the arXiv papers published that day."""
    day = dt.datetime.fromtimestamp(when, dt.timezone.utc).date()
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()
    folders = []
    for item in state.items("published"):
        if item.kind == "arxiv" and start <= item.published_at < start + 86400:
            folder = config.episodes_dir / item.episode_id
            if (folder / Document.filename).exists():
                folders.append(folder)
    return day.isoformat(), sorted(folders, key=lambda f: f.name)

