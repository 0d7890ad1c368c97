"""The publish stage and `publish_all`: files written, manifests, atomic swap, failures."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from episodefixtures import PINNED, make_config, make_episode, write_manifest
from golden import check_golden
from macaw.publish import feed as feed_module
from macaw.artifacts import Manifest
from macaw.errors import PublishError
from macaw.stages.publish import episode_guid, publish_all
from macaw.publish.shownotes import render_shownotes_html, render_shownotes_text
from test_feed import FIXED_AUDIO

PAPER = "arxiv-1706.03762"


def test_run_writes_listener_files_and_manifest(tmp_path):
    config = make_config(tmp_path)
    manifest = make_episode(config)
    folder = config.episodes_dir / PAPER
    for name in ("transcript.vtt", "transcript.srt", "chapters.json", "shownotes.html", "shownotes.txt", "episode.json"):
        assert (folder / name).is_file(), name
    saved = Manifest.load(folder)
    assert saved == manifest
    assert saved.guid == episode_guid(PAPER)
    assert saved.published == "2024-10-14T06:30:00Z"
    assert saved.size_bytes == (folder / saved.audio).stat().st_size
    assert saved.links == {"abs": "https://arxiv.org/abs/1706.03762v7", "pdf": "https://arxiv.org/pdf/1706.03762v7"}
    assert saved.quality["wer"] == 0.042 and saved.quality["grounded_ratio"] == 0.8
    assert saved.models["llm"] == "SmolLM2-135M-Instruct" and saved.models["asr"] == "tiny.en"
    assert saved.timings == {"fetch": 0.1, "extract": 0.2}
    assert saved.authors[0].affiliation == "Google Brain"

    vtt = (folder / "transcript.vtt").read_text()
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:00.550\nWelcome to the show.\n")
    srt = (folder / "transcript.srt").read_text()
    assert "2\n00:00:00,600 --> 00:00:01,150\nToday we read a paper about attention.\n" in srt
    assert list(config.feeds_dir.glob("episodes/*.html")) == [config.feeds_dir / "episodes" / f"{PAPER}.html"]
    assert (config.feeds_dir / "index.html").is_file()


def test_rebuild_keeps_first_published_time_and_guid(tmp_path):
    config = make_config(tmp_path)
    first = make_episode(config)
    again = make_episode(config, published=PINNED + timedelta(days=9), freq=500.0)
    assert again.published == first.published and again.guid == first.guid
    assert again.audio != first.audio


def test_transcript_cues_escape_markup_and_arrows(tmp_path):
    config = make_config(tmp_path)
    make_episode(config, sentences=[("intro", "If a<b & c --> d then <i>x</i>."), ("outro", "Bye.")])
    folder = config.episodes_dir / PAPER
    vtt = (folder / "transcript.vtt").read_text()
    assert "If a&lt;b &amp; c -&gt; d then &lt;i&gt;x&lt;/i&gt;." in vtt
    assert vtt.count("-->") == 2
    assert "If a<b & c -> d then <i>x</i>." in (folder / "transcript.srt").read_text()


def test_shownotes_golden(tmp_path):
    config = make_config(tmp_path)
    manifest = make_episode(config, audio_bytes=FIXED_AUDIO)
    check_golden("shownotes-arxiv.html", render_shownotes_html(manifest, config.show.title))
    check_golden("shownotes-arxiv.txt", render_shownotes_text(manifest, config.show.title))
    journal = make_episode(config, "journal-2024-10-15-first-light", kind="journal", title="First light & <b>dark</b>",
                           authors=[("Sam Writer", "")], abstract="", metadata={}, audio_bytes=FIXED_AUDIO)
    check_golden("shownotes-journal.html", render_shownotes_html(journal, config.show.title))
    check_golden("shownotes-journal.txt", render_shownotes_text(journal, config.show.title))


def _snapshot(config):
    return {p.relative_to(config.out).as_posix(): p.read_bytes() for p in config.feeds_dir.rglob("*") if p.is_file()}


def test_failed_validation_leaves_previous_feed_and_pages_byte_identical(tmp_path, monkeypatch):
    config = make_config(tmp_path)
    make_episode(config)
    before = _snapshot(config)
    write_manifest(config, "arxiv-2401.00001", PINNED + timedelta(days=2))
    monkeypatch.setattr("macaw.publish.feed.build_feed", lambda *a, **k: b"<rss version='2.0'><channel>")
    with pytest.raises(PublishError, match="not well-formed"):
        publish_all(config)
    assert _snapshot(config) == before


def test_invariant_failure_is_reported_and_nothing_moves(tmp_path, monkeypatch):
    config = make_config(tmp_path)
    make_episode(config)
    before = _snapshot(config)
    real = feed_module.build_feed

    def duplicate_enclosures(cfg, episodes, cover):
        for ep in episodes:
            ep.audio_url = episodes[0].audio_url
        return real(cfg, episodes, cover)

    write_manifest(config, "arxiv-2401.00001", PINNED + timedelta(days=2))
    monkeypatch.setattr("macaw.publish.feed.build_feed", duplicate_enclosures)
    with pytest.raises(PublishError, match="shared with another item"):
        publish_all(config)
    assert _snapshot(config) == before


def test_bad_category_fails_before_anything_is_written(tmp_path):
    config = make_config(tmp_path)
    make_episode(config)
    before = _snapshot(config)
    config.show.category = "Cooking With Lasers"
    with pytest.raises(PublishError, match="not an Apple Podcasts category"):
        publish_all(config)
    assert _snapshot(config) == before


def test_a_write_failure_on_pages_leaves_the_feed(tmp_path, monkeypatch):
    config = make_config(tmp_path)
    make_episode(config)
    feed = config.feeds_dir / "macaw.xml"
    before = feed.read_bytes()
    write_manifest(config, "arxiv-2401.00001", PINNED + timedelta(days=2))
    import macaw.stages.publish as stage

    real = stage._write_if_changed

    def full_disk(path, data, **kwargs):
        if path.suffix == ".html":
            raise OSError(28, "No space left on device", str(path))
        return real(path, data, **kwargs)

    monkeypatch.setattr(stage, "_write_if_changed", full_disk)
    with pytest.raises(PublishError, match="No space left"):
        publish_all(config)
    assert feed.read_bytes() == before


def test_a_full_disk_on_a_listener_file_is_a_publish_error_and_keeps_the_feed(tmp_path, monkeypatch):
    config = make_config(tmp_path)
    make_episode(config)
    feed = config.feeds_dir / "macaw.xml"
    before = feed.read_bytes()
    from macaw.publish import files

    real = files.write

    def full_disk(path, data, **kwargs):
        if path.name == "transcript.vtt":
            raise OSError(28, "No space left on device")  # as a write() fails: no file name on the error
        return real(path, data, **kwargs)

    monkeypatch.setattr(files, "write", full_disk)
    with pytest.raises(PublishError, match=r"transcript\.vtt: No space left") as caught:
        make_episode(config, "arxiv-2401.00001", published=PINNED + timedelta(days=2))
    assert caught.value.exit_code == 50
    assert feed.read_bytes() == before


def test_temp_files_of_a_dead_writer_are_swept_and_a_live_ones_kept(tmp_path):
    import subprocess
    import sys

    from macaw.publish import files

    config = make_config(tmp_path)
    make_episode(config)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    left = config.feeds_dir / f".macaw.xml.{dead_pid}-0123abcd.tmp"
    left.write_bytes(b"<rss>half")
    live = config.feeds_dir / f".macaw.xml.{os.getppid()}-89abcdef.tmp"  # a writer still running
    live.write_bytes(b"<rss>busy")
    page_left = config.feeds_dir / "episodes" / f".x.html.{dead_pid}-00000000.tmp"
    page_left.write_bytes(b"<html>")
    publish_all(config)
    assert not left.exists() and not page_left.exists()
    assert live.exists()
    assert files.TEMP_NAME.match(files.temp_for(config.feeds_dir / "macaw.xml").name)


def test_broken_manifests_are_skipped_with_a_warning(tmp_path):
    config = make_config(tmp_path)
    make_episode(config)
    bad = config.episodes_dir / "arxiv-9999.99999"
    bad.mkdir()
    (bad / "episode.json").write_text("{not json")
    missing_audio = write_manifest(config, "arxiv-2401.00002", PINNED)
    (config.episodes_dir / missing_audio.id / missing_audio.audio).unlink()
    (config.episodes_dir / "arxiv-in-progress").mkdir()  # no manifest yet: silently not ready
    messages: list[str] = []
    result = publish_all(config, log=messages.append)
    assert result.episodes == 1
    assert len(result.skipped) == 2 and len(messages) == 2
    assert any("arxiv-9999.99999" in m for m in messages) and any("audio file is missing" in m for m in messages)


def test_removed_episode_loses_its_page(tmp_path):
    config = make_config(tmp_path)
    make_episode(config)
    write_manifest(config, "arxiv-2401.00001", PINNED + timedelta(days=1))
    publish_all(config)
    page = config.feeds_dir / "episodes" / "arxiv-2401.00001.html"
    assert page.is_file()
    (config.episodes_dir / "arxiv-2401.00001" / "episode.json").unlink()
    publish_all(config)
    assert not page.exists()


def test_thousand_manifests_publish(tmp_path):
    config = make_config(tmp_path)
    for i in range(1000):
        write_manifest(config, f"arxiv-2401.{i:05d}", PINNED + timedelta(minutes=i))
    result = publish_all(config)
    assert result.episodes == 1000
    data = (config.feeds_dir / "macaw.xml").read_bytes()
    assert data.count(b"<item>") == 1000
    assert len(list((config.feeds_dir / "episodes").glob("*.html"))) == 1000
    # A second run with nothing changed rewrites nothing.
    assert publish_all(config).written == 0


def test_cover_is_drawn_once_as_1400px_rgb_png(tmp_path):
    from PIL import Image

    config = make_config(tmp_path)
    make_episode(config)
    covers = list(config.feeds_dir.glob("cover-*.png"))
    assert len(covers) == 1
    with Image.open(covers[0]) as img:
        assert (img.format, img.mode, img.size) == ("PNG", "RGB", (1400, 1400))
    stamp = covers[0].stat().st_mtime_ns
    publish_all(config)
    assert covers[0].stat().st_mtime_ns == stamp
    config.show.title = "Another Show"
    publish_all(config)
    assert [p.name for p in config.feeds_dir.glob("cover-*.png")] != [covers[0].name]


def test_given_cover_art_is_checked(tmp_path):
    from PIL import Image

    config = make_config(tmp_path, image="art.png")
    make_episode(config, run_stage=False)
    Image.new("RGBA", (1400, 1400)).save(tmp_path / "art.png")
    with pytest.raises(PublishError, match="RGBA, not RGB"):
        publish_all(config)
    Image.new("RGB", (1000, 1000)).save(tmp_path / "art.png")
    with pytest.raises(PublishError, match="1000x1000"):
        publish_all(config)
    Image.new("RGB", (1600, 1600), (10, 20, 30)).save(tmp_path / "art.jpg", format="JPEG")
    config.show.image = str(tmp_path / "art.jpg")
    publish_all(config)
    assert len(list(config.feeds_dir.glob("cover-*.jpg"))) == 1


def test_manifest_json_is_readable(tmp_path):
    config = make_config(tmp_path)
    make_episode(config)
    data = json.loads((config.episodes_dir / PAPER / "episode.json").read_text())
    assert data["chapters"][1] == {"title": "Method", "start": 1.2, "end": 2.4}
