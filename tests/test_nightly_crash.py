"""`macaw nightly` as cron runs it, in child processes: two at once, and one killed with -9 mid-build."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest

from paperfixtures import ReplayServer, attention_spec, notes_spec, pdf_reply, typeset
from test_nightly import Q1, serve_paper, serve_search, write_config

# Child processes (a Python start and Macaw's imports each): in the full suite, not the quick one.
pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
# The child: the fake engines registered, the arXiv spacing off (tests/test_arxiv.py tests it), then the CLI.
CHILD = """
import sys
from pathlib import Path
sys.path[:0] = [{tests!r}, {repo!r}]
from tests import fakes
fakes.install()
from macaw.sources import arxiv
arxiv.default_gate = lambda policy: arxiv.Gate(Path({gate!r}), 0.0)
from macaw.cli import main
main(sys.argv[1:], prog_name="macaw")
"""


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    return {"attention": typeset(attention_spec()), "notes": typeset(notes_spec())}


@pytest.fixture
def server():
    with ReplayServer() as s:
        yield s


def macaw(tmp_path: Path, out: Path, *args: str) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(REPO / "tests"), repo=str(REPO), gate=str(tmp_path / "gate")))
    env = {**os.environ, "MACAW_LLM_ENGINE": "fake", "MACAW_TTS_ENGINE": "fake", "MACAW_ASR_ENGINE": "echo", "PYTHONPATH": str(REPO)}
    env.pop("MACAW_OUT", None)
    return subprocess.Popen([sys.executable, str(script), *args, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=tmp_path)


def wait_for(condition, timeout: float = 120.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def two_papers(server: ReplayServer, pdfs: dict[str, bytes], slow_second: float = 0.0) -> None:
    a = serve_paper(server, "2611.00001", 1, pdfs["notes"])
    b = serve_paper(server, "2611.00002", 1, pdfs["attention"])
    if slow_second:
        server.script["/pdf/2611.00002v1"] = [pdf_reply(pdfs["attention"], delay=slow_second), pdf_reply(pdfs["attention"])]
    serve_search(server, Q1, [a, b])


def check_feed(out: Path, *expected: int) -> None:
    """The feed parses, holds one of the expected numbers of items, no GUID twice, every enclosure whole."""
    feed = out / "feeds" / "macaw.xml"
    if 0 in expected and not feed.exists():
        return
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    guids = [e.id for e in parsed.entries]
    assert len(guids) in expected and len(set(guids)) == len(guids)
    for e in parsed.entries:  # every enclosure is a file that exists, whole
        rel = e.enclosures[0].href.split("/episodes/", 1)[1]
        assert (out / "episodes" / rel).stat().st_size == int(e.enclosures[0].length)


def test_two_concurrent_runs_one_waits_or_exits_with_its_own_code(tmp_path: Path, server: ReplayServer, pdfs: dict[str, bytes]) -> None:
    two_papers(server, pdfs, slow_second=4.0)
    out = tmp_path / "root"
    write_config(out, server, [Q1])
    first = macaw(tmp_path, out, "nightly")
    wait_for(lambda: server.hits("/pdf/2611.00002v1") >= 1, what="the first run to reach the slow PDF")
    started = time.monotonic()
    second = macaw(tmp_path, out, "nightly")
    _, err = second.communicate(timeout=60)
    assert second.returncode == 60, err
    assert "another Macaw run holds" in err and f"pid {first.pid}" in err and "--wait" in err
    build = macaw(tmp_path, out, "build", "--journal", str(REPO / "samples" / "first-light.md"))
    _, err = build.communicate(timeout=60)
    assert build.returncode == 60, err  # a single build takes the same lock
    assert time.monotonic() - started < 30
    waiter = macaw(tmp_path, out, "nightly", "--wait", "120")
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    stdout, err = waiter.communicate(timeout=120)
    assert waiter.returncode == 0, err
    assert "published 0" in stdout  # it waited, then found nothing new
    check_feed(out, 2)


@pytest.mark.parametrize("moment", ["mid-pipeline", "between-items"])
def test_killed_with_9_and_restarted(tmp_path: Path, server: ReplayServer, pdfs: dict[str, bytes], moment: str) -> None:
    two_papers(server, pdfs, slow_second=30.0 if moment == "between-items" else 0.0)
    out = tmp_path / "root"
    write_config(out, server, [Q1])
    run = macaw(tmp_path, out, "nightly")
    first = out / "episodes" / "arxiv-2611.00001"
    if moment == "mid-pipeline":  # the first paper narrated, not yet checked or mastered
        wait_for(lambda: (first / "narration.json").exists() or run.poll() is not None, what="narration.json")
    else:  # the first paper published, the second one downloading
        wait_for(lambda: server.hits("/pdf/2611.00002v1") >= 1 or run.poll() is not None, what="the second PDF")
    assert run.poll() is None, run.communicate()
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    # Between items the first is in the feed; mid-pipeline it is not yet, unless this loaded machine was slow to kill.
    check_feed(out, *((1,) if moment == "between-items" else (0, 1)))
    with sqlite3.connect(out / "nightly.sqlite") as db:
        statuses = dict(db.execute("SELECT key, status FROM items"))
    assert "building" in statuses.values()
    if moment == "mid-pipeline":  # the second paper was never reached: no attempt counted against it
        with sqlite3.connect(out / "nightly.sqlite") as db:
            assert db.execute("SELECT status, attempts FROM items WHERE key = 'arxiv:2611.00002'").fetchone() == ("new", 0)

    again = macaw(tmp_path, out, "nightly")
    stdout, err = again.communicate(timeout=180)
    assert again.returncode == 0, err
    check_feed(out, 2)
    assert server.hits("/pdf/2611.00001v1") == 1  # the first paper's finished fetch came from the cache
    cache = json.loads((first / ".macaw-cache.json").read_text())
    assert {"fetch", "extract", "write", "speak", "master", "publish"} <= set(cache)
    with sqlite3.connect(out / "nightly.sqlite") as db:
        assert dict(db.execute("SELECT key, status FROM items")) == {"arxiv:2611.00001": "published", "arxiv:2611.00002": "published"}
        assert [s for (s,) in db.execute("SELECT status FROM nights ORDER BY id")] == ["running", "ok"]

    # And a third run right after builds nothing.
    third = macaw(tmp_path, out, "nightly")
    stdout, _ = third.communicate(timeout=120)
    assert third.returncode == 0 and "published 0" in stdout
    check_feed(out, 2)
