"""PDF to document: fixture papers against golden files, cleanup invariants, and hostile files."""

from __future__ import annotations

import io
import json
import os
import re
import time
import zlib
from pathlib import Path

import pytest

from macaw.artifacts import MATH_CLOSE, MATH_OPEN, Author, Document, Source
from macaw.config import Config
from macaw.errors import EncryptedPdfError, ExtractError, NoTextLayerError, NotAPdfError, ResourceLimitError, SourceNotFoundError
from macaw.documents.pdf import DamagedPdfError, extract_document, run_extraction
from macaw.sources import arxiv, pdf as pdf_source
from macaw.documents.textclean import fix_accents, fix_ligatures, join_lines
from paperfixtures import ATTENTION_AUTHORS, FIXTURES, ReplayServer, atom, recovery, typeset
from pdfbuild import Page, Text, build_pdf, serialize

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MACAW_UPDATE_GOLDENS") == "1"


def arxiv_source() -> Source:
    return Source(
        kind="arxiv",
        id="arxiv-1706.03762",
        title="Attention Is All You Need",
        authors=[Author(n) for n in ATTENTION_AUTHORS],
        date="2017-06-12",
        raw_file="source.pdf",
        metadata={"abstract": "The dominant sequence transduction models are based on complex recurrent networks."},
    )


def plain_source(path: Path) -> Source:
    return Source(kind="pdf", id="pdf-x", title="", raw_file=path.name)


@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("papers")
    out = {}
    for name, make in FIXTURES.items():
        out[name] = folder / f"{name}.pdf"
        out[name].write_bytes(typeset(make()))
    return out


@pytest.mark.parametrize("name", list(FIXTURES))
def test_golden_document(papers: dict[str, Path], name: str) -> None:
    source = arxiv_source() if name == "attention-2col" else plain_source(papers[name])
    doc = extract_document(papers[name], source)
    text = json.dumps(doc.to_dict(), indent=2, ensure_ascii=False) + "\n"
    golden = GOLDEN / f"{name}.document.json"
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden.name} is missing; create it with MACAW_UPDATE_GOLDENS=1"
    assert text == golden.read_text(encoding="utf-8"), f"{golden.name} differs; rerun with MACAW_UPDATE_GOLDENS=1 and read the diff"


@pytest.mark.parametrize("name", list(FIXTURES))
def test_sections_recovered(papers: dict[str, Path], name: str) -> None:
    doc = extract_document(papers[name], plain_source(papers[name]))
    score = recovery([(s.heading, s.text) for s in doc.sections], FIXTURES[name]())
    assert score == {"headings": 1.0, "paragraphs_exact": 1.0, "text_similarity": 1.0, "order": 1.0}


def test_arxiv_metadata_wins(papers: dict[str, Path]) -> None:
    doc = extract_document(papers["attention-2col"], arxiv_source())
    assert doc.title == "Attention Is All You Need"
    assert [a.name for a in doc.authors] == ATTENTION_AUTHORS
    assert doc.abstract.startswith("The dominant sequence")
    assert doc.date == "2017-06-12"


def test_without_metadata_front_matter_comes_from_page_one(papers: dict[str, Path]) -> None:
    doc = extract_document(papers["quiet-gradients"], plain_source(papers["quiet-gradients"]))
    assert doc.title == "Quiet Gradients in Small Models"
    assert [a.name for a in doc.authors] == ["Maria Rossi", "José Núñez", "Ann Lee"]
    assert doc.abstract.startswith("We study why small networks")
    two = extract_document(papers["attention-2col"], plain_source(papers["attention-2col"]))
    assert [a.name for a in two.authors] == ATTENTION_AUTHORS  # Łukasz from the PDF's own glyphs


def test_nothing_a_listener_must_not_hear(papers: dict[str, Path]) -> None:
    doc = extract_document(papers["attention-2col"], arxiv_source())
    marked = "\n".join(s.heading + "\n" + s.text for s in doc.sections)
    assert f"{MATH_OPEN}Attention(Q, K, V) = softmax(" in marked  # math is kept, marked, never read raw
    text = re.sub(f"{MATH_OPEN}[^{MATH_CLOSE}]*{MATH_CLOSE}", "", marked)
    for banned in ["arXiv:1706", "[cs.CL]", "Fixture paper for Macaw tests", "@google.com", "Google Brain",
                   "University of Toronto", "References", "Jimmy Lei Ba", "Hochreiter", "Work performed while",
                   "26.3", "EN-DE", "Multi-Head Attention Feed", "Softmax", "softmax(", "√", "=", "[12]", "[4, 9]",
                   "\ufb01", "\ufb00", "´", "¨", "  "]:
        assert banned not in text, banned
    # Captions are not read: they go to the show notes.
    assert "Figure 1: The encoder and decoder stacks, side by side." in doc.captions
    assert "Table 1: Scores of the fixture models on two test sets." in doc.captions
    assert "Figure 1" not in text and "Table 1" not in text
    assert "Rényi and Schrödinger" in text
    assert "self-attention" in text and "transduction systems" in text and "difficult" in text
    assert not any(line.strip().isdigit() for line in text.splitlines())


def test_two_columns_read_in_order(papers: dict[str, Path]) -> None:
    found = run_extraction(papers["attention-2col"])
    assert found.pages >= 2
    text = " ".join(s["text"] for s in found.sections)
    # A paragraph that runs from the foot of one column to the head of the next stays whole.
    for sentence in ["We used the Adam optimizer and varied the learning rate over the course of training,",
                     "We plan to apply it to other modalities such as images, audio and video."]:
        assert sentence in text
    assert text.index("Recurrent networks") < text.index("The encoder maps") < text.index("We trained on") < text.index("We presented")


def test_text_repairs() -> None:
    assert fix_ligatures("\ufb01rst e\ufb00ect \ufb02ow o\ufb03ce") == "first effect flow office"
    assert fix_accents("R\u00b4enyi Schr\u00a8odinger Andr\u00b4e ca\u00b8ca") == "Rényi Schrödinger André caça"
    assert join_lines(["the trans-", "former uses self-", "attention and", "more."]) == "the transformer uses self-attention and more."
    assert join_lines(["a pre-", "trained model"], compounds={"pre-trained"}) == "a pre-trained model"


# ---------------------------------------------------------------- hostile and broken files


def simple_pdf(pages: int = 1, **kw: object) -> bytes:
    page = Page([Text(72, 700, "A plain page of text that is long enough to count as a text layer.", 10)])
    return build_pdf([page] * pages, **kw)  # type: ignore[arg-type]


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(simple_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def bomb_pdf() -> bytes:
    # ~1 GB of spaces in a content stream that is ~1 MB on disk.
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    data = b"".join(comp.compress(chunk) for _ in range(1024)) + comp.flush()
    return build_pdf([Page(raw=b"")], compress=False).replace(
        b"<< /Length 0 >>\nstream\n\nendstream", b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    )


def page_tree_loop_pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>",  # the tree holds itself
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    return serialize(objects)


def xref_loop_pdf() -> bytes:
    """A readable page, but the trailer names its own cross-reference table as the previous one."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length 68 >>\nstream\nBT /F1 10 Tf 72 700 Td (Hello world, this is a page of readable text.) Tj ET\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return serialize(objects, prev_loop=True)


def deep_nesting_pdf() -> bytes:
    """A readable page whose resources also hold an array nested 100,000 deep: pypdf's parser runs out
    of stack, keeps the page without its resources, and the page's text is lost (it looked like a scan)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> /Deep "
        + b"[" * 100_000 + b"]" * 100_000 + b" >> >>",
        b"<< /Length 68 >>\nstream\nBT /F1 10 Tf 72 700 Td (Hello world, this is a page of readable text.) Tj ET\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return serialize(objects)


HOSTILE = {
    "not-a-pdf": (lambda: b"<html><body>Just a web page</body></html>\n" * 50, NotAPdfError, 21),
    "encrypted": (encrypted_pdf, EncryptedPdfError, 22),
    "truncated": (lambda: simple_pdf(3)[: len(simple_pdf(3)) * 2 // 3], DamagedPdfError, 25),
    "bomb": (bomb_pdf, ResourceLimitError, 24),
    "page-tree-loop": (page_tree_loop_pdf, DamagedPdfError, 25),
    "xref-loop": (xref_loop_pdf, DamagedPdfError, 25),
    "scanned": (lambda: build_pdf([Page(image=True)] * 2), NoTextLayerError, 23),
    "thousands-of-pages": (lambda: simple_pdf(5000, share_content=True), ResourceLimitError, 24),
    "deep-nesting": (deep_nesting_pdf, ResourceLimitError, 24),  # over the reader's nesting limit, not "no text layer" (23)
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_pdf(tmp_path: Path, name: str) -> None:
    make, error, code = HOSTILE[name]
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(make())
    episode = tmp_path / "episode"
    started = time.monotonic()
    with pytest.raises(error) as err:
        pdf_source.fetch(str(path), Config(), episode)
    assert time.monotonic() - started < 30
    assert type(err.value) is error and err.value.exit_code == code
    message = str(err.value)
    assert "\n" not in message and path.name in message
    assert not episode.exists() or list(episode.iterdir()) == []  # nothing in the output touched
    if name == "scanned":
        assert "no text layer; OCR is not supported" in message
    if name == "deep-nesting":
        assert "nests objects more deeply than the reader allows" in message


def test_memory_and_time_limits_hold(tmp_path: Path) -> None:
    path = tmp_path / "paper.pdf"
    path.write_bytes(simple_pdf(40))
    with pytest.raises(ResourceLimitError, match="longer than"):
        run_extraction(path, timeout_s=0.05)
    # 40 MB of address space is sometimes enough for these 40 pages; 20 MB never is.
    with pytest.raises(ResourceLimitError, match="MB|memory"):
        run_extraction(path, memory_mb=20)


def _later_page(bad: bytes, pages: int = 8) -> bytes:
    """`pages` plain pages, the last of them built from `bad`'s page one (its content, and objects)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(simple_pdf(pages - 1))))
    writer.append(PdfReader(io.BytesIO(bad)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("readers", [1, 2])
def test_a_bad_page_late_in_the_file_stops_the_reading_with_its_own_error(tmp_path: Path, readers: int) -> None:
    """Pages are read side by side in forked readers: a bomb on page 8, in another reader's share,
    ends as the same error as when one reader reads them all, and nothing is left running."""
    path = tmp_path / "late-bomb.pdf"
    path.write_bytes(_later_page(bomb_pdf()))
    started = time.monotonic()
    with pytest.raises(ResourceLimitError, match="too large to decompress"):
        run_extraction(path, readers=readers)
    assert time.monotonic() - started < 30
    path.write_bytes(simple_pdf(8))
    assert len(run_extraction(path, readers=readers).sections) >= 1


def test_distinct_exit_codes() -> None:
    codes = [code for _, _, code in HOSTILE.values()]
    assert len(set(codes)) == 5 and ExtractError.exit_code not in codes


# ---------------------------------------------------------------- --pdf as a source


def test_pdf_source(tmp_path: Path, papers: dict[str, Path]) -> None:
    path = papers["quiet-gradients"]
    pid = pdf_source.identify(str(path), Config())
    assert pid.startswith("pdf-") and len(pid) == 16
    source = pdf_source.fetch(str(path), Config(), tmp_path / pid)
    assert source.kind == "pdf" and source.id == pid and source.raw_file == "source.pdf"
    assert (tmp_path / pid / "source.pdf").read_bytes() == path.read_bytes()
    assert source.title == "Quiet Gradients in Small Models"
    assert [a.name for a in source.authors] == ["Maria Rossi", "José Núñez", "Ann Lee"]
    with pytest.raises(SourceNotFoundError):
        pdf_source.identify(str(tmp_path / "missing.pdf"), Config())


def test_pdf_source_enrich_from_arxiv(tmp_path: Path, papers: dict[str, Path]) -> None:
    with ReplayServer() as server:
        server.script["1706.03762v7"] = [atom("1706.03762-current.xml")]
        cfg = Config()
        cfg.arxiv.api_url = server.url + "/api/query"
        policy = arxiv.Policy(interval_s=0, read_timeout_s=2, retries=1, backoff_s=0.01, deadline_s=5)
        gate = arxiv.Gate(tmp_path / "gate", 0)
        plain = pdf_source.fetch(str(papers["attention-1col"]), cfg, tmp_path / "a")
        assert plain.metadata["arxiv_id"] == "1706.03762v7" and server.log == []
        source = pdf_source.fetch(str(papers["attention-1col"]), cfg, tmp_path / "b", enrich=True, policy=policy, gate=gate)
    assert source.kind == "pdf"
    assert source.metadata["arxiv"]["version"] == "v7"
    assert source.authors[6].name == "Łukasz Kaiser" and source.date == "2017-06-12"
    doc = extract_document(tmp_path / "b" / "source.pdf", source)
    assert doc.abstract.startswith("The dominant sequence transduction models")
    assert isinstance(doc, Document)


def test_inline_math_marked_by_font() -> None:
    from macaw.documents.pdflayout import _starts_text
    from macaw.documents.pdfrows import Frag, Row

    # "where κ is the gravity, and x = y + 1." with κ, x and y in TeX's math italic, "=" and "+ 1" in roman.
    row = Row(0, 700, [
        Frag(72, 700, 10, "where", "ABCDEF+CMR10"), Frag(97, 700, 10, " κ", "ABCDEF+CMMI10"),
        Frag(107, 700, 10, " is the gravity, and", "ABCDEF+CMR10"), Frag(207, 700, 10, " x", "CMMI10"),
        Frag(217, 700, 10, " =", "CMR10"), Frag(227, 700, 10, " y", "CMMI10"), Frag(237, 700, 10, " + 1", "CMR10"),
        Frag(257, 700, 10, ".", "CMMI10"),
    ])
    assert row.text == "where κ is the gravity, and x = y + 1."
    assert row.marked_text == f"where {MATH_OPEN}κ{MATH_CLOSE} is the gravity, and {MATH_OPEN}x = y{MATH_CLOSE} + 1."
    # A math font's full stop alone is punctuation; "u." followed by lower-case keeps its dot inside.
    assert not Frag(0, 0, 10, ".", "CMMI10").math and Frag(0, 0, 10, "𝑘", "XCharter-Roman").math
    goes_on = Row(0, 700, [Frag(72, 700, 10, "where", "CMR10"), Frag(97, 700, 10, " u.", "CMMI10"), Frag(112, 700, 10, " is the reward", "CMR10")])
    assert goes_on.marked_text == f"where {MATH_OPEN}u.{MATH_CLOSE} is the reward"
    # A plain row is unchanged.
    plain = Row(0, 700, [Frag(72, 700, 10, "We train it.", "Times-Roman")])
    assert plain.marked_text == plain.text == "We train it."
    # Inline math right after a long run of text does not start a right-hand column...
    line = Row(0, 700, [Frag(72, 700, 10, "a" * 50, "CMR10"), Frag(322, 700, 10, "p", "CMMI10")])
    assert not _starts_text(line, line.frags[1])
    # ...but a piece after a real gutter still does, math or not.
    two = Row(0, 700, [Frag(72, 700, 10, "a" * 40, "CMR10"), Frag(320, 700, 10, "p", "CMMI10")])
    assert _starts_text(two, two.frags[1])


def test_table_lines_under_a_caption_are_not_read() -> None:
    from macaw.documents.pdfrows import Frag, Layout, Row
    from macaw.documents.pdfsections import sections

    def row(y: float, text: str, role: str = "body") -> Row:
        return Row(1, y, [Frag(72, y, 10, text, "CMR10")], role=role)

    prose = "We ran each experiment with three different random seeds and report the mean."
    table = [row(700, "Table 3: Reptile hyper-parameters.", "caption"), row(670, "Parameter 5-way"), row(656, "Inner batch size"),
             row(642, "10 20"), row(628, "Outer step size"), row(600, prose)]
    before = [row(800 - 14 * k, prose) for k in range(5)]  # the column's usual line is a long one
    layout = Layout()
    sections(layout, [row(820, "Method", "heading"), *before, *table], 10)
    assert layout.sections[0]["text"].split(".")[-2].strip() == prose[:-1]
    assert "batch" not in layout.sections[0]["text"] and "10 20" not in layout.sections[0]["text"]
    # One short line after the caption is the end of the paragraph the float interrupted: kept.
    layout = Layout()
    sections(layout, [row(840, "Method", "heading"), *before, row(730, "The runs were repeated with three"),
                      row(700, "Table 3: Reptile hyper-parameters.", "caption"), row(670, "different seeds."), row(640, prose)], 10)
    assert "different seeds." in layout.sections[0]["text"]


def test_a_bad_page_in_the_first_readers_share_stops_the_others(tmp_path: Path) -> None:
    """Bombs on pages 1 and 9: the forked reader takes one, the first reader its own share with the
    other; the first reader's failure stops the fork and ends as its error, at once."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bomb_pdf())))
    writer.append(PdfReader(io.BytesIO(_later_page(bomb_pdf(), pages=8))))
    out = io.BytesIO()
    writer.write(out)
    path = tmp_path / "two-bombs.pdf"
    path.write_bytes(out.getvalue())
    started = time.monotonic()
    with pytest.raises(ResourceLimitError, match="too large to decompress"):
        run_extraction(path, readers=2)
    assert time.monotonic() - started < 30
