"""The pipeline's own promises, with scripted engines around the real stage code."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from macaw.config import load
from macaw.errors import QualityGateFailed, UnknownEngineError
from macaw.pipeline import build, explain
from tests import fakes

ENTRY = """---
title: Tiny entry
date: 2025-01-02
---

I walked to the lab at 7 and read 3 papers about speech.

## Evening

It rained all evening. I fixed the bug in the parser.
"""


class Recorder:
    def __init__(self) -> None:
        self.ran: list[str] = []
        self.cached: list[str] = []

    def episode(self, *a: object) -> None: ...
    def stage_started(self, stage: str) -> None: ...
    def log(self, message: str) -> None: ...

    def stage_finished(self, stage: str, seconds: float, cached: bool) -> None:
        (self.cached if cached else self.ran).append(stage)


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    fakes.install()
    (tmp_path / "entry.md").write_text(ENTRY)
    return tmp_path


def run(out: Path, **overrides: object) -> tuple[list, Recorder]:
    rec = Recorder()
    config = load(out=out, env={}, overrides={**fakes.FAKE_OVERRIDES, **overrides})
    return build(journal=str(out / "entry.md"), config=config, reporter=rec), rec


def test_build_publishes_and_caches(out: Path) -> None:
    outcomes, rec = run(out)
    manifest = outcomes[0].manifest
    assert manifest.id == "journal-2025-01-02-tiny-entry"
    assert rec.ran == ["fetch", "extract", "write", "speak", "check", "master", "publish"]
    folder = out / "episodes" / manifest.id
    for name in ("source.json", "document.json", "script.json", "script.md", "narration.wav", "quality.json", "episode.json", manifest.audio):
        assert (folder / name).exists(), name
    assert set(manifest.timings) == set(rec.ran) - {"publish"}  # the manifest is written during publish
    feed = feedparser.parse((out / "feeds" / "macaw.xml").read_bytes())
    assert [e.title for e in feed.entries] == ["Tiny entry"]

    _, rec = run(out)
    assert rec.ran == [] and len(rec.cached) == 7

    _, rec = run(out, **{"tts.speed": 1.2})
    assert rec.ran == ["speak", "check", "master", "publish"]
    assert rec.cached == ["fetch", "extract", "write"]


def test_until_stops_and_explain_says_why(out: Path) -> None:
    outcomes, rec = run(out, until="write") if False else (None, None)
    rec = Recorder()
    config = load(out=out, env={}, overrides=fakes.FAKE_OVERRIDES)
    outcomes = build(journal=str(out / "entry.md"), config=config, reporter=rec, until="write")
    assert rec.ran == ["fetch", "extract", "write"]
    assert outcomes[0].manifest is None
    assert not (out / "feeds" / "macaw.xml").exists()
    rows = {stage: (reruns, reasons) for stage, reruns, reasons in explain(outcomes[0].request.episode_id, config=config)}
    assert rows["write"] == (False, [])
    assert rows["speak"] == (True, ["never ran"])
    (out / "entry.md").write_text(ENTRY.replace("3 papers", "4 papers"))
    rows = {stage: (reruns, reasons) for stage, reruns, reasons in explain(outcomes[0].request.episode_id, config=config)}
    assert rows["fetch"] == (True, ["request.sha256 changed"])
    assert rows["extract"][0] is True


def test_failed_build_leaves_feed_and_episodes_untouched(out: Path) -> None:
    run(out)
    feed = out / "feeds" / "macaw.xml"
    before = feed.read_bytes()
    episode = out / "episodes" / "journal-2025-01-02-tiny-entry"
    published = {p.name: p.read_bytes() for p in episode.iterdir() if p.is_file() and p.suffix in (".mp3", ".vtt", ".json", ".html")}

    with pytest.raises(QualityGateFailed) as err:
        run(out, **{"asr.engine": "deaf"})
    assert err.value.exit_code == 40 and "quality.html" in str(err.value)
    assert feed.read_bytes() == before
    for name, data in published.items():
        if name in ("quality.json", "quality.html", ".macaw-cache.json"):  # the failed run's own report
            continue
        assert (episode / name).read_bytes() == data, name

    with pytest.raises(UnknownEngineError):
        run(out, **{"tts.engine": "nope"})
    assert feed.read_bytes() == before


def test_batch_builds_what_it_can(out: Path) -> None:
    entries = out / "entries"
    entries.mkdir()
    (entries / "2025-01-01-good.md").write_text("Good entry\n\nA fine day with words.\n")
    (entries / "2025-01-02-bad.md").write_text("---\ntitle: [broken\n---\nx\n")
    config = load(out=out, env={}, overrides=fakes.FAKE_OVERRIDES)
    from macaw.errors import SourceError

    with pytest.raises(SourceError):  # an unreadable entry is named before anything is built
        build(journal=str(entries), config=config)
