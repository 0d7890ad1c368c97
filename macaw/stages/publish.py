"""The publish stage: listener-facing files for one episode, then the feed and pages for all.

    run(ctx, source, document, script, quality, master) -> Manifest   # one episode, then publish_all
    publish_all(config) -> PublishResult                               # `macaw publish`

publish_all rebuilds everything from `episodes/*/episode.json`, validates the new feed, and
only then moves files into place: pages first, the feed last, each by an atomic rename. A
failure before the feed's rename leaves the previous feed byte-identical.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from macaw import render as templating
from macaw.artifacts import Author, Document, Manifest, Master, Narration, Quality, Script, Source
from macaw.config import Config
from macaw.errors import PublishError
from macaw.publish import files
from macaw.publish.cover import ensure_cover
from macaw.publish.names import episode_page_path, parse_time
# The renderers (feedgen, lxml, jinja2, nh3) are imported where they are used, so that a publish
# with nothing new to render (the common case for `macaw publish`) does not pay for loading them.
from macaw.stages.context import Stage, StageContext
from macaw.version import __version__

# Fixed forever: uuid5(NAMESPACE_URL, "urn:macaw:episode"). Item GUIDs are uuid5(this, episode id),
# so a rebuild, a new arXiv version or a moved base_url never changes an episode's identity.
STAGE = Stage(
    reads=("fetch", "extract", "write", "speak", "check", "master"),
    artifact=Manifest,
    files=lambda folder, config: [f"../../feeds/{config.show.slug}.xml"],
    options=lambda config: config.section("show"),
    code=("macaw.publish",),
    templates=("*.html.j2", "*.txt.j2", "_style.css.j2"),
)

EPISODE_GUID_NAMESPACE = uuid.UUID("0aadf8a2-d863-57d7-9cfb-3af0cd9ddc05")


def episode_guid(episode_id: str) -> str:
    return str(uuid.uuid5(EPISODE_GUID_NAMESPACE, episode_id))


@dataclass
class PublishResult:
    feed: Path
    episodes: int
    seconds: float
    skipped: list[str] = field(default_factory=list)  # one line per episode folder left out, and why
    written: int = 0  # files whose bytes changed


def url_for(config: Config, relpath: str) -> str:
    """base_url + the path from the output root: every URL in the feed is built here."""
    return config.show.base_url.rstrip("/") + "/" + quote(relpath)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


# --- one episode ----------------------------------------------------------------------------------


def _merge_authors(document: Document, source: Source) -> list[Author]:
    """The document's authors, with affiliations filled from the source where it knows them."""
    authors = document.authors or source.authors
    known = {a.name: a.affiliation for a in source.authors if a.affiliation}
    return [Author(name=a.name, affiliation=a.affiliation or known.get(a.name, "")) for a in authors]


def _paper_metadata(source: Source) -> tuple[dict, dict[str, str]]:
    """Manifest metadata and links from what fetch recorded; tolerant of missing keys."""
    meta = dict(source.metadata or {})
    links: dict[str, str] = {}
    if source.kind == "arxiv":
        arxiv_id = str(meta.get("arxiv_id") or source.id.removeprefix("arxiv-"))
        version = str(meta.get("version") or "")
        if version and not version.startswith("v"):
            version = f"v{version}"
        meta["arxiv_id"], meta["version"] = arxiv_id, version
        links["abs"] = str(meta.get("abs_url") or f"https://arxiv.org/abs/{arxiv_id}{version}")
        links["pdf"] = str(meta.get("pdf_url") or f"https://arxiv.org/pdf/{arxiv_id}{version}")
    elif source.origin.startswith(("http://", "https://")):
        links["source"] = source.origin
    return meta, links


def _summary(document: Document, script: Script) -> str:
    if document.abstract.strip():
        return document.abstract
    # A journal entry has no abstract: its first few sentences stand in for one.
    words: list[str] = []
    for s in script.sentences:
        words += s.text.split()
        if len(words) >= 80:
            break
    return " ".join(words)


def _models(ctx: StageContext, script: Script, narration: Narration, quality: Quality) -> dict[str, str]:
    models = dict(script.models)
    models.setdefault("tts", narration.voice or ctx.config.tts.voice or f"{ctx.config.tts.engine} en_US-joe-medium")
    models.setdefault("asr", quality.asr_model or ctx.config.asr.model or f"{ctx.config.asr.engine} tiny.en")
    return {k: str(v) for k, v in models.items() if v}


def run(
    ctx: StageContext,
    source: Source,
    document: Document,
    script: Script,
    narration: Narration,
    quality: Quality,
    master: Master,
    *,
    now: datetime | None = None,
) -> Manifest:
    """Write the episode's listener-facing files and manifest, then publish the whole feed."""
    folder = ctx.folder
    config = ctx.config
    previous: Manifest | None = None
    if (folder / Manifest.filename).is_file():
        try:
            previous = Manifest.load(folder)
        except (OSError, ValueError, TypeError):
            previous = None  # a broken manifest is rewritten; only its first-published time is lost

    audio_path = folder / master.audio
    if not audio_path.is_file():
        raise PublishError(f"{audio_path} is missing", hint="run the master stage again")
    meta, links = _paper_metadata(source)
    if document.code:
        meta["code"] = list(document.code)  # a journal entry's code blocks: in the show notes, never read
    manifest = Manifest(
        id=ctx.episode_id,
        guid=(previous.guid if previous and previous.guid else episode_guid(ctx.episode_id)),
        title=document.title or source.title,
        kind=source.kind,
        authors=_merge_authors(document, source),
        date=source.date or document.date,
        published=(previous.published if previous and previous.published
                   else (now or _now()).isoformat().replace("+00:00", "Z")),
        summary=_summary(document, script),
        duration_s=round(float(master.duration_s), 3),
        audio=master.audio,
        size_bytes=audio_path.stat().st_size,
        chapters=list(master.chapters),
        quality={
            "wer": quality.wer,
            "wer_first_pass": quality.wer_first_pass,
            "threshold": quality.threshold,
            "passed": quality.passed,
            "grounded_ratio": round(script.grounded_ratio(), 4),
            "model_sentences_offered": script.offered,
            "model_sentences_accepted": script.accepted,
            "model_sentences_refused": script.refused,
            "words": quality.words,
            "retries": quality.retries,
        },
        timings=dict(ctx.timings),
        models=_models(ctx, script, narration, quality),
        links=links,
        metadata={**meta, "script": script.notes()},
    )

    from macaw.publish.shownotes import (
        cues, render_chapters_json, render_shownotes_html, render_shownotes_text, render_srt, render_vtt,
    )

    items = cues(script, quality)
    listener_files = {
        "transcript.vtt": render_vtt(items),
        "transcript.srt": render_srt(items),
        "chapters.json": render_chapters_json(manifest, config.show.title),
        "shownotes.html": render_shownotes_html(manifest, config.show.title),
        "shownotes.txt": render_shownotes_text(manifest, config.show.title),
    }
    files.sweep(folder)
    target = folder
    try:
        for name, text in listener_files.items():
            target = folder / name
            files.write_text(target, text)
        target = folder / Manifest.filename
        manifest.save(folder)
    except OSError as exc:  # a full disk, a read-only folder: the feed and other episodes are untouched
        raise PublishError(f"could not write {target}: {exc.strerror or exc}",
                           hint="free some space or fix the output folder's permissions, then build again; "
                                "the previous feed was kept") from None
    ctx.log(f"wrote the manifest, transcripts, chapters and show notes for {ctx.episode_id}")

    result = publish_all(config, log=ctx.log)
    ctx.log(f"published {result.episodes} episodes to {result.feed} in {result.seconds:.2f}s")

    # Old audio stays until the new feed points elsewhere: an app mid-download keeps its file.
    for old in folder.glob("episode-*.mp3"):
        if old.name != manifest.audio:
            old.unlink(missing_ok=True)
    return manifest


# --- the whole feed -------------------------------------------------------------------------------


@dataclass
class _Loaded:
    id: str
    published: str
    audio: str
    size: int
    digest: str  # of episode.json's bytes: the render cache's key for this episode
    raw: bytes
    parsed: Manifest | None = None

    @property
    def manifest(self) -> Manifest:
        """Parsed on first use: a publish with nothing to render parses no manifest."""
        if self.parsed is None:
            self.parsed = Manifest.from_dict(json.loads(self.raw))
        return self.parsed


# What publish_all rendered last time, per episode, so a rebuild of 1,000 episodes re-renders
# only those whose manifest changed, and a publish with nothing new renders nothing (the feed,
# the index and the pages are checked to be the very bytes written then). Derived data:
# deleting it costs one slower publish.
CACHE_FILE = ".macaw/publish-cache.json"
CACHE_FORMAT = 2


def _render_key(config: Config) -> str:
    """Changes whenever anything an episode's rendering depends on, besides its manifest, does."""
    h = hashlib.sha256(f"{__version__} {CACHE_FORMAT}".encode())
    h.update(json.dumps(dataclasses.asdict(config.show), sort_keys=True).encode())
    h.update(templating.digest().encode())
    for module in ("shownotes", "pages", "feed", "podcast2"):
        spec = importlib.util.find_spec(f"macaw.publish.{module}")
        h.update(Path(spec.origin).read_bytes())  # type: ignore[union-attr, arg-type]
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


def _load_cache(config: Config, key: str) -> dict:
    try:
        data = json.loads((config.out / CACHE_FILE).read_bytes())
    except (OSError, ValueError):
        return {"episodes": {}}
    if not isinstance(data, dict) or data.get("key") != key or not isinstance(data.get("episodes"), dict):
        return {"episodes": {}}
    return data


def _load_manifests(config: Config, warn: Callable[[str], None],
                    cache: dict[str, dict[str, str]] | None = None) -> tuple[list[_Loaded], list[str]]:
    """Every publishable manifest, newest first. One whose bytes the cache has seen is not parsed again."""
    cache = cache or {}
    loaded: list[_Loaded] = []
    skipped: list[str] = []
    root = config.episodes_dir
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        path = folder / Manifest.filename
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            continue  # an episode still being built
        except OSError as exc:
            skipped.append(f"{folder.name}: {exc}")
            warn(f"skipped {folder.name}: {path.name} is unreadable ({exc}); rebuild it with macaw build")
            continue
        digest = hashlib.sha256(raw).hexdigest()
        hit = cache.get(folder.name) or {}
        try:
            parsed = None
            if hit.get("digest") == digest and hit.get("published") and hit.get("audio"):
                published, audio = hit["published"], hit["audio"]  # these bytes passed the checks below before
            else:
                parsed = Manifest.from_dict(json.loads(raw))
                if not parsed.id or not parsed.guid or not parsed.published:
                    raise ValueError("id, guid or published is empty")
                if parsed.id != folder.name:
                    raise ValueError(f"its id {parsed.id!r} is not the folder's name")
                parse_time(parsed.published)
                published, audio = parsed.published, parsed.audio
            size = (folder / audio).stat().st_size
        except FileNotFoundError as exc:
            skipped.append(f"{folder.name}: audio file {Path(exc.filename or '').name} is missing")
            warn(f"skipped {folder.name}: its audio file is missing (rebuild it with macaw build)")
            continue
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            skipped.append(f"{folder.name}: {exc}")
            warn(f"skipped {folder.name}: {path.name} is unreadable ({exc}); rebuild it with macaw build")
            continue
        loaded.append(_Loaded(folder.name, published, audio, size, digest, raw, parsed))
    # Newest first; the id breaks ties so the order never depends on the file system.
    loaded.sort(key=lambda e: (parse_time(e.published), e.id), reverse=True)
    return loaded, skipped


def _state(cover_rel: str, loaded: list[_Loaded]) -> str:
    """What the feed, the index and the set of pages are a function of (with the render key)."""
    return hashlib.sha256(json.dumps([cover_rel, [[e.id, e.digest, e.size] for e in loaded]]).encode()).hexdigest()


def _unchanged(config: Config, feed_path: Path, cache: dict, state: str, loaded: list[_Loaded]) -> bool:
    """True when the last publish rendered this very state and its files are still the bytes it wrote."""
    if cache.get("state") != state:
        return False
    for path, digest in ((feed_path, cache.get("feed")), (config.feeds_dir / "index.html", cache.get("index"))):
        try:
            if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                return False
        except OSError:
            return False
    return all((config.out / episode_page_path(e.id)).is_file() for e in loaded)


def _write_if_changed(path: Path, data: bytes, *, durable: bool = True) -> bool:
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    # Pages are rebuilt by every publish, so they skip the fsync (a thousand of them cost most
    # of a second); the rename still means a reader never sees half a page.
    files.write(path, data, durable=durable)
    return True


@dataclass
class _Rendered:
    feed: bytes
    pages: dict[str, bytes]  # relative path -> bytes, only pages that had to be rendered
    keep: set[str]  # every page that belongs to the output, rendered or not
    cache: dict[str, dict[str, str]]


def render_all(config: Config, loaded: list[_Loaded], cover_rel: str,
               cache: dict[str, dict[str, str]] | None = None) -> _Rendered:
    """The feed's bytes and the pages that changed, in memory; validated, nothing written yet."""
    from macaw.publish.feed import FeedEpisode, build_feed, validate_feed
    from macaw.publish.pages import PageEpisode, render_episode_page, render_index
    from macaw.publish.shownotes import render_description, render_shownotes_html

    cache = cache or {}
    feed_episodes: list[FeedEpisode] = []
    pages: dict[str, bytes] = {}
    keep: set[str] = set()
    page_episodes: list[PageEpisode] = []
    new_cache: dict[str, dict[str, str]] = {}
    for item in loaded:
        m = item.manifest
        folder = f"episodes/{m.id}/"
        page_rel = episode_page_path(m.id)
        page_url = url_for(config, page_rel)
        hit = cache.get(m.id)
        fresh = bool(hit and hit.get("digest") == item.digest and "notes" in hit and (config.out / page_rel).is_file())
        if fresh:
            notes, description = hit["notes"], hit["description"]  # type: ignore[index]
        else:
            notes = render_shownotes_html(m, config.show.title)
            description = render_description(m, page_url)
        new_cache[m.id] = {"digest": item.digest, "published": m.published, "audio": m.audio,
                           "notes": notes, "description": description}
        feed_episodes.append(FeedEpisode(
            manifest=m,
            audio_url=url_for(config, folder + m.audio),
            size_bytes=item.size,
            page_url=page_url,
            vtt_url=url_for(config, folder + "transcript.vtt"),
            srt_url=url_for(config, folder + "transcript.srt"),
            chapters_url=url_for(config, folder + "chapters.json"),
            description=description,
            content_html=notes,
        ))
        page = PageEpisode(m, notes)
        page_episodes.append(page)
        keep.add(page_rel)
        if not fresh:
            pages[page_rel] = render_episode_page(config, page).encode("utf-8")
    cover_url = url_for(config, cover_rel)
    feed = build_feed(config, feed_episodes, cover_url)
    validate_feed(feed, config, feed_episodes)
    cover_from_index = cover_rel.removeprefix("feeds/")
    pages["feeds/index.html"] = render_index(config, page_episodes, cover_from_index).encode("utf-8")
    keep.add("feeds/index.html")
    return _Rendered(feed, pages, keep, new_cache)


def publish_all(config: Config, *, log: Callable[[str], None] | None = None) -> PublishResult:
    """Rebuild the feed and pages from every episode manifest, validate, then swap them in."""
    started = time.perf_counter()
    warn = log or (lambda message: None)
    feed_path = config.feeds_dir / f"{config.show.slug}.xml"
    # Temp files a killed publish left (its pid is gone); a live writer's are left alone.
    files.sweep(config.feeds_dir, config.feeds_dir / "episodes", config.out / ".macaw")
    key = _render_key(config)
    cache = _load_cache(config, key)
    loaded, skipped = _load_manifests(config, warn, cache["episodes"])
    try:
        cover_rel = ensure_cover(config).as_posix()
        state = _state(cover_rel, loaded)
        if _unchanged(config, feed_path, cache, state, loaded):
            return PublishResult(feed_path, len(loaded), time.perf_counter() - started, skipped, 0)
        rendered = render_all(config, loaded, cover_rel, cache["episodes"])
    except PublishError:
        raise
    except Exception as exc:  # a template or feedgen failure is a publish failure, not a crash
        raise PublishError(f"could not build the feed from {len(loaded)} episodes: {type(exc).__name__}: {exc}",
                           hint="the previous feed was kept") from exc

    written = 0
    target = feed_path
    try:
        for rel, data in rendered.pages.items():
            target = config.out / rel
            written += _write_if_changed(target, data, durable=False)
        # Last: readers see the new feed only when everything it points to is in place.
        target = feed_path
        written += _write_if_changed(feed_path, rendered.feed)
    except OSError as exc:
        raise PublishError(f"could not write {target}: {exc.strerror or exc}",
                           hint="check the disk and permissions of the output folder") from None

    # Pages of episodes that left the feed, and cover art no longer named, go after the swap.
    keep = {config.out / rel for rel in rendered.keep}
    for stale in (config.feeds_dir / "episodes").glob("*.html"):
        if stale not in keep:
            stale.unlink(missing_ok=True)
    for stale in config.feeds_dir.glob("cover-*"):
        if stale.as_posix() != (config.out / cover_rel).as_posix():
            stale.unlink(missing_ok=True)
    try:
        record = {"key": key, "state": state, "feed": hashlib.sha256(rendered.feed).hexdigest(),
                  "index": hashlib.sha256(rendered.pages["feeds/index.html"]).hexdigest(), "episodes": rendered.cache}
        _write_if_changed(config.out / CACHE_FILE, json.dumps(record).encode(), durable=False)
    except OSError:
        warn(f"could not write {CACHE_FILE}; the next publish renders every episode again")
    return PublishResult(feed_path, len(loaded), time.perf_counter() - started, skipped, written)
