from pathlib import Path

import pytest

from macaw.artifacts import Source
from macaw.config import load
from macaw.errors import EmptySourceError, SourceError, SourceNotFoundError
from macaw.stages.extract import parse_journal
from macaw.sources import journal

SHARED = Path(__file__).resolve().parents[2] / "shared" / "journals"


def entry_doc(path: Path):
    entry = journal.read_entry(path)
    source = Source(kind="journal", id=entry.episode_id, title=entry.title, date=entry.date, origin=str(path))
    return entry, parse_journal(entry.raw, source)


def test_front_matter_sets_title_and_date(tmp_path: Path) -> None:
    p = tmp_path / "note.md"
    p.write_text("---\ntitle: A *quiet* day\ndate: 2025-03-04\nauthor: Ada\n---\n\n# A *quiet* day\n\nIt rained. I read [a book](https://example.com) about `code`.\n\n## Later\n\n- first thing\n- second thing\n")
    entry, doc = entry_doc(p)
    assert entry.title == "A *quiet* day"
    assert entry.date == "2025-03-04"
    assert entry.author == "Ada"
    assert entry.episode_id == "journal-2025-03-04-a-quiet-day"
    assert [s.heading for s in doc.sections] == ["", "Later"]
    assert doc.sections[0].text == "It rained. I read a book about code."
    assert doc.sections[1].text == "first thing. second thing."


def test_plain_text_headings_and_date_from_name(tmp_path: Path) -> None:
    p = tmp_path / "2024-01-02-notes.txt"
    p.write_text("My title line\n\nDay 1\n\nI wrote a parser_with_underscores today.\nIt worked.\n\nDay 2\n\nMore.\n")
    entry, doc = entry_doc(p)
    assert entry.title == "My title line"
    assert entry.date == "2024-01-02"
    assert [s.heading for s in doc.sections] == ["Day 1", "Day 2"]
    assert doc.sections[0].text == "I wrote a parser_with_underscores today. It worked."


def test_code_blocks_and_tables_are_not_read(tmp_path: Path) -> None:
    p = tmp_path / "2024-01-02-code.md"
    p.write_text("# Code\n\nBefore.\n\n```python\nx = [1, 2]\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter.\n")
    _, doc = entry_doc(p)
    assert doc.sections[0].text == "Before.\n\nAfter."


def test_empty_and_missing_entries(tmp_path: Path) -> None:
    config = load(out=tmp_path, env={})
    with pytest.raises(SourceNotFoundError):
        journal.load_entries(str(tmp_path / "missing.md"), config)
    empty = tmp_path / "empty.md"
    empty.write_text("---\ntitle: x\n---\n\n  \n")
    with pytest.raises(EmptySourceError) as err:
        journal.load_entries(str(empty), config)
    assert err.value.exit_code == 12
    (tmp_path / "dir").mkdir()
    with pytest.raises(SourceNotFoundError, match="no .md or .txt"):
        journal.load_entries(str(tmp_path / "dir"), config)


def test_bad_front_matter_and_binary(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: [unclosed\n---\ntext\n")
    with pytest.raises(SourceError, match="front matter"):
        journal.read_entry(bad)
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\xff\xfe\x00\x81junk")
    with pytest.raises(SourceError, match="not UTF-8"):
        journal.read_entry(binary)


def test_folder_yields_one_entry_per_file(tmp_path: Path) -> None:
    for name in ("2024-01-01-a.md", "2024-01-02-b.txt", "ignore.png"):
        (tmp_path / name).write_text("Title\n\nSome words here.\n")
    entries = journal.load_entries(str(tmp_path), load(out=tmp_path, env={}))
    assert [e.date for e in entries] == ["2024-01-01", "2024-01-02"]


def test_html_feed_content_to_text() -> None:
    text = journal.html_to_text("<h2>Day 1</h2><p>Hello &amp; welcome.</p><script>x()</script><p>Bye<br>now</p>")
    assert text == "## Day 1\n\nHello & welcome.\n\nBye\nnow"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/journals is not beside this checkout")
@pytest.mark.parametrize("name", sorted(p.name for p in SHARED.glob("*.txt")) if SHARED.is_dir() else [])
def test_real_journal_entries_parse(name: str) -> None:
    entry, doc = entry_doc(SHARED / name)
    assert entry.title and len(entry.title) < 120
    words = sum(len(s.text.split()) for s in doc.sections)
    raw_words = len(entry.body.split())
    assert words >= 0.9 * raw_words - len(entry.title.split()) - 4 * len(doc.sections)
    for section in doc.sections:
        assert section.text.strip()
        assert len(section.heading.split()) <= 6
