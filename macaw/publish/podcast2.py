"""feedgen extensions Macaw needs and feedgen lacks.

- `Podcast2Extension` / `Podcast2EntryExtension`: the Podcasting 2.0 namespace
  (https://podcastindex.org/namespace/1.0): podcast:guid, podcast:locked, podcast:person on the
  channel; podcast:transcript, podcast:chapters, podcast:person on items.
- `ItunesExplicitExtension`: Apple now documents itunes:explicit as `true`/`false`, but feedgen
  only accepts the old `yes`/`no`/`clean`, so Macaw writes the element itself.
- `PodloveChaptersEntryExtension`: Podlove Simple Chapters (psc) inline in the item. gPodder's
  podcastparser reads chapters only from psc, so carrying both keeps every client seeing them.

feedgen's own podcast extension is registered under the name `podcast` (it writes itunes:*),
so ours registers as `podcast2`:

    fg.register_extension("podcast2", Podcast2Extension, Podcast2EntryExtension, atom=False)
    fg.podcast2.guid(podcast_guid(feed_url)); entry.podcast2.transcript(url, "text/vtt", ...)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PSC_NS = "http://podlove.org/simple-chapters"

# The namespace UUID the podcast:guid spec fixes for UUIDv5 feed GUIDs.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    """podcast:guid as the spec defines it: UUIDv5 of the feed URL without scheme and trailing slashes.

    >>> podcast_guid("https://podnews.net/rss")
    '9b024349-ccf0-5f69-a609-6b82873eab3c'
    """
    parts = urlsplit(feed_url.strip())
    seed = feed_url.strip()[len(parts.scheme) + 3:] if parts.scheme else feed_url.strip()
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, seed.rstrip("/")))


@dataclass(frozen=True)
class Person:
    name: str
    role: str = "host"  # Podcast Taxonomy Project role, case-insensitive
    group: str = "cast"
    href: str = ""
    img: str = ""


def _write_persons(parent, persons: list[Person]) -> None:
    for p in persons:
        el = xml_elem(f"{{{PODCAST_NS}}}person", parent)
        el.text = p.name
        el.attrib["role"] = p.role
        el.attrib["group"] = p.group
        if p.href:
            el.attrib["href"] = p.href
        if p.img:
            el.attrib["img"] = p.img


class Podcast2Extension(BaseExtension):
    """Channel-level Podcasting 2.0 tags."""

    def __init__(self) -> None:
        self._guid: str | None = None
        self._locked: tuple[bool, str] | None = None
        self._persons: list[Person] = []

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def guid(self, value: str) -> None:
        self._guid = value

    def locked(self, locked: bool, owner: str = "") -> None:
        self._locked = (locked, owner)

    def person(self, person: Person) -> None:
        self._persons.append(person)

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self._guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self._guid
        if self._locked is not None:
            el = xml_elem(f"{{{PODCAST_NS}}}locked", channel)
            el.text = "yes" if self._locked[0] else "no"
            if self._locked[1]:
                el.attrib["owner"] = self._locked[1]
        _write_persons(channel, self._persons)
        return rss_feed


class Podcast2EntryExtension(BaseEntryExtension):
    """Item-level Podcasting 2.0 tags."""

    def __init__(self) -> None:
        self._transcripts: list[dict[str, str]] = []
        self._chapters: tuple[str, str] | None = None
        self._persons: list[Person] = []

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def transcript(self, url: str, type: str, language: str = "", rel: str = "") -> None:
        attrs = {"url": url, "type": type}
        if language:
            attrs["language"] = language
        if rel:
            attrs["rel"] = rel
        self._transcripts.append(attrs)

    def chapters(self, url: str, type: str = "application/json+chapters") -> None:
        self._chapters = (url, type)

    def person(self, person: Person) -> None:
        self._persons.append(person)

    def extend_rss(self, entry):
        for attrs in self._transcripts:
            el = xml_elem(f"{{{PODCAST_NS}}}transcript", entry)
            for key, value in attrs.items():
                el.attrib[key] = value
        if self._chapters:
            el = xml_elem(f"{{{PODCAST_NS}}}chapters", entry)
            el.attrib["url"], el.attrib["type"] = self._chapters
        _write_persons(entry, self._persons)
        return entry


class ItunesExplicitExtension(BaseExtension):
    """Channel itunes:explicit as `true`/`false`."""

    def __init__(self) -> None:
        self._explicit: bool | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS}

    def explicit(self, value: bool) -> None:
        self._explicit = value

    def extend_rss(self, rss_feed):
        if self._explicit is not None:
            xml_elem(f"{{{ITUNES_NS}}}explicit", rss_feed[0]).text = "true" if self._explicit else "false"
        return rss_feed


class _NoChannelExtension(BaseExtension):
    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}


class PodloveChaptersEntryExtension(BaseEntryExtension):
    """<psc:chapters version="1.2"><psc:chapter start="00:01:02.500" title="..."/></psc:chapters>."""

    def __init__(self) -> None:
        self._chapters: list[tuple[float, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}

    def chapter(self, start: float, title: str) -> None:
        self._chapters.append((start, title))

    def extend_rss(self, entry):
        if not self._chapters:
            return entry
        box = xml_elem(f"{{{PSC_NS}}}chapters", entry)
        box.attrib["version"] = "1.2"
        for start, title in self._chapters:
            el = xml_elem(f"{{{PSC_NS}}}chapter", box)
            el.attrib["start"] = normal_play_time(start)
            el.attrib["title"] = title
        return entry


def normal_play_time(seconds: float) -> str:
    """HH:MM:SS.mmm, the Normal Play Time form psc uses."""
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def register(fg) -> None:
    """Register all of Macaw's extensions on a FeedGenerator (after load_extension('podcast'))."""
    fg.register_extension("podcast2", Podcast2Extension, Podcast2EntryExtension, atom=False)
    fg.register_extension("itunes_explicit", ItunesExplicitExtension, BaseEntryExtension, atom=False)
    fg.register_extension("psc", _NoChannelExtension, PodloveChaptersEntryExtension, atom=False)
