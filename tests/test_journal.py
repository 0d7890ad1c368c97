"""Journal entries: metadata, structure, code, quotes; the core cases on entries written here."""

import os
import time
from pathlib import Path

import pytest

from macaw.artifacts import MATH_CLOSE, MATH_OPEN, Source
from macaw.config import load
from macaw.errors import EmptySourceError, SourceError, SourceNotFoundError
from macaw.script.journal import paragraphs
from macaw.script.spoken import to_spoken
from macaw.sources import journal
from macaw.stages.extract import parse_journal


def entry_doc(path: Path):
    entry = journal.read_entry(path)
    source = Source(kind="journal", id=entry.episode_id, title=entry.title, date=entry.date, origin=str(path),
                    metadata={"format": entry.format})
    return entry, parse_journal(entry.raw, source)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def texts(doc) -> list[str]:
    return [para for s in doc.sections for para in s.text.split("\n\n")]


# -- metadata -----------------------------------------------------------------------------------


def test_yaml_front_matter_sets_title_date_and_author(tmp_path: Path) -> None:
    p = write(tmp_path, "note.md", "---\ntitle: A *quiet* day 🌧️\ndate: 2025-03-04 10:00:00\nauthor: Ada <ada@example.org>\n---\n\n"
              "# A *quiet* day\n\nIt rained. I read [a book](https://example.com) about `code`.\n\n## Later\n\n- first thing\n- second thing\n")
    entry, doc = entry_doc(p)
    assert (entry.title, entry.date, entry.author) == ("A quiet day", "2025-03-04", "Ada")
    assert entry.episode_id == "journal-2025-03-04-a-quiet-day"
    assert [s.heading for s in doc.sections] == ["", "Later"]
    assert doc.sections[0].text == "It rained. I read a book about `code`."
    assert doc.sections[1].text == "first thing.\n\nsecond thing."


def test_toml_and_pelican_front_matter(tmp_path: Path) -> None:
    toml = write(tmp_path, "t.md", '\n+++\ndate = "2016-10-09 05:09:09+00:00"\ntitle = "RC week 0001"\ntags = ["a"]\n+++\nThis week I worked.\n')
    entry, doc = entry_doc(toml)
    assert (entry.title, entry.date) == ("RC week 0001", "2016-10-09")
    assert texts(doc) == ["This week I worked."]
    pelican = write(tmp_path, "p.md", "Title: Weeks 1 & 2\nDate: Tue 18 February 2014\nAuthor: Kat Geltman\nSlug: w1\n\nIt began.\n")
    entry, doc = entry_doc(pelican)
    assert (entry.title, entry.date, entry.author) == ("Weeks 1 & 2", "2014-02-18", "Kat Geltman")
    assert texts(doc) == ["It began."]


def test_date_from_a_date_line_then_the_name_then_the_file_time(tmp_path: Path) -> None:
    # the case: the date is the entry's second line, not the day of the build
    p = write(tmp_path, "the-ai-grind.txt", "the ai grind\nOctober 15, 2024\n\nI trained a model today and it worked well enough.\n")
    entry, doc = entry_doc(p)
    assert (entry.title, entry.date) == ("the ai grind", "2024-10-15")
    assert [s.heading for s in doc.sections] == [""]  # the date line is no chapter
    assert texts(doc) == ["I trained a model today and it worked well enough."]
    log = write(tmp_path, "log.md", "# My log\n\n## Day 0 : Jan 14, 2019\n\nSet up.\n")
    assert journal.read_entry(log).date == "2019-01-14"
    named = write(tmp_path, "2024-01-02-notes.md", "Some words here, and more of them.\n")
    assert journal.read_entry(named).date == "2024-01-02"
    bare = write(tmp_path, "bare.md", "Some words here, and more of them.\n")
    stamp = time.mktime((2021, 6, 5, 12, 0, 0, 0, 0, -1))
    os.utime(bare, (stamp, stamp))
    entry = journal.read_entry(bare)
    assert (entry.title, entry.date) == ("Bare", "2021-06-05")


def test_title_is_the_one_top_heading_not_a_section(tmp_path: Path) -> None:
    one = write(tmp_path, "2024-01-01-a.md", "# Running nanoGPT\n\nText.\n\n## Setup\n\n```bash\n# a comment, not a heading\n```\n")
    assert journal.read_entry(one).title == "Running nanoGPT"
    two = write(tmp_path, "2024-01-17-daily-ml.md", "# Topics\n\n- Arrays\n\n# Creating a classifier\n\nText.\n")
    assert journal.read_entry(two).title == "Daily ML"
    sub = write(tmp_path, "2024-01-29-daily-ml-notes.md", "## Putting It All Together\n\nText.\n\n## More\n\nText.\n")
    assert journal.read_entry(sub).title == "Daily ML notes"
    braces = write(tmp_path, "x.md", "# 100-Days-of-ML  {Progress Log}\n\nText.\n")
    assert journal.read_entry(braces).title == "100-Days-of-ML Progress Log"


def test_author_falls_back_to_the_config(tmp_path: Path) -> None:
    p = write(tmp_path, "2024-01-01-a.md", "Words here.\n")
    config = load(out=tmp_path, env={}, overrides={"show.author": "Sam Diarist"})
    source = journal.fetch(journal.read_entry(p), config, tmp_path)
    assert [a.name for a in source.authors] == ["Sam Diarist"]
    listed = write(tmp_path, "b.md", "---\ntitle: B\nauthors:\n- Teon L Brooks\n---\nWords.\n")
    assert journal.read_entry(listed).author == "Teon L Brooks"


# -- structure ----------------------------------------------------------------------------------


def test_plain_text_headings_but_not_dates_attributions_or_sentences(tmp_path: Path) -> None:
    p = write(tmp_path, "2024-01-02-notes.txt",
              "My title line\n\nDay 1\n\nI wrote a parser_with_underscores today.\nIt worked.\n\n"
              "“Language is the foundation of civilization.”\n\n– Louise Banks, Arrival\n\n"
              "Today was focused mostly on other things\n\nDay 2\n\nMore.\n")
    entry, doc = entry_doc(p)
    assert entry.title == "My title line"
    assert [s.heading for s in doc.sections] == ["Day 1", "Day 2"]
    assert texts(doc) == ["I wrote a parser_with_underscores today. It worked.",
                          "Louise Banks says: “Language is the foundation of civilization.”",
                          "Today was focused mostly on other things", "More."]


def test_every_list_item_is_its_own_paragraph_nested_and_tabbed(tmp_path: Path) -> None:
    p = write(tmp_path, "2024-01-02-list.md",
              "# T\n\nwhat are tensors?\n• vector = 1d array\n• matrix = 2d array\n\n- Read:\n\t- Chapter 11 of a book\n\t- Chapter 2\n"
              "      + deep item\n")
    _, doc = entry_doc(p)
    assert texts(doc) == ["what are tensors?", "vector = 1d array.", "matrix = 2d array.", "Read:", "Chapter 11 of a book.",
                          "Chapter 2.", "deep item."]
    assert [s for para in paragraphs(doc.sections[0].text) for s in para][1] == "vector = 1d array."


def test_sub_items_past_their_parent_and_hard_breaks(tmp_path: Path) -> None:
    p = write(tmp_path, "2024-01-02-n.md", "# N\n\n• Refreshed RNN concepts 🔄  \n- Read:  \n      - Karpathy's RNN blog\n"
              "      - a chapter\n\nTime stamp: `2025-03-09`  \nThe code chooses its own path\n")
    _, doc = entry_doc(p)
    assert texts(doc) == ["Refreshed RNN concepts.", "Read:", "Karpathy's RNN blog.", "a chapter.",
                          "Time stamp: `2025-03-09`. The code chooses its own path"]
    assert to_spoken(texts(doc)[0]) == "Refreshed R N N concepts."


def test_block_quotes_read_as_quotes_with_their_speaker(tmp_path: Path) -> None:
    p = write(tmp_path, "2024-01-02-q.md", "# Q\n\n> NVC is a framework for communication.\n\n"
              "> Language is the foundation of civilization.\n> — Louise Banks\n\nAfter.\n")
    _, doc = entry_doc(p)
    assert texts(doc) == ["“NVC is a framework for communication.”", "Louise Banks says: “Language is the foundation of civilization.”",
                          "After."]


def test_code_blocks_are_announced_and_kept_tables_read_by_row(tmp_path: Path) -> None:
    p = write(tmp_path, "2024-01-02-code.md",
              "# Code\n\nBefore.\n\n```python\nx = [1, 2]\n```\n\n```bash\n$ ls\n```\n\nBetween.\n\n~~~\nout\n~~~\n\n"
              "| Myth | Truth |\n|---|---|\n| Lots of math | High school math is enough |\n\nAfter.\n")
    _, doc = entry_doc(p)
    assert doc.code == ["x = [1, 2]", "$ ls", "out"]
    assert texts(doc) == ["Before.", "The entry shows Python code here.", "Between.", "The entry shows code here, the second block.",
                          "Lots of math: High school math is enough.", "After."]


def test_shortcodes_html_footnotes_comments_and_math(tmp_path: Path) -> None:
    p = write(tmp_path, "2024-01-02-m.md",
              "# M\n\n{{< figure src=\"/a.jpeg\">}}\n\nSee [it]({% post_url 2011-04-27-x %}) now.{: .center }\n\n"
              "<div class=\"imgcap\"><img src=\"a.png\"><div class=\"thecap\">A caption.</div></div>\n\n"
              "<p>Raw <a href=\"https://x.org\" target=\"_blank\">HTML</a> text.</p>\n\n<!--more-->\n\n"
              "Based on a lecture[^1], with $\\mu, \\sigma^2$ and $16 or $20.\n\n$$\n\\begin{align} y = x \\end{align}\n$$\n\n"
              "[^1]: https://www.coursera.org/learn\t\"Deep learning\"\n")
    _, doc = entry_doc(p)
    assert texts(doc) == ["See it now.", "Raw HTML text.", f"Based on a lecture, with {MATH_OPEN}\\mu, \\sigma^2{MATH_CLOSE} and $16 or $20.",
                          "The entry shows an equation here."]
    assert doc.captions == ["A caption."]
    assert doc.code == ["\\begin{align} y = x \\end{align}"]  # display math: in the notes, not read
    spoken = [to_spoken(t) for t in texts(doc)]
    assert spoken[2] == "Based on a lecture, with mu, sigma squared and sixteen dollars or twenty dollars."


def test_wiki_notes_embeds_are_not_read_links_are_their_text(tmp_path: Path) -> None:
    p = write(tmp_path, "2024-01-17-w.md", "# W\n\nSee this:\n\n![[Screenshot 2024-01-17 at 6.07.31 PM.png]]\n\n"
              "Build an [[Optimizer]] in [[PyTorch|torch]] `[[x]]`.\n")
    _, doc = entry_doc(p)
    assert texts(doc) == ["See this:", "Build an Optimizer in torch `[[x]]`."]


def test_a_bold_line_ends_as_a_sentence(tmp_path: Path) -> None:
    p = write(tmp_path, "2024-01-02-b.md", "# B\n\n**Food**  \nOmg! So much food.\n\n**Language:** Python and\nmore words\n\nvs.\n")
    _, doc = entry_doc(p)
    assert texts(doc) == ["Food. Omg! So much food.", "Language: Python and more words", "vs."]
    assert to_spoken("vs.") == "versus"


def test_tags_ending_a_line_are_dropped_and_end_it(tmp_path: Path) -> None:
    # 2024-01-17-daily-ml.md lists names one a line, each tagged "#person" (a notes app's tags)
    p = write(tmp_path, "2024-01-17-t.md", "# T\n\nYann Lecun #person\nYoshua Bengio #person #ml\n\nThe #MeToo movement grew.\n")
    _, doc = entry_doc(p)
    assert texts(doc) == ["Yann Lecun. Yoshua Bengio.", "The #MeToo movement grew."]


def test_feed_post_html_becomes_the_same_markdown() -> None:
    from macaw.documents.html import to_markdown

    md = to_markdown("<h2 id='a'>Day 1</h2><p>Hello &amp; <code>requires_grad()</code>.</p><script>x()</script>"
                     "<ul><li>one</li><li>two<ul><li>deep</li></ul></li></ul><blockquote><p>Quoted.</p></blockquote>"
                     "<pre><code class='language-python'>x = 1\n</code></pre><p>Bye<br>now <img src='a.png' alt='pic'></p>")
    assert md.startswith("## Day 1\n\nHello & `requires_grad()`.\n\n- one\n")
    assert "  - deep" in md and "> Quoted." in md and "```python\nx = 1\n```" in md and "script" not in md and "pic" not in md
    source = Source(kind="journal", id="j", title="T", metadata={"format": "html"})
    doc = parse_journal(md, source)
    assert doc.origin_format == "html" and doc.code == ["x = 1"]
    assert [s.heading for s in doc.sections] == ["Day 1"]
    assert texts(doc) == ["Hello & `requires_grad()`.", "one.", "two.", "deep.", "“Quoted.”", "The entry shows Python code here.", "Bye now"]


# -- bad input ----------------------------------------------------------------------------------


def test_empty_and_missing_entries(tmp_path: Path) -> None:
    config = load(out=tmp_path, env={})
    with pytest.raises(SourceNotFoundError):
        journal.load_entries(str(tmp_path / "missing.md"), config)
    empty = write(tmp_path, "empty.md", "---\ntitle: x\n---\n\n  \n")
    with pytest.raises(EmptySourceError) as err:
        journal.load_entries(str(empty), config)
    assert err.value.exit_code == 12
    (tmp_path / "dir").mkdir()
    with pytest.raises(SourceNotFoundError, match="no .md or .txt"):
        journal.load_entries(str(tmp_path / "dir"), config)


def test_bad_front_matter_and_binary(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not valid YAML"):
        journal.read_entry(write(tmp_path, "bad.md", "---\ntitle: [unclosed\n---\ntext\n"))
    with pytest.raises(SourceError, match="not valid TOML"):
        journal.read_entry(write(tmp_path, "bad2.md", "+++\ntitle = \n+++\ntext\n"))
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\xff\xfe\x00\x81junk")
    with pytest.raises(SourceError, match="not UTF-8"):
        journal.read_entry(binary)


def test_folder_yields_one_entry_per_file(tmp_path: Path) -> None:
    for name in ("2024-01-01-a.md", "2024-01-02-b.txt", "ignore.png"):
        write(tmp_path, name, "Title\n\nSome words here.\n")
    entries = journal.load_entries(str(tmp_path), load(out=tmp_path, env={}))
    assert [e.date for e in entries] == ["2024-01-01", "2024-01-02"]
    assert [e.format for e in entries] == ["markdown", "text"]


def test_show_notes_keep_the_code_blocks_that_are_not_read() -> None:
    from macaw.artifacts import Manifest
    from macaw.publish.shownotes import render_shownotes_html

    manifest = Manifest(id="journal-2024-01-02-c", guid="g", title="C", kind="journal",
                        metadata={"code": ["pip install <torch> && echo 'x'", "   "]})
    html = render_shownotes_html(manifest, "Show")
    assert "<pre><code>pip install &lt;torch&gt; &amp;&amp; echo 'x'</code></pre>" in html
    assert html.count("<pre>") == 1
    assert "<pre>" not in render_shownotes_html(Manifest(id="j", guid="g", title="C", kind="journal"), "Show")


def test_a_commit_hash_as_a_links_text_is_this_commit(tmp_path: Path) -> None:
    # til-asgi-lifespan-test-httpx.md: "now does as-of [16f5922...](.../commit/16f5922...)" had been "now does as-of."
    p = write(tmp_path, "til.md", "# T\n\nDatasette now does as-of [16f592247a2a](https://github.com/simonw/datasette/commit/16f592247a2a).\n\n"
              "Another [abc1234](https://example.com/abc1234) stays a hash.\n")
    said = texts(entry_doc(p)[1])
    assert said[0] == "Datasette now does as-of this commit."
    assert "abc1234" in said[1]


@pytest.mark.parametrize("item, name", [
    ({"author": "Reuben Son (reubenson@gmail.com)"}, "Reuben Son"),  # feedparser's Atom <name> + <email>
    ({"author": "x", "author_detail": {"name": "Reuben Son", "email": "reubenson@gmail.com"}}, "Reuben Son"),
    ({"author": "lawyer@boyer.net (Lawyer Boyer)"}, "Lawyer Boyer"),  # RSS 2.0's own form
    ({"author": "Paul Koerbitz <paul@example.org>"}, "Paul Koerbitz"),
    ({"author": "noreply@blogger.com"}, ""),  # an address alone: the config's author is said instead
])
def test_an_authors_name_without_their_address(item: dict, name: str) -> None:
    assert journal._author(item) == name
