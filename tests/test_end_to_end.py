"""The whole pipeline with the real default engines: LLM, Piper, faster-whisper, MP3, feed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
import soundfile as sf

from macaw.artifacts import Manifest, Quality, Script
from macaw.config import load
from macaw.pipeline import build

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "first-light.md"
SHARED = REPO.parent / "shared" / "journals"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("out")
    config = load(out=out, env={})
    outcomes = build(journal=str(SAMPLE), config=config)
    return out, outcomes[0].manifest


def test_episode_is_published_with_real_audio(built: tuple[Path, Manifest]) -> None:
    out, manifest = built
    folder = out / "episodes" / manifest.id
    mp3 = folder / manifest.audio
    info = sf.info(str(mp3))
    words = len(SAMPLE.read_text().split())
    # A narrator reads 130-190 words a minute; the intro and pauses add a little.
    assert words / 190 * 60 <= info.duration <= words / 110 * 60 + 40
    assert abs(manifest.duration_s - info.duration) < 0.5
    assert manifest.quality["wer"] <= 0.10
    quality = Quality.load(folder)
    assert quality.passed and len(quality.sentences) == len(Script.load(folder).sentences)
    for key in ("fetch", "extract", "write", "speak", "check", "master"):  # publish writes the manifest itself
        assert manifest.timings[key] >= 0


def test_script_reads_the_entry_faithfully(built: tuple[Path, Manifest]) -> None:
    out, manifest = built
    script = Script.load(out / "episodes" / manifest.id)
    narrated = " ".join(s.text for s in script.sentences if s.origin == "source")
    assert "I finally heard my own notes read back to me." in narrated
    assert "my commute will never be the same" in narrated
    intro = [s for s in script.sentences if s.segment == script.sentences[0].segment]
    assert any("First light" in s.text for s in intro)
    assert all(s.grounded for s in script.sentences if s.origin == "llm")


def test_feed_lists_the_episode_with_exact_enclosure(built: tuple[Path, Manifest]) -> None:
    out, manifest = built
    feed = feedparser.parse((out / "feeds" / "macaw.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    [entry] = feed.entries
    assert entry.title == "First light"
    [enclosure] = entry.enclosures
    assert enclosure.type == "audio/mpeg"
    assert int(enclosure.length) == (out / "episodes" / manifest.id / manifest.audio).stat().st_size
    assert enclosure.href.endswith(f"/episodes/{manifest.id}/{manifest.audio}")


def test_cached_rebuild_from_the_cli_reruns_nothing(built: tuple[Path, Manifest]) -> None:
    out, manifest = built
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "macaw", "build", "--journal", str(SAMPLE), "--out", str(out)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("cached") == 7, result.stderr
    explained = subprocess.run([sys.executable, "-m", "macaw", "explain", manifest.id, "--out", str(out)],
                               capture_output=True, text=True, env=env, timeout=60)
    assert explained.returncode == 0 and "reruns" not in explained.stdout, explained.stdout


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/journals is not beside this checkout")
def test_a_real_journal_entry_round_trips(tmp_path: Path) -> None:
    entry = tmp_path / "2024-11-19-gestation.txt"
    shutil.copy(SHARED / "2024-11-19-gestation.txt", entry)
    # The entry's own typos ("basesd"), Recurse Center words (recurser, Heap) and surnames keep
    # tiny.en around 3-6% on it from take to take: at the default 5% gate this test would test
    # Piper's luck. It checks the round trip at 10%, the figure issue #2 asks of it.
    outcomes = build(journal=str(entry), config=load(out=tmp_path, env={}, overrides={"quality.max_wer": 0.10}))
    manifest = outcomes[0].manifest
    assert manifest.quality["wer"] <= 0.10
    assert manifest.date == "2024-11-19"
