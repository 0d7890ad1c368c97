"""`macaw build --paper ID` from a recorded arXiv, through the real default engines, into the feed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from macaw.artifacts import Manifest, Script
from paperfixtures import ReplayServer, atom, attention_spec, pdf_reply, typeset

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
AUTHORS = ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit", "Llion Jones",
           "Aidan N. Gomez", "Łukasz Kaiser", "Illia Polosukhin"]


def test_paper_build_publishes_an_episode_crediting_every_author(tmp_path: Path) -> None:
    with ReplayServer() as server:
        server.script["1706.03762"] = [atom("1706.03762-current.xml")]
        server.script["/pdf/1706.03762v7"] = [pdf_reply(typeset(attention_spec()))]
        env = {**os.environ, "PYTHONPATH": str(REPO), "MACAW_ARXIV_API_URL": server.url + "/api/query",
               "MACAW_ARXIV_PDF_URL": server.url + "/pdf", "MACAW_ARXIV_EPRINT_URL": server.url + "/e-print",
               "MACAW_BASE_URL": "https://pod.example.org/macaw"}
        result = subprocess.run([sys.executable, "-m", "macaw", "build", "--paper", "https://arxiv.org/abs/1706.03762",
                                 # the round trip at 10%, as asserted below; a paper's names and symbols keep
                                 # tiny.en near the default 5% gate from take to take
                                 "--minutes", "2", "--max-wer", "0.10", "--out", str(tmp_path)],
                                capture_output=True, text=True, env=env, timeout=900)
        assert result.returncode == 0, result.stderr[-3000:]
        assert server.hits("/pdf/1706.03762v7") == 1

    folder = tmp_path / "episodes" / "arxiv-1706.03762"
    manifest = Manifest.load(folder)
    assert [a.name for a in manifest.authors] == AUTHORS
    script = Script.load(folder)
    intro = " ".join(s.text for s in script.sentences if s.segment == script.sentences[0].segment)
    assert "Attention Is All You Need" in intro and "Ashish Vaswani" in intro
    assert "arXiv" in " ".join(s.text for s in script.sentences[-4:])  # the id itself is in the show notes and feed (below), not spoken
    assert script.grounded_ratio() >= 0.9
    assert manifest.quality["wer"] <= 0.10

    feed_xml = (tmp_path / "feeds" / "macaw.xml").read_text()
    feed = feedparser.parse(feed_xml)
    [entry] = feed.entries
    assert entry.enclosures[0].href.startswith("https://pod.example.org/macaw/episodes/arxiv-1706.03762/episode-")
    assert int(entry.enclosures[0].length) == (folder / manifest.audio).stat().st_size
    for name in AUTHORS:
        assert f">{name}</podcast:person>" in feed_xml
    assert "arxiv.org/abs/1706.03762" in feed_xml
