"""`macaw nightly` against the local arXiv replay server, with the fake engines (real stage code around them)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import feedparser
import pytest

from macaw.artifacts import Manifest
from macaw.config import load
from macaw.errors import LockHeldError
from macaw.nightly import lock as lock_mod
from macaw.nightly.runner import run_night
from macaw.nightly.state import State
from macaw.sources import arxiv
from paperfixtures import ReplayServer, atom_entry, attention_spec, notes_spec, pdf_reply, search_feed, typeset
from tests import fakes

Q1, Q2 = "cat:cs.CL AND abs:speech", "cat:cs.CL AND abs:attention"
PAPERS = {
    "2611.00001": ("Listening to Small Models", ["Ada Lovelace", "Alan Turing"]),
    "2611.00002": ("Quiet Gradients in Small Models", ["Maria Rossi", "José Núñez", "Ann Lee"]),
    "2611.00003": ("Attention Is All You Need", ["Ashish Vaswani", "Noam Shazeer"]),
}


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    return {"attention": typeset(attention_spec()), "notes": typeset(notes_spec(), )}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # The 3-second spacing is arxiv.py's own business (tests/test_arxiv.py); here it would only slow the night.
    monkeypatch.setattr(arxiv, "default_gate", lambda policy: arxiv.Gate(tmp_path / "gate", 0.0))
    with ReplayServer() as s:
        yield s


def serve_paper(server: ReplayServer, arxiv_id: str, version: int, pdf: bytes) -> str:
    title, authors = PAPERS[arxiv_id]
    entry = atom_entry(arxiv_id, version, title, authors, summary=f"What {title} is about.")
    server.script[f"{arxiv_id}v{version}"] = [search_feed([entry])]
    server.script[f"/pdf/{arxiv_id}v{version}"] = [pdf_reply(pdf)]
    return entry


def serve_search(server: ReplayServer, query: str, entries: list[str]) -> None:
    server.script[f"search:{query}@0"] = [search_feed(entries)]


def write_config(out: Path, server: ReplayServer, queries: list[str], *, journal: Path | None = None, extra: str = "") -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Short episodes (half-minute scripts, the fake voice at 4x): the night's logic is the subject here, not the audio.
    text = (f'[arxiv]\napi_url = "{server.url}/api/query"\npdf_url = "{server.url}/pdf"\neprint_url = "{server.url}/e-print"\n\n[script]\nminutes = 0.5\n\n[tts]\nspeed = 4.0\n\n'
            f'[nightly]\n{extra}\n')
    for q in queries:
        text += f'\n[[nightly.arxiv]]\nquery = "{q}"\nmax_per_night = 3\n'
    if journal is not None:
        text += f'\n[[nightly.journal]]\npath = "{journal}"\n'
    (out / "macaw.toml").write_text(text)


def config_for(out: Path):
    fakes.install()
    return load(out=out, env={}, overrides=fakes.FAKE_OVERRIDES)


def feed_entries(out: Path) -> list:
    parsed = feedparser.parse((out / "feeds" / "macaw.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed.entries


def items(out: Path) -> dict[str, tuple[str, int]]:
    with sqlite3.connect(out / "nightly.sqlite") as db:
        return {k: (s, a) for k, s, a in db.execute("SELECT key, status, attempts FROM items")}


def test_two_nights_in_a_row_and_overlapping_queries(tmp_path: Path, server: ReplayServer, pdfs: dict[str, bytes]) -> None:
    a = serve_paper(server, "2611.00001", 1, pdfs["notes"])
    b = serve_paper(server, "2611.00002", 1, pdfs["notes"])
    c = serve_paper(server, "2611.00003", 1, pdfs["attention"])
    serve_search(server, Q1, [a, b])
    serve_search(server, Q2, [b, c])  # 2611.00002 is in both
    out = tmp_path / "root"
    write_config(out, server, [Q1, Q2])
    first = run_night(config_for(out))
    assert first.error() is None, first.failed
    assert sorted(first.published) == ["arxiv:2611.00001", "arxiv:2611.00002", "arxiv:2611.00003"]
    assert server.hits("/pdf/2611.00002v1") == 1  # built once though two queries found it
    entries = feed_entries(out)
    assert len(entries) == 3 and len({e.id for e in entries}) == 3
    assert all(s == ("published", 0) for s in items(out).values())
    with State(out) as state:
        assert state.get("arxiv:2611.00002").origins == [f"arxiv: {Q1}", f"arxiv: {Q2}"]

    before = (out / "feeds" / "macaw.xml").read_bytes()
    hits = len(server.log)
    started = time.perf_counter()
    second = run_night(config_for(out))
    took = time.perf_counter() - started
    assert second.planned == [] and second.published == [] and second.error() is None
    assert took < 10, took
    assert (out / "feeds" / "macaw.xml").read_bytes() == before
    assert len(server.log) - hits == 2  # one search page per query, nothing else: no PDF, no metadata


def test_new_version_updates_the_episode_in_place(tmp_path: Path, server: ReplayServer, pdfs: dict[str, bytes]) -> None:
    v1 = serve_paper(server, "2611.00003", 1, pdfs["attention"])
    serve_search(server, Q1, [v1])
    out = tmp_path / "root"
    write_config(out, server, [Q1])
    assert run_night(config_for(out)).error() is None
    folder = out / "episodes" / "arxiv-2611.00003"
    [old] = feed_entries(out)
    old_audio = Manifest.load(folder).audio

    # v2: a different PDF (the one-column layout), so the audio changes too.
    v2 = serve_paper(server, "2611.00003", 2, typeset(attention_spec(1)))
    serve_search(server, Q1, [v2])
    report = run_night(config_for(out))
    assert report.error() is None and [p.reason for p in report.planned] == ["new version v2 (published v1)"]
    [new] = feed_entries(out)
    assert new.id == old.id  # same GUID
    assert new.enclosures[0].href != old.enclosures[0].href
    assert Manifest.load(folder).audio != old_audio
    notes = (folder / "shownotes.html").read_text()
    assert "2611.00003v2" in notes and "2611.00003v1" not in notes


def test_broken_pdf_among_good_ones_fails_alone_and_is_retried_then_set_aside(tmp_path: Path, server: ReplayServer,
                                                                               pdfs: dict[str, bytes]) -> None:
    good = serve_paper(server, "2611.00001", 1, pdfs["notes"])
    broken = serve_paper(server, "2611.00002", 1, pdfs["notes"][: len(pdfs["notes"]) // 3])  # cut off a third of the way
    serve_search(server, Q1, [good, broken])
    out = tmp_path / "root"
    write_config(out, server, [Q1], extra="backoff_hours = 1.0")
    clock = [1_000_000.0]
    report = run_night(config_for(out), clock=lambda: clock[0])
    assert report.published == ["arxiv:2611.00001"]
    assert [k for k, _, _ in report.failed] == ["arxiv:2611.00002"]
    assert report.error() is not None and report.error().exit_code == 61
    assert len(feed_entries(out)) == 1
    assert not (out / "episodes" / "arxiv-2611.00002").exists()
    with State(out) as state:
        item = state.get("arxiv:2611.00002")
        assert item and item.status == "failed" and item.attempts == 1 and item.last_code >= 20

    # Within the backoff: not tried. After it: tried again; the third failure sets it aside.
    clock[0] += 1800
    assert run_night(config_for(out), clock=lambda: clock[0]).planned == []
    for wait in (3600 + 1, 2 * 3600 + 1):
        clock[0] += wait
        again = run_night(config_for(out), clock=lambda: clock[0])
        assert [p.work.key for p in again.planned] == ["arxiv:2611.00002"]
        assert again.error().exit_code == 62  # everything the night tried failed
    assert items(out)["arxiv:2611.00002"] == ("set-aside", 3)
    clock[0] += 10**6
    assert run_night(config_for(out), clock=lambda: clock[0]).planned == []

    # --retry brings it back; with a good PDF now it publishes.
    server.script["/pdf/2611.00002v1"] = [pdf_reply(pdfs["notes"])]
    report = run_night(config_for(out), retry=["2611.00002"], clock=lambda: clock[0])
    assert report.published == ["arxiv:2611.00002"] and report.error() is None
    assert len(feed_entries(out)) == 2


def test_journal_entry_edited_after_publishing_is_rebuilt_only_when_its_text_changed(tmp_path: Path, server: ReplayServer) -> None:
    entries = tmp_path / "journal"
    entries.mkdir()
    entry = entries / "2026-11-30-a-walk.md"
    entry.write_text("# A walk\n\nI walked to the river and back. The water was high after the rain.\n")
    out = tmp_path / "root"
    write_config(out, server, [], journal=entries)
    assert run_night(config_for(out)).published == ["journal:" + str(entry.resolve())]
    [first] = feed_entries(out)

    entry.touch()  # a new mtime, the same text
    assert run_night(config_for(out)).planned == []

    entry.write_text("# A walk\n\nI walked to the river and back. The water was high after two days of rain.\n")
    report = run_night(config_for(out))
    assert [p.reason for p in report.planned] == ["entry text changed since it was published"]
    [second] = feed_entries(out)
    assert second.id == first.id and second.enclosures[0].href != first.enclosures[0].href
    assert "two days of rain" in (out / "episodes" / "journal-2026-11-30-a-walk" / "source.md").read_text()


def test_a_second_run_exits_at_once_or_waits(tmp_path: Path, server: ReplayServer) -> None:
    out = tmp_path / "root"
    write_config(out, server, [Q1])
    serve_search(server, Q1, [])
    with lock_mod.hold(out, "a test"):
        started = time.perf_counter()
        with pytest.raises(LockHeldError) as err:
            run_night(config_for(out))
        assert time.perf_counter() - started < 2
        assert err.value.exit_code == 60 and "pid" in str(err.value)
        with pytest.raises(LockHeldError):
            run_night(config_for(out), wait_s=0.5)
    assert run_night(config_for(out), wait_s=0.5).error() is None


def test_dry_run_lists_and_records_nothing(tmp_path: Path, server: ReplayServer, pdfs: dict[str, bytes]) -> None:
    serve_search(server, Q1, [serve_paper(server, "2611.00001", 1, pdfs["notes"])])
    out = tmp_path / "root"
    write_config(out, server, [Q1])
    report = run_night(config_for(out), dry_run=True)
    assert [(p.work.key, p.reason) for p in report.planned] == [("arxiv:2611.00001", "new")]
    assert not (out / "nightly.sqlite").exists() and not (out / "episodes").exists()
    assert server.hits("/pdf/2611.00001v1") == 0


SMALL_RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>A blog</title>
<item><title>Rivers</title><link>https://blog.example/rivers</link><pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate>
<description>&lt;p&gt;The river was high after the rain. We walked along it until dark.&lt;/p&gt;</description></item>
<item><title>Bread</title><link>https://blog.example/bread</link><pubDate>Sun, 29 Nov 2026 10:00:00 GMT</pubDate>
<description>&lt;p&gt;I baked bread for the first time. It came out flat but it tasted good.&lt;/p&gt;</description></item>
</channel></rss>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rss version="2.0"><channel><title>&d;</title><item><title>&d;</title><description>&d;</description></item></channel></rss>"""


def test_remote_journal_feeds_conditional_get_and_a_hostile_one_fails_alone(tmp_path: Path, server: ReplayServer) -> None:
    from paperfixtures import Reply

    etag = '"feed-1"'
    server.script["/blog.xml"] = [Reply(body=SMALL_RSS, content_type="application/rss+xml", headers={"ETag": etag})]
    server.script["/bomb.xml"] = [Reply(body=LAUGHS, content_type="application/rss+xml")]
    out = tmp_path / "root"
    out.mkdir()
    (out / "macaw.toml").write_text(
        f'[nightly]\nallow_private = true\n\n[[nightly.journal]]\nurl = "{server.url}/blog.xml"\n\n'
        f'[[nightly.journal]]\nurl = "{server.url}/bomb.xml"\n')
    report = run_night(config_for(out))
    assert sorted(report.published) == ["journal:https://blog.example/bread", "journal:https://blog.example/rivers"]
    assert [w for w, _ in report.problems] == [f"journal: {server.url}/bomb.xml"]
    assert "entities" in report.problems[0][1]
    assert report.error().exit_code == 61
    assert len(feed_entries(out)) == 2

    # Next night the blog answers 304 to the validators it sent: nothing to build, one small request.
    server.script["/blog.xml"] = [Reply(304, b"", "application/rss+xml", headers={"ETag": etag})]
    other = SMALL_RSS.replace(b"blog.example", b"other.example").replace(b"<title>Rivers", b"<title>Lakes").replace(b"<title>Bread", b"<title>Soup")
    server.script["/bomb.xml"] = [Reply(body=other, content_type="application/rss+xml")]
    before = server.hits("/blog.xml")
    report = run_night(config_for(out))
    assert sorted(p.work.key for p in report.planned) == ["journal:https://other.example/bread", "journal:https://other.example/rivers"]
    assert report.error() is None and server.hits("/blog.xml") == before + 1
    assert len(feed_entries(out)) == 4  # the 304 lost nothing: the blog's two episodes are still there


def test_private_feed_addresses_are_refused_unless_allowed(tmp_path: Path, server: ReplayServer) -> None:
    from paperfixtures import Reply

    server.script["/blog.xml"] = [Reply(body=SMALL_RSS, content_type="application/rss+xml")]
    out = tmp_path / "root"
    out.mkdir()
    (out / "macaw.toml").write_text(f'[[nightly.journal]]\nurl = "{server.url}/blog.xml"\n')
    report = run_night(config_for(out))
    assert report.published == [] and "loopback" in report.problems[0][1]
    assert report.error().exit_code == 62
    assert server.hits("/blog.xml") == 0


def test_digest_names_the_papers_gives_each_a_chapter_and_credits_every_author(tmp_path: Path, server: ReplayServer,
                                                                                pdfs: dict[str, bytes]) -> None:
    import json

    a = serve_paper(server, "2611.00001", 1, pdfs["notes"])
    c = serve_paper(server, "2611.00003", 1, pdfs["attention"])
    serve_search(server, Q1, [a, c])
    out = tmp_path / "root"
    write_config(out, server, [Q1], extra="digest = true")
    report = run_night(config_for(out))
    assert report.error() is None, report.failed
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert report.published[-1] == f"digest:{day}"
    folder = out / "episodes" / f"digest-{day}"
    manifest = Manifest.load(folder)
    script = json.loads((folder / "script.json").read_text())
    segments = list(dict.fromkeys(s["segment"] for s in script["sentences"]))
    titles = [PAPERS["2611.00001"][0], PAPERS["2611.00003"][0]]
    assert segments == ["Tonight's papers", *sorted(titles, key=lambda t: t != titles[0]), "Closing"]
    assert [ch.title for ch in manifest.chapters][1:3] == segments[1:3]  # a chapter per paper
    opening = " ".join(s["text"] for s in script["sentences"] if s["segment"] == "Tonight's papers")
    assert all(t in opening for t in titles)
    for title in titles:
        part = [s for s in script["sentences"] if s["segment"] == title]
        words = sum(len(s["text"].split()) for s in part)
        assert 40 <= words <= 360, (title, words)
        assert any(s["text"].endswith("paper's key result.") for s in part)
        assert not any(s["text"].startswith("Table 1") for s in part)  # captions are not read
        assert all(s["grounded"] for s in part)
    # The attention fixture's key result comes from its Results section, as written.
    assert any("outperforms all previously published single models" in s["text"] for s in script["sentences"])
    # Every author of every paper, in the manifest, the show notes and podcast:person.
    everyone = PAPERS["2611.00001"][1] + ["Ashish Vaswani", "Noam Shazeer"]
    assert [a.name for a in manifest.authors] == everyone
    feed_xml = (out / "feeds" / "macaw.xml").read_text()
    notes = (folder / "shownotes.html").read_text()
    for name in everyone:
        assert f">{name}</podcast:person>" in feed_xml and name in notes
    assert len(feed_entries(out)) == 3

    # A quiet night after it builds nothing, the digest included.
    assert run_night(config_for(out)).published == []


def test_a_bug_in_one_item_stays_in_that_item_and_a_bad_engine_stops_the_night_before_any_attempt(
        tmp_path: Path, server: ReplayServer, pdfs: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    from macaw.errors import UnknownEngineError
    from macaw.stages import extract

    a = serve_paper(server, "2611.00001", 1, pdfs["notes"])
    b = serve_paper(server, "2611.00002", 1, pdfs["notes"])
    serve_search(server, Q1, [a, b])
    out = tmp_path / "root"
    write_config(out, server, [Q1])
    with pytest.raises(UnknownEngineError):
        run_night(load(out=out, env={}, overrides={**fakes.FAKE_OVERRIDES, "tts.engine": "nope"}))
    assert all(attempts == 0 for _, attempts in items(out).values())

    real = extract.run

    def buggy(ctx, source):  # type: ignore[no-untyped-def]
        if source.id == "arxiv-2611.00001":
            raise ZeroDivisionError("a bug")
        return real(ctx, source)

    monkeypatch.setattr(extract, "run", buggy)
    report = run_night(config_for(out))
    assert report.published == ["arxiv:2611.00002"]
    [(key, _, error)] = report.failed
    assert key == "arxiv:2611.00001" and error.startswith("internal error ZeroDivisionError: a bug")
    assert report.error().exit_code == 61


def test_search_pages_only_while_a_page_brings_something_new(tmp_path: Path, server: ReplayServer) -> None:
    from paperfixtures import atom_entry

    ids = [f"2611.{i:05d}" for i in range(1, 21)]
    entries = [atom_entry(i, 1, f"Paper {i}", ["Ada Lovelace"]) for i in ids]
    # max_per_night = 3 reads pages of 10, newest first.
    server.script[f"search:{Q1}@0"] = [search_feed(entries[:10], total=20)]
    server.script[f"search:{Q1}@10"] = [search_feed(entries[10:], total=20, start=10)]
    out = tmp_path / "root"
    write_config(out, server, [Q1])
    with State(out) as state:  # the first nine were published on earlier nights
        for i in ids[:9]:
            state.see(f"arxiv:{i}", "arxiv", f"arxiv-{i}", i, "earlier", "v1", 1.0)
            state.published(f"arxiv:{i}", "v1", 1.0)
    report = run_night(config_for(out), dry_run=True)
    assert [p.work.key for p in report.planned] == [f"arxiv:{i}" for i in ids[9:12]]
    assert server.hits(f"search:{Q1}@0") == 1 and server.hits(f"search:{Q1}@10") == 1

    with State(out) as state:  # now all of the first page is published: the second page is never asked for
        state.see(f"arxiv:{ids[9]}", "arxiv", f"arxiv-{ids[9]}", ids[9], "earlier", "v1", 1.0)
        state.published(f"arxiv:{ids[9]}", "v1", 1.0)
    report = run_night(config_for(out), dry_run=True)
    assert report.planned == []
    assert server.hits(f"search:{Q1}@0") == 2 and server.hits(f"search:{Q1}@10") == 1


def test_a_search_that_fails_is_reported_and_the_other_sources_go_on(tmp_path: Path, server: ReplayServer) -> None:
    from paperfixtures import Reply

    server.script[f"search:{Q1}@0"] = [Reply(400, b"bad query", "text/plain")]
    entries = tmp_path / "journal"
    entries.mkdir()
    (entries / "2026-11-30-a-walk.md").write_text("# A walk\n\nI walked to the river and back.\n")
    out = tmp_path / "root"
    write_config(out, server, [Q1], journal=entries)
    report = run_night(config_for(out))
    assert len(report.published) == 1
    [(where, error)] = report.problems
    assert where == f"arxiv: {Q1}" and "HTTP 400" in error and "\n" not in error
    assert report.error().exit_code == 61
    with State(out) as state:
        [night] = state.nights(1)
        assert night.status == "NightlyError" and "HTTP 400" in night.note
