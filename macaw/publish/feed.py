"""The RSS feed: built with feedgen (+ its podcast extension and Macaw's), then checked strictly.

`build_feed` is pure: the same manifests and settings give the same bytes (lastBuildDate is the
newest episode's publication time, not the clock), so a rebuild that changes nothing rewrites
nothing and golden files can be compared exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from feedgen.feed import FeedGenerator
from lxml import etree

from macaw.artifacts import Manifest
from macaw.config import Config
from macaw.errors import PublishError
from macaw.publish.names import parse_time
from macaw.publish.podcast2 import ITUNES_NS, PODCAST_NS, Person, podcast_guid, register
from macaw.publish.shownotes import DESCRIPTION_MAX_BYTES, DESCRIPTION_TAGS, clean_text

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
NS = {"atom": ATOM_NS, "itunes": ITUNES_NS, "podcast": PODCAST_NS, "content": CONTENT_NS}
AUDIO_TYPE = "audio/mpeg"
VTT_TYPE = "text/vtt"
SRT_TYPE = "application/x-subrip"
CHAPTERS_TYPE = "application/json+chapters"
# Apple Podcasts' top-level categories; feedgen writes any text, and Apple rejects unknown ones.
APPLE_CATEGORIES = frozenset({
    "Arts", "Business", "Comedy", "Education", "Fiction", "Government", "Health & Fitness", "History",
    "Kids & Family", "Leisure", "Music", "News", "Religion & Spirituality", "Science", "Society & Culture",
    "Sports", "Technology", "True Crime", "TV & Film",
})


@dataclass
class FeedEpisode:
    """One item as the feed needs it: the manifest plus what publish worked out about its files."""

    manifest: Manifest
    audio_url: str
    size_bytes: int  # the file's real length on disk, not what a manifest claims
    page_url: str
    vtt_url: str
    srt_url: str
    chapters_url: str
    description: str
    content_html: str


def show_urls(config: Config) -> tuple[str, str]:
    base = config.show.base_url.rstrip("/")
    return f"{base}/feeds/{config.show.slug}.xml", f"{base}/feeds/index.html"


def _host(config: Config) -> Person:
    return Person(name=clean_text(config.show.author), role="host", group="cast")


def build_feed(config: Config, episodes: list[FeedEpisode], cover_url: str) -> bytes:
    show = config.show
    feed_url, index_url = show_urls(config)
    fg = FeedGenerator()
    fg.load_extension("podcast")
    register(fg)

    fg.title(clean_text(show.title))
    fg.description(clean_text(show.description))
    fg.language(show.language)
    # feedgen's RSS <link> is the last link set, so the page comes after the self link.
    fg.link(href=feed_url, rel="self")
    fg.link(href=index_url, rel="alternate")
    fg.image(url=cover_url, title=clean_text(show.title), link=index_url)
    fg.generator("Macaw")
    fg.podcast.itunes_image(cover_url)
    main, _, sub = (part.strip() for part in show.category.partition("/"))
    if main not in APPLE_CATEGORIES:
        raise PublishError(
            f"show.category {show.category!r} is not an Apple Podcasts category",
            hint="use one such as 'Science' or 'Science/Mathematics'",
        )
    fg.podcast.itunes_category(main, sub or None)
    fg.itunes_explicit.explicit(bool(show.explicit))
    fg.podcast.itunes_author(clean_text(show.author))
    fg.podcast.itunes_owner(name=clean_text(show.author), email=clean_text(show.email))
    fg.podcast.itunes_type("episodic")
    fg.podcast2.guid(show.guid or podcast_guid(feed_url))
    fg.podcast2.locked(show.locked, owner=clean_text(show.email))
    fg.podcast2.person(_host(config))
    if episodes:
        fg.lastBuildDate(max(parse_time(e.manifest.published) for e in episodes))

    for ep in episodes:
        m = ep.manifest
        fe = fg.add_entry(order="append")
        fe.guid(m.guid, permalink=False)
        fe.title(clean_text(m.title))
        fe.link(href=m.links.get("abs") or ep.page_url)
        fe.content(ep.content_html)  # content:encoded, escaped by lxml (never CDATA: `]]>` is data)
        fe.description(ep.description)
        fe.enclosure(ep.audio_url, str(ep.size_bytes), AUDIO_TYPE)
        fe.pubDate(parse_time(m.published))
        fe.podcast.itunes_duration(int(round(m.duration_s)))
        fe.podcast.itunes_episode_type("full")
        names = [clean_text(a.name) for a in m.authors if a.name.strip()]
        if names:
            fe.podcast.itunes_author(", ".join(names))
        fe.podcast2.transcript(ep.vtt_url, VTT_TYPE, language=show.language, rel="captions")
        fe.podcast2.transcript(ep.srt_url, SRT_TYPE, language=show.language)
        fe.podcast2.chapters(ep.chapters_url, CHAPTERS_TYPE)
        # An item's person list replaces the channel's, so the host is repeated here.
        fe.podcast2.person(_host(config))
        for name in names:
            fe.podcast2.person(Person(name=name[:128], role="author", group="writing"))
        for c in m.chapters:
            fe.psc.chapter(c.start, clean_text(c.title))
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9]*)")


def validate_feed(data: bytes, config: Config, episodes: list[FeedEpisode]) -> etree._Element:
    """Strict XML parse plus the invariants podcast apps rely on; raise PublishError on the first miss."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise PublishError(f"the new feed is not well-formed XML: {exc}", hint="the previous feed was kept") from None

    def fail(msg: str) -> None:
        raise PublishError(f"the new feed failed validation: {msg}", hint="the previous feed was kept")

    base = config.show.base_url.rstrip("/") + "/"
    feed_url, _ = show_urls(config)
    if root.tag != "rss" or root.get("version") != "2.0":
        fail("root element is not <rss version='2.0'>")
    channel = root.find("channel")
    if channel is None:
        fail("no <channel>")
    if channel.findtext("link") != show_urls(config)[1]:
        fail("channel <link> is not the index page")
    for path in ("title", "description", "language", "itunes:category", "itunes:author",
                 "itunes:owner/itunes:email", "podcast:guid", "podcast:locked"):
        el = channel.find(path, NS)
        if el is None or (el.text is None and not len(el) and not el.attrib):
            fail(f"channel has no {path}")
    self_link = channel.find("atom:link[@rel='self']", NS)
    if self_link is None or self_link.get("href") != feed_url:
        fail(f"atom:link rel=self is not {feed_url}")
    image = channel.find("itunes:image", NS)
    if image is None or not image.get("href", "").startswith(base):
        fail("itunes:image is missing or not under base_url")
    if channel.findtext("itunes:explicit", namespaces=NS) not in ("true", "false"):
        fail("itunes:explicit must be true or false")
    if channel.findtext("podcast:guid", namespaces=NS) != (config.show.guid or podcast_guid(feed_url)):
        fail("podcast:guid is not the UUIDv5 of the feed URL")

    items = channel.findall("item")
    if len(items) != len(episodes):
        fail(f"{len(items)} items for {len(episodes)} episodes")
    guids: set[str] = set()
    enclosures: set[str] = set()
    for item, ep in zip(items, episodes):
        where = f"item {ep.manifest.id!r}"
        guid = item.findtext("guid")
        if guid != ep.manifest.guid:
            fail(f"{where}: guid {guid!r} is not the manifest's {ep.manifest.guid!r}")
        if guid in guids:
            fail(f"{where}: guid {guid} appears twice")
        guids.add(guid)
        enc = item.find("enclosure")
        if enc is None:
            fail(f"{where}: no enclosure")
        url = enc.get("url", "")
        if url in enclosures:
            fail(f"{where}: enclosure URL {url} is shared with another item")
        enclosures.add(url)
        if not url.startswith(base) or enc.get("type") != AUDIO_TYPE or enc.get("length") != str(ep.size_bytes):
            fail(f"{where}: enclosure must be audio/mpeg under base_url with length {ep.size_bytes}")
        try:
            parsedate_to_datetime(item.findtext("pubDate") or "")
        except (TypeError, ValueError):
            fail(f"{where}: pubDate is not an RFC 2822 date")
        if not (item.findtext("itunes:duration", namespaces=NS) or "").isdigit():
            fail(f"{where}: itunes:duration is not whole seconds")
        if item.findtext("itunes:episodeType", namespaces=NS) not in ("full", "trailer", "bonus"):
            fail(f"{where}: no itunes:episodeType")
        description = item.findtext("description") or ""
        if len(description.encode("utf-8")) > DESCRIPTION_MAX_BYTES:
            fail(f"{where}: description is over {DESCRIPTION_MAX_BYTES} bytes")
        stray = {t.lower() for t in _TAG.findall(description)} - DESCRIPTION_TAGS
        if stray:
            fail(f"{where}: description holds tags other than p, ol, ul, li, a: {sorted(stray)}")
        if item.find("content:encoded", NS) is None:
            fail(f"{where}: no content:encoded")
        transcripts = {t.get("type"): t for t in item.findall("podcast:transcript", NS)}
        if set(transcripts) != {VTT_TYPE, SRT_TYPE} or transcripts[VTT_TYPE].get("rel") != "captions":
            fail(f"{where}: needs a VTT transcript (rel=captions) and an SRT one")
        chapters = item.find("podcast:chapters", NS)
        if chapters is None or chapters.get("type") != CHAPTERS_TYPE:
            fail(f"{where}: no podcast:chapters")
        for el in (*transcripts.values(), chapters):
            if not el.get("url", "").startswith(base):
                fail(f"{where}: {el.get('url')} is not under base_url")
        persons = item.findall("podcast:person", NS)
        if len(persons) < 1 + len([a for a in ep.manifest.authors if a.name.strip()]):
            fail(f"{where}: podcast:person must list the host and every author")
    return root
