"""The real entries in ../shared/journals and its two feeds: titles, dates, and what is spoken.

The table below was made by reading each file: the title its author gave it (front matter, its
one top heading, a plain-text first line), else the file's name; the date from front matter,
else a date line at the top, else the file name; None where the file holds no date at all
(the file's modification time is then the only date there is).
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import re
import sys
import threading
from pathlib import Path

import pytest

from macaw.config import load
from macaw.pipeline import build
from macaw.sources import journal

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fakes  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "journals"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/journals is not beside this checkout")

EXPECTED = {
    "100-days-of-ml-log.md": ("Sprince0031's 100 Days of ML LOG", "2019-01-14"),
    "2013-11-27-quantifying-hacker-news.md": ("Quantifying Hacker News with 50 days of data", "2013-11-27"),
    "2014-02-18-hacker-school-w1.md": ("Hacker School: Weeks 1 & 2", "2014-02-18"),
    "2014-07-01-switching-to-jekyll.md": ("Switching Blog from Wordpress to Jekyll", "2014-07-01"),
    "2014-07-21-hacker-school-day-1.md": ("Hacker School: Day 1", "2014-07-21"),
    "2014-09-02-what-i-learned-from-competing-against-a-convnet-on-imagenet.md":
        ("What I learned from competing against a ConvNet on ImageNet", "2014-09-02"),
    "2016-03-07-reading-on-the-internet.md": ("Reading on the internet - before and after", "2016-03-07"),
    "2016-09-02-one-month-of-being-home.md": ("One Month Of Being Home", "2016-09-02"),
    "2016-10-09-rc-week-0001.md": ("RC week 0001", "2016-10-09"),
    "2016-10-23-recurse-center-week-4.md": ("Week[3] @ The Recurse Center", "2016-10-23"),
    "2017-11-16-chinese.md": ("Chinese", "2017-11-16"),  # front matter title is ""
    "2018-01-20-medium.md": ("(started posting on Medium instead)", "2018-01-20"),
    "2018-travel-in-review.md": ("2018 Travel in Review", "2019-01-06"),
    "2019-01-28-deep-learning-8-batch-normalization.md": ("Deep learning(8) - Batch Normalization", "2019-01-28"),
    "2019-10-27-ultralearning-datascience-week-1.md": ("Ultralearning Data Science - Week 1", "2019-10-27"),
    "2023-02-01-nanogpt-shakespeare-m2.md": ("Running nanoGPT on a MacBook M2 to generate terrible Shakespeare", "2023-02-01"),
    "2023-05-15-recurse-changelog.md": ("Recurse Change Log", "2023-05-15"),
    "2023-05-25-first-lesson.md": ("First lesson", "2023-05-25"),
    "2024-01-16-daily-ml.md": ('Review of Fastai\'s "Fastbook" - Chapter 1', "2024-01-16"),
    "2024-01-17-daily-ml.md": ("Daily ML", "2024-01-17"),  # "# Topics" is one of two top sections
    "2024-01-29-daily-ml-notes.md": ("Daily ML notes", "2024-01-29"),  # starts at "##"
    "2025-03-09-100-days-of-ml.md": ("100-Days-of-ML Progress Log", "2025-03-09"),
    "deepvect-notes.md": ("DeepVect - Using Deep Learning to Convert Images to SVGs", "2019-12-09"),
    "til-asgi-lifespan-test-httpx.md": ("Writing tests for the ASGI lifespan protocol with HTTPX", None),
    "til-aws-boto-command-line.md": ("Using boto3 from the command line", None),
    "2024-10-14-normalization.txt": ("Recurse Center - Batch 2 - Cycle 20241012-20241014 - Normalization", "2024-10-14"),
    "2024-11-19-gestation.txt": ("Recurse Center - Batch 2 - Cycle 20241117-20241119 - Gestation", "2024-11-19"),
    "end-of-batch.txt": ("End of batch", None),
}
AUTHORS = {"2014-02-18-hacker-school-w1.md": "Katrina Ellison Geltman", "2018-travel-in-review.md": "Teon L Brooks",
           "2019-10-27-ultralearning-datascience-week-1.md": "Paul Koerbitz", "deepvect-notes.md": "Paul Koerbitz"}
FEEDS = {
    "jgriffith23-rss2-feed.xml": [
        ("The Close of Fellowship 15 and New Adventures", "2016-09-25"), ("Doodles About Lists in Memory", "2016-09-12"),
        ("Crafter's Closet Version 0", "2016-09-12"), ("Halfway Through My First Project Sprint", "2016-08-22"),
        ("Coding Bootcamp (Or, How I Learned to Stop Worrying and Love Failure)", "2016-08-01"),
        ("Templating and Interfacing Web Pages is Awesome", "2016-07-24"), ("Doodles for Comprehension", "2016-07-17"),
        ("On Explaining Well", "2016-07-11"), ("Python Is Kind of Beautiful", "2016-07-08"), ("Two Days In", "2016-07-06")],
    # Every entry of this Atom feed carries the same <updated> and no <published>: that is its only date.
    "reubenson-recurse-atom-feed.xml": [(t, "2024-06-06") for t in (
        "Wrapping up", "On deploying a neural net to AWS Lambda", "Goldberg Variations Variations", "Alignment Is All You Need",
        "Gradually, Then Suddenly", "Week 1 at Recurse Center (Learning to Paddleboard)", "Reflections on my time at Recurse Center",
        "Website as a meandering home")],
}
LOCAL = {"nightly.allow_private": True}  # the feeds are served on this machine's loopback
# What must never reach the voice: code, markup, braces, backticks, underscores, a URL; emoticons
# (":)", ";)", ":D", ">.<", "<3"); code's punctuation read raw (a slice's ":-", "==", "name(",
# "x.y" between letters, an empty pair of brackets, a file's ".ext").
MARKUP = re.compile(r"[`{}\[\]<>_|\\*#$^~=]|http|www\.", re.I)
CODE_LEFT = re.compile(r"[:;]-?[)(DPp](?!\w)|:-|\(\s*\)|[A-Za-z]\((?=\w)|[a-z]\.[a-z]|(?<![\w.])\.[a-z]{2,}\b|>\.<")


def test_the_table_covers_every_entry() -> None:
    assert set(EXPECTED) == {p.name for p in SHARED.iterdir() if p.suffix in (".md", ".txt") and p.name != "SOURCES.md"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_titles_and_dates(name: str) -> None:
    path = SHARED / name
    entry = journal.read_entry(path)
    title, date = EXPECTED[name]
    assert entry.title == title
    assert entry.date == (date or dt.date.fromtimestamp(path.stat().st_mtime).isoformat())
    assert entry.author == AUTHORS.get(name, "")


@pytest.fixture(scope="module")
def feed_server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SHARED / "feeds"))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_feed_titles_and_dates(feed_server: str, feed: str, tmp_path: Path) -> None:
    entries = journal.load_entries(f"{feed_server}/{feed}", load(out=tmp_path, env={}, overrides=LOCAL))
    assert [(e.title, e.date) for e in entries] == FEEDS[feed]
    assert all(e.format == "html" and e.origin.startswith("http") for e in entries)


def _spoken(out: Path) -> dict[str, list[str]]:
    return {folder.name: [s["spoken"] for s in json.loads((folder / "script.json").read_text())["sentences"]]
            for folder in sorted((out / "episodes").iterdir())}


def _check(spoken: dict[str, list[str]]) -> None:
    bad = [(episode, s) for episode, sentences in spoken.items() for s in sentences if MARKUP.search(s) or CODE_LEFT.search(s)]
    assert not bad, f"{len(bad)} spoken sentences hold markup, e.g. {bad[:3]}"
    assert all(s.strip() and re.search(r"[A-Za-z]", s) for sentences in spoken.values() for s in sentences)


def test_nothing_spoken_is_code_or_markup_in_any_entry(tmp_path: Path) -> None:
    """Every entry written (--until write) with a scripted LLM: the entry's own text, spoken."""
    fakes.install()
    config = load(out=tmp_path, env={}, overrides=fakes.FAKE_OVERRIDES)
    outcomes = [o for name in sorted(EXPECTED) for o in build(journal=str(SHARED / name), config=config, until="write")]
    assert len(outcomes) == len(EXPECTED) and not [o.error for o in outcomes if o.error]
    spoken = _spoken(tmp_path)
    _check(spoken)
    # The code is announced, never read; the show notes' copy is in the document.
    nanogpt = next(v for k, v in spoken.items() if "nanogpt" in k)
    assert any("The entry shows" in s for s in nanogpt) and not any("pip install" in s for s in nanogpt)


def test_nothing_spoken_is_code_or_markup_in_any_feed_post(feed_server: str, tmp_path: Path) -> None:
    fakes.install()
    config = load(out=tmp_path, env={}, overrides={**fakes.FAKE_OVERRIDES, **LOCAL})
    for feed in FEEDS:
        outcomes = build(journal=f"{feed_server}/{feed}", config=config, until="write")
        assert not [o.error for o in outcomes if o.error]
    spoken = _spoken(tmp_path)
    assert len(spoken) == sum(len(v) for v in FEEDS.values())
    _check(spoken)
