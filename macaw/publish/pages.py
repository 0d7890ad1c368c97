"""The web pages beside the feed: feeds/index.html and feeds/episodes/<id>.html.

Self-contained HTML and JS (no CDN), with links relative to the page, so the output root plays
the same from `macaw serve`, any static host, or a copied folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from macaw.artifacts import Manifest
from macaw.config import Config
from macaw.publish.names import episode_page_path  # noqa: F401 (re-exported)
from macaw.publish.shownotes import clean_text, clock, template


@dataclass
class PageEpisode:
    manifest: Manifest
    shownotes_html: str  # already sanitised


def _episode_context(ep: PageEpisode, up: str) -> dict:
    m = ep.manifest
    folder = f"{up}episodes/{quote(m.id)}/"
    return {
        "id": m.id,
        "title": clean_text(m.title),
        "authors": ", ".join(clean_text(a.name) for a in m.authors),
        "published": m.published[:10],
        "duration": clock(m.duration_s),
        "duration_s": m.duration_s,
        "audio": folder + quote(m.audio),
        "vtt": folder + "transcript.vtt",
        "srt": folder + "transcript.srt",
        "txt": folder + "shownotes.txt",
        "chapters_json": folder + "chapters.json",
        "chapters": [{"title": clean_text(c.title), "start": float(c.start), "clock": clock(c.start)} for c in m.chapters],
        "page": f"episodes/{quote(m.id)}.html",
        "shownotes": ep.shownotes_html,
    }


def render_episode_page(config: Config, ep: PageEpisode) -> str:
    from markupsafe import Markup

    context = _episode_context(ep, "../../")
    context["shownotes"] = Markup(ep.shownotes_html)  # sanitised by nh3 in shownotes.py
    return template("episode.html.j2").render(
        show_title=clean_text(config.show.title), feed=f"../{config.show.slug}.xml", **context
    )


def render_index(config: Config, episodes: list[PageEpisode], cover: str) -> str:
    return template("index.html.j2").render(
        show_title=clean_text(config.show.title),
        description=clean_text(config.show.description),
        feed=f"{config.show.slug}.xml",
        feed_url=f"{config.show.base_url.rstrip('/')}/feeds/{config.show.slug}.xml",
        cover=cover,
        episodes=[_episode_context(e, "../") for e in episodes],
    )
