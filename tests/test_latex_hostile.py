"""Hostile e-prints: each is refused inside the sandbox, within the caps and 30 s, and the paper is
read from its PDF instead, with one line saying why; nothing is written outside the episode folder,
and a build with a hostile e-print leaves the feed and the other episodes untouched."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from macaw.artifacts import Author, Document, Source
from macaw.config import Config
from macaw.documents import latex
from macaw.documents.latexsource import Caps
from macaw.stages import extract
from macaw.stages.context import StageContext
from latexfixtures import LATEX_DIR, hostile, tar_gz, unpacked_size
from paperfixtures import ReplayServer, atom, attention_spec, eprint_reply, pdf_reply, typeset

REPO = Path(__file__).resolve().parent.parent
HOSTILE = hostile()
WHY = {
    "truncated-tar": "truncated",
    "dotdot-member": "outside the folder",
    "absolute-member": "outside the folder",
    "symlink-out": "link or device",
    "gzip-bomb-tar": "unpacks to more than",
    "gzip-bomb-tex": "unpacks to more than",
    "not-latex": "neither a tar archive nor LaTeX",
    "no-main-file": "no main LaTeX file",
}


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return typeset(attention_spec())


def episode(folder: Path, eprint: bytes, pdf: bytes, name: str = "source.tar.gz") -> tuple[StageContext, Source, list[str]]:
    folder.mkdir(parents=True)
    (folder / name).write_bytes(eprint)
    (folder / "source.pdf").write_bytes(pdf)
    source = Source(kind="arxiv", id="arxiv-1706.03762", title="Attention Is All You Need", authors=[Author("Ashish Vaswani")],
                    raw_file="source.pdf", metadata={"abstract": "An abstract.", "eprint": {"file": name}})
    lines: list[str] = []
    return StageContext(Config(), folder, source.id, log=lines.append), source, lines


def test_the_bomb_really_is_one() -> None:
    data = HOSTILE["gzip-bomb-tar"]
    assert len(data) < 2 * 1024 * 1024 and unpacked_size(data) > 1024**3


@pytest.mark.parametrize("name", sorted(WHY))
def test_hostile_eprint_falls_back_to_the_pdf(tmp_path: Path, pdf_bytes: bytes, name: str) -> None:
    folder = tmp_path / "episodes" / "arxiv-1706.03762"
    ctx, source, lines = episode(folder, HOSTILE[name], pdf_bytes)
    started = time.monotonic()
    doc = extract.run(ctx, source)
    assert time.monotonic() - started < 30
    assert doc.origin_format == "pdf" and WHY[name] in doc.fallback, doc.fallback
    assert "\n" not in doc.fallback
    assert any(line.startswith("LaTeX source not used: source.tar.gz") and "reading the PDF" in line for line in lines), lines
    assert [s.heading for s in doc.sections][:2] == ["Introduction", "Model Architecture"]
    # nothing unpacked is left, nothing escaped
    assert sorted(p.name for p in folder.iterdir()) == ["source.pdf", "source.tar.gz"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["episodes", "arxiv-1706.03762", "source.pdf", "source.tar.gz"])
    assert not Path("/tmp/macaw-escaped.tex").exists()


def test_unpacking_is_capped_by_count_and_size(tmp_path: Path) -> None:
    from latexfixtures import MINIMAL, tar_of

    many = tar_of({"main.tex": MINIMAL, **{f"f{i}.tex": b"x" for i in range(60)}})
    (tmp_path / "many.tar.gz").write_bytes(many)
    with pytest.raises(latex.LatexSourceError, match="more than 50 files") as err:
        latex.run_latex(tmp_path / "many.tar.gz", tmp_path, caps=Caps(members=50))
    assert err.value.kind == "limit"
    with pytest.raises(latex.LatexSourceError, match="is .* bytes; the limit is 100"):
        latex.run_latex(tmp_path / "many.tar.gz", tmp_path, caps=Caps(compressed_bytes=100))
    big = tar_of({"main.tex": MINIMAL, "data.tex": b"%" * 300_000})
    (tmp_path / "big.tar.gz").write_bytes(big)
    with pytest.raises(latex.LatexSourceError, match="unpacks to more than"):
        latex.run_latex(tmp_path / "big.tar.gz", tmp_path, caps=Caps(unpacked_bytes=200_000))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.tar.gz", "many.tar.gz"]


def _slow_source() -> bytes:
    """A plain paper whose parse takes far longer than any limit below (400 sections of prose and
    inline math: about 20 s of pylatexenc here; a real parse that runs away, not a sleep)."""
    from latexfixtures import tar_of

    para = b"We measure the model on \\textbf{many} tasks, with $x_{i}^{2} + \\alpha$ in each~\\cite{a}. " * 20
    body = b"".join(b"\\section{Part %d}\n" % i + para + b"\n\n" for i in range(400))
    return tar_of({"main.tex": b"\\documentclass{article}\n\\begin{document}\n" + body + b"\\end{document}\n"})


def test_a_parser_that_hangs_is_killed(tmp_path: Path) -> None:
    # The fixture paper alone parses in about 0.2 s of CPU, so on a fast machine it finishes inside
    # a 0.2 s limit: the test needs a parse that really runs long.
    (tmp_path / "s.tar.gz").write_bytes(_slow_source())
    for limit in (0.2, 1.0):
        started = time.monotonic()
        with pytest.raises(latex.LatexSourceError, match=f"longer than {limit:g} s") as err:
            latex.run_latex(tmp_path / "s.tar.gz", tmp_path, timeout_s=limit)
        assert time.monotonic() - started < limit + 3 and err.value.kind == "limit"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["s.tar.gz"]


def test_a_parse_that_hangs_falls_back_to_the_pdf(tmp_path: Path, pdf_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "LATEX_TIMEOUT_S", 0.5)
    folder = tmp_path / "episodes" / "arxiv-1706.03762"
    ctx, source, lines = episode(folder, _slow_source(), pdf_bytes)
    started = time.monotonic()
    doc = extract.run(ctx, source)
    assert time.monotonic() - started < 15
    why = "source.tar.gz: parsing took longer than 0.5 s (the LaTeX source is too large or malformed)"
    assert doc.origin_format == "pdf" and doc.fallback == why, doc.fallback
    assert [line for line in lines if line.startswith("LaTeX source not used")] == [f"LaTeX source not used: {why}; reading the PDF"]
    assert sorted(p.name for p in folder.iterdir()) == ["source.pdf", "source.tar.gz"]


def test_memory_cap_holds(tmp_path: Path) -> None:
    (tmp_path / "s.tar.gz").write_bytes(tar_gz(LATEX_DIR / "acl-bertlike"))
    with pytest.raises(latex.LatexSourceError, match="more than 60 MB|failed|gave no answer"):
        latex.run_latex(tmp_path / "s.tar.gz", tmp_path, memory_mb=60)


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_with_a_hostile_eprint_reads_the_pdf_and_touches_nothing_else(tmp_path: Path, pdf_bytes: bytes) -> None:
    """`macaw build --paper` against a stand-in arXiv whose e-print is a symlink attack."""
    other = tmp_path / "episodes" / "journal-2024-10-14-normalization"
    other.mkdir(parents=True)
    (other / "episode.json").write_text('{"id": "journal-2024-10-14-normalization"}\n')
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "macaw.xml").write_text("<rss version='2.0'><channel><title>kept</title></channel></rss>\n")
    before = _digests(tmp_path)
    with ReplayServer() as server:
        server.script["1706.03762"] = [atom("1706.03762-current.xml")]
        server.script["/pdf/1706.03762v7"] = [pdf_reply(pdf_bytes)]
        server.script["/e-print/1706.03762v7"] = [eprint_reply(HOSTILE["symlink-out"])]
        env = {**os.environ, "PYTHONPATH": str(REPO), "MACAW_CACHE": str(tmp_path / "cache"),
               "MACAW_ARXIV_API_URL": server.url + "/api/query", "MACAW_ARXIV_PDF_URL": server.url + "/pdf",
               "MACAW_ARXIV_EPRINT_URL": server.url + "/e-print"}
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "macaw", "build", "--paper", "1706.03762", "--until", "extract",
                                 "--out", str(tmp_path)],
                                capture_output=True, text=True, env=env, timeout=120)
        seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert seconds < 60
    said = [line for line in (result.stdout + result.stderr).splitlines() if "LaTeX source not used" in line]
    assert len(said) == 1 and "link or device member" in said[0] and "reading the PDF" in said[0], result.stdout + result.stderr
    folder = tmp_path / "episodes" / "arxiv-1706.03762"
    doc = Document.load(folder)
    assert doc.origin_format == "pdf" and "link or device member" in doc.fallback
    assert Source.load(folder).metadata["eprint"]["file"] == "source.tar.gz"
    after = _digests(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before  # the feed and the other episode are untouched
    assert not any(k.startswith("episodes/arxiv-1706.03762/.latex") for k in after)


def test_a_good_eprint_is_read_first_and_an_input_loop_still_ends(tmp_path: Path, pdf_bytes: bytes) -> None:
    from latexfixtures import MINIMAL, tar_of

    ctx, source, lines = episode(tmp_path / "good", tar_gz(LATEX_DIR / "acl-bertlike"), pdf_bytes)
    doc = extract.run(ctx, source)
    assert doc.origin_format == "latex" and doc.fallback == "" and lines[0] == "read from the LaTeX source (source.tar.gz)"
    assert doc.sections[0].heading == "Introduction" and doc.captions
    looping = tar_of({"main.tex": MINIMAL.replace(b"\\section{Only}", b"\\input{main}\n\\section{Only}")})
    ctx, source, lines = episode(tmp_path / "loop", looping, pdf_bytes)
    started = time.monotonic()
    doc = extract.run(ctx, source)
    assert time.monotonic() - started < 30
    assert doc.origin_format == "latex" and [s.text for s in doc.sections] == ["A short paper that says one thing."]
    # no e-print at all (a PDF-only submission): the PDF, and why
    ctx, source, lines = episode(tmp_path / "none", b"", pdf_bytes)
    (tmp_path / "none" / "source.tar.gz").unlink()
    source.metadata["eprint"] = {"file": "", "format": "pdf", "note": "a PDF-only submission: no LaTeX source"}
    doc = extract.run(ctx, source)
    assert doc.origin_format == "pdf" and doc.fallback == "no LaTeX source (a PDF-only submission: no LaTeX source)"
