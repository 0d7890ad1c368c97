"""The feed: golden XML, the invariants podcast apps rely on, and real clients reading it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree

from episodefixtures import BASE_URL, PINNED, make_config, make_episode
from golden import check_golden
from macaw.publish.feed import NS
from macaw.publish.podcast2 import PODCAST_NS, podcast_guid
from macaw.stages.publish import episode_guid, publish_all

FIXED_AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8
INJECTION_TITLE = 'Cats & <script>alert("x")</script> dogs ]]> "quoted" \'single\''
INJECTION_ABSTRACT = "We show a<b and c>d hold. ]]><![CDATA[ <img src=x onerror=alert(1)> & done.\x0c"


def two_episode_feed(tmp_path: Path, audio: bytes | None = FIXED_AUDIO):
    config = make_config(tmp_path)
    make_episode(config, audio_bytes=audio)
    make_episode(
        config, "journal-2024-10-15-first-light", kind="journal", title=INJECTION_TITLE,
        authors=[("Jo <b>Bold</b> & Co", "Lab \"Q\" ]]>")], abstract=INJECTION_ABSTRACT,
        metadata={"journal_ref": "J. Inj. 1 (2024) <script>x</script> ]]>"},
        published=PINNED + timedelta(days=1), audio_bytes=audio, freq=660.0,
    )
    return config, config.feeds_dir / "macaw.xml"


def test_podcast_guid_matches_the_spec_examples():
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert podcast_guid("http://podnews.net/rss/") == "9b024349-ccf0-5f69-a609-6b82873eab3c"


def test_feed_golden(tmp_path):
    _, feed = two_episode_feed(tmp_path)
    check_golden("feed.xml", feed.read_text(encoding="utf-8").replace(str(tmp_path), "<tmp>"))


def test_channel_and_items_hold_what_the_issue_lists(tmp_path):
    config, feed = two_episode_feed(tmp_path)
    root = etree.fromstring(feed.read_bytes(), etree.XMLParser(resolve_entities=False, recover=False))
    channel = root.find("channel")
    assert channel.find("atom:link[@rel='self']", NS).get("href") == f"{BASE_URL}/feeds/macaw.xml"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.findtext("podcast:guid", namespaces=NS) == podcast_guid(f"{BASE_URL}/feeds/macaw.xml")
    assert channel.findtext("podcast:locked", namespaces=NS) == "yes"
    cover = channel.find("itunes:image", NS).get("href")
    assert cover.startswith(f"{BASE_URL}/feeds/cover-") and cover.endswith(".png")
    assert (tmp_path / cover.removeprefix(BASE_URL + "/")).is_file()

    items = channel.findall("item")
    assert [i.findtext("guid") for i in items] == [episode_guid("journal-2024-10-15-first-light"),
                                                   episode_guid("arxiv-1706.03762")]  # newest first
    paper = items[1]
    assert paper.findtext("link") == "https://arxiv.org/abs/1706.03762v7"
    assert paper.findtext("pubDate") == "Mon, 14 Oct 2024 06:30:00 +0000"
    enclosure = paper.find("enclosure")
    local = tmp_path / enclosure.get("url").removeprefix(BASE_URL + "/")
    assert enclosure.get("length") == str(local.stat().st_size) and enclosure.get("type") == "audio/mpeg"
    assert paper.findtext("itunes:duration", namespaces=NS) == "3"
    transcripts = paper.findall("podcast:transcript", NS)
    assert {(t.get("type"), t.get("rel")) for t in transcripts} == {("text/vtt", "captions"), ("application/x-subrip", None)}
    chapters = paper.find("podcast:chapters", NS)
    assert chapters.get("type") == "application/json+chapters"
    doc = json.loads((tmp_path / chapters.get("url").removeprefix(BASE_URL + "/")).read_text())
    assert doc["version"] == "1.2.0" and [c["title"] for c in doc["chapters"]] == ["intro", "Method", "outro"]
    persons = [(p.text, p.get("role")) for p in paper.findall("podcast:person", NS)]
    assert persons == [("Macaw Host", "host"), ("Ashish Vaswani", "author"), ("Noam Shazeer", "author")]
    # Every URL that points into the output root is built from base_url and names a real file.
    for url in [enclosure.get("url"), chapters.get("url"), *(t.get("url") for t in transcripts)]:
        assert url.startswith(BASE_URL + "/") and (tmp_path / url.removeprefix(BASE_URL + "/")).is_file()


def test_rebuild_is_byte_identical_and_guid_survives_a_new_arxiv_version(tmp_path):
    config, feed = two_episode_feed(tmp_path, audio=None)
    first = feed.read_bytes()
    assert publish_all(config).written == 0
    assert feed.read_bytes() == first

    old = json.loads((config.episodes_dir / "arxiv-1706.03762" / "episode.json").read_text())
    # v8 of the paper: new audio (different tone), same episode id.
    new = make_episode(config, freq=880.0, published=PINNED + timedelta(days=30),
                       metadata={"arxiv_id": "1706.03762", "version": "v8"})
    assert new.guid == old["guid"] and new.published == old["published"]
    assert new.audio != old["audio"]
    folder = config.episodes_dir / "arxiv-1706.03762"
    assert not (folder / old["audio"]).exists() and (folder / new.audio).exists()
    root = etree.fromstring(feed.read_bytes())
    urls = [e.get("url") for e in root.iter("enclosure")]
    assert len(urls) == len(set(urls)) == 2
    assert any(u.endswith(new.audio) for u in urls)
    links = [item.findtext("link") for item in root.iter("item")]
    assert "https://arxiv.org/abs/1706.03762v8" in links


def test_description_is_capped_at_4000_bytes_with_only_allowed_tags(tmp_path):
    config = make_config(tmp_path)
    make_episode(config, abstract=("Ünïcödé words fill the abstract. " * 400), audio_bytes=FIXED_AUDIO)
    root = etree.fromstring((config.feeds_dir / "macaw.xml").read_bytes())
    description = root.findtext(".//item/description")
    assert 3000 < len(description.encode("utf-8")) <= 4000
    assert "…" in description
    fragment = etree.fromstring(f"<div>{description}</div>")
    assert {el.tag for el in fragment.iter()} <= {"div", "p", "ol", "ul", "li", "a"}


def test_injection_in_titles_abstracts_and_journal_text_stays_text(tmp_path):
    config, feed = two_episode_feed(tmp_path)
    data = feed.read_bytes()
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, recover=False))
    item = root.find("channel/item")
    assert item.findtext("title") == INJECTION_TITLE
    assert "<![CDATA[" not in data.decode()
    for field in ("description", "{http://purl.org/rss/1.0/modules/content/}encoded"):
        html = item.findtext(field)
        tree = etree.fromstring(f"<div>{html}</div>", etree.XMLParser(recover=False))
        tags = {el.tag for el in tree.iter()}
        assert "script" not in tags and "img" not in tags
        text = "".join(tree.itertext())
        assert "a<b and c>d" in text  # math survives as text instead of being eaten as a tag
    notes = (config.episodes_dir / "journal-2024-10-15-first-light" / "shownotes.html").read_text()
    assert "<script" not in notes and "&lt;script&gt;" in notes and "\x0c" not in notes
    page = (config.feeds_dir / "episodes" / "journal-2024-10-15-first-light.html").read_text()
    assert page.count("<script") == 1  # only the player's own script
    persons = [p.text for p in item.findall(f"{{{PODCAST_NS}}}person")]
    assert "Jo <b>Bold</b> & Co" in persons


def test_feedparser_sees_every_episode_with_its_files(tmp_path):
    _, feed = two_episode_feed(tmp_path)
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "Macaw Test Show"
    assert len(parsed.entries) == 2
    for entry in parsed.entries:
        assert entry.enclosures[0].type == "audio/mpeg" and int(entry.enclosures[0].length) > 0
        assert entry.itunes_duration == "3"
        assert entry.id
    assert parsed.entries[0].title == INJECTION_TITLE


def test_podcastparser_sees_every_episode_with_enclosure_duration_chapters_transcript(tmp_path, monkeypatch):
    _, feed = two_episode_feed(tmp_path)
    # podcastparser 0.6.11 knows the podcast namespace only by its old GitHub URI; the spec's
    # URI is https://podcastindex.org/namespace/1.0. Teach it the official one, as a fixed
    # podcastparser would, so the podcast:* tags are checked as a real client reads them.
    monkeypatch.setitem(podcastparser.Namespace.NAMESPACES, PODCAST_NS, "podcast")
    with open(feed, "rb") as fh:
        parsed = podcastparser.parse(f"{BASE_URL}/feeds/macaw.xml", fh)
    episodes = parsed["episodes"]
    assert len(episodes) == 2
    for ep in episodes:
        assert ep["enclosures"][0]["url"].startswith(BASE_URL) and ep["enclosures"][0]["file_size"] > 0
        assert ep["total_time"] == 3
        assert [c["title"] for c in ep["chapters"]] == ["intro", "Method", "outro"]  # psc chapters
        assert ep["transcript_url"].endswith((".vtt", ".srt"))
        assert ep["chapters_json_url"].endswith("/chapters.json")
    assert parsed["import_prohibited"] is True


def test_podcastparser_reads_chapters_without_any_help(tmp_path):
    """Without the namespace alias gPodder still gets chapters (psc) and the audio."""
    _, feed = two_episode_feed(tmp_path)
    with open(feed, "rb") as fh:
        parsed = podcastparser.parse(f"{BASE_URL}/feeds/macaw.xml", fh)
    assert all(len(ep["chapters"]) == 3 and ep["total_time"] == 3 for ep in parsed["episodes"])


@pytest.mark.parametrize("category", ["Science", "Science/Mathematics"])
def test_categories(tmp_path, category):
    config = make_config(tmp_path, category=category)
    make_episode(config, audio_bytes=FIXED_AUDIO)
    root = etree.fromstring((config.feeds_dir / "macaw.xml").read_bytes())
    assert root.find("channel/itunes:category", NS).get("text") == "Science"
