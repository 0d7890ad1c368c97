"""LaTeX sources: finding the main file, \\input, the paper's macros, and the reading text, on a
fixture paper in the shape of a real ACL paper and on the one real source in ../shared."""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path

import pytest

from macaw.artifacts import MATH_CLOSE, MATH_OPEN, Author, Source
from macaw.documents import latex, latexmacros, latexsource
from macaw.sources.arxiv import eprint_format
from latexfixtures import LATEX_DIR, MINIMAL, SHARED, tar_gz, tar_of

BERTLIKE = LATEX_DIR / "acl-bertlike"
REAL = SHARED / "2012.00127"


def outside_math(text: str) -> str:
    return re.sub(f"{MATH_OPEN}.*?{MATH_CLOSE}", "MATH", text, flags=re.S)


def debris(text: str) -> dict[str, int]:
    """What must never reach the reading text: LaTeX, citation and reference leftovers."""
    prose = outside_math(text)
    return {
        "control_sequences": len(re.findall(r"\\[A-Za-z@]+", prose)),
        "braces": prose.count("{") + prose.count("}"),
        "empty_citations": len(re.findall(r"\[\s*[?,;]*\s*\]|\(\s*[,;]*\s*\)|\[\?\]|\s[,.;]\s", prose)),
        "reference_entries": len(re.findall(r"^\s*\[\d+\]\s+[A-Z]", prose, flags=re.M)),
    }


def source_for(folder: Path, eprint: Path) -> Source:
    return Source(kind="arxiv", id="arxiv-test", title="Meta Title", authors=[Author("Ada Example")], date="2019-05-24",
                  raw_file="source.pdf", metadata={"abstract": "", "eprint": {"file": eprint.name}})


@pytest.fixture(scope="module")
def bertlike(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("bertlike")
    (folder / "source.tar.gz").write_bytes(tar_gz(BERTLIKE))
    return latex.run_latex(folder / "source.tar.gz", folder)


def test_fixture_sections_levels_and_appendix(bertlike: dict) -> None:
    sections = bertlike["document"]["sections"]
    assert bertlike["format"] == "tar.gz" and bertlike["main"] == "main.tex"
    assert [(s["heading"], s["level"], s["appendix"]) for s in sections] == [
        ("Introduction", 1, False), ("Related Work", 1, False), ("Feature-based Approaches", 2, False),
        ("Fine-tuning Approaches", 2, False), ("The Bert Model", 1, False), ("Pre-training", 2, False),
        ("Fine-tuning", 2, False), ("Experiments", 1, False), ("SQuAD v2.0", 2, False), ("Conclusion", 1, False),
        ("Acknowledgments", 1, False), ("Details of the Data", 1, True), ("Additional Ablations", 1, True),
    ]


def test_fixture_reading_text_is_clean(bertlike: dict) -> None:
    doc = bertlike["document"]
    text = "\n\n".join(s["text"] for s in doc["sections"]) + "\n\n" + doc["abstract"]
    assert debris(text) == {"control_sequences": 0, "braces": 0, "empty_citations": 0, "reference_entries": 0}
    # comments, the bibliography, figure and table bodies are gone
    assert "must never be read" not in text and "older draft" not in text and "aclpaperid" not in text
    assert "Semi-supervised sequence learning" not in text and "thebibliography" not in text
    assert "78.1" not in text and "overview.pdf" not in text and "toprule" not in text
    # footnotes and labels are not read; URLs in footnotes go with them
    assert "example.org/code" not in text and "sec:intro" not in text


def test_fixture_macros_citations_and_references(bertlike: dict) -> None:
    sections = {s["heading"]: s["text"] for s in bertlike["document"]["sections"]}
    intro, related = sections["Introduction"], sections["Related Work"]
    assert "help many language tasks. There are two common ways" in intro  # \citep dropped, no debris
    assert "as argued in Section 3." in intro  # \ref -> the number LaTeX prints
    assert "Mikolov et al. proposed a fast method, and Peters et al. extended it" in related  # \citet from the .bbl
    assert "(see Table 1)" in sections["Feature-based Approaches"]
    exp = sections["Experiments"]
    assert "(Appendix A)" in exp and "Section 1 gives the motivation" in exp  # \ref to an appendix, \cref
    assert "i.e., a masked language model." in sections["Pre-training"]  # \def macros
    assert "extends SQuAD v1.1 by allowing" in sections["SQuAD v2.0"]  # optional argument and its default
    assert "as shown in Figure 1." in sections["The Bert Model"]
    assert "15% of all tokens" in sections["Pre-training"]


def test_fixture_math_is_marked_and_kept_as_written(bertlike: dict) -> None:
    model = {s["heading"]: s["text"] for s in bertlike["document"]["sections"]}["The Bert Model"]
    paragraphs = model.split("\n\n")
    display = [p for p in paragraphs if p.startswith(MATH_OPEN + "\\begin{equation}")]
    assert len(display) == 1 and display[0].endswith(MATH_CLOSE)  # a paragraph of its own
    assert "\\frac{\\exp(" in display[0] and "\\label" not in display[0]
    assert f"with {MATH_OPEN}L{MATH_CLOSE} layers" in model
    assert "\\operatorname{arg\\,max}" in model  # \DeclareMathOperator expanded inside math
    squad = {s["heading"]: s["text"] for s in bertlike["document"]["sections"]}["SQuAD v2.0"]
    assert f"Let {MATH_OPEN}s_{{\\text{{null}}}}{MATH_CLOSE} be" in squad  # \( .. \)
    assert squad.split("\n\n")[-1] == MATH_OPEN + "\\hat{s}_{i,j} > s_{\\text{null}} + \\tau ." + MATH_CLOSE  # \[ .. \]


def test_fixture_abstract_captions_title(bertlike: dict) -> None:
    doc = bertlike["document"]
    assert doc["abstract"] == ("We introduce a reading model called Bert, which reads text from both sides at once. "
                               "Unlike earlier models, Bert is trained on a masked language model objective. "
                               "It reaches strong results on eleven tasks, including SQuAD v1.1.")
    assert doc["captions"] == ["Figure 1: Overall pre-training and fine-tuning procedures for Bert. The same architecture is used in both.",
                               "Table 1: Accuracy on the development and test sets."]
    assert doc["title"] == "Layered Encoders: Pre-training Deep Two-Sided Readers for Language Tasks"


def test_document_keeps_metadata_as_authority(tmp_path: Path) -> None:
    (tmp_path / "source.tar.gz").write_bytes(tar_gz(BERTLIKE))
    source = source_for(tmp_path, tmp_path / "source.tar.gz")
    doc = latex.extract_document(tmp_path / "source.tar.gz", tmp_path, source)
    assert doc.title == "Meta Title" and [a.name for a in doc.authors] == ["Ada Example"] and doc.date == "2019-05-24"
    assert doc.abstract.startswith("We introduce a reading model")  # the metadata had none
    assert doc.origin_format == "latex" and doc.fallback == ""
    assert [s.heading for s in doc.sections if s.appendix] == ["Details of the Data", "Additional Ablations"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.tar.gz"]  # the unpacked folder is gone


@pytest.mark.parametrize("kind", ["tar.gz", "tex.gz", "tar", "tex", "pdf"])
def test_formats_are_told_apart_by_their_bytes(tmp_path: Path, kind: str) -> None:
    data = {"tar.gz": tar_of({"paper.tex": MINIMAL}), "tex.gz": gzip.compress(MINIMAL), "tar": tar_of({"paper.tex": MINIMAL}, gz=False),
            "tex": MINIMAL, "pdf": b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"}[kind]
    assert eprint_format(data[:8192]) == kind
    path = tmp_path / "download.bin"  # the name says nothing
    path.write_bytes(data)
    if kind == "pdf":
        with pytest.raises(latex.LatexSourceError) as err:
            latex.run_latex(path, tmp_path)
        assert err.value.kind == "pdf"
        return
    answer = latex.run_latex(path, tmp_path)
    assert answer["format"] == kind
    assert answer["document"]["sections"][0]["text"] == "A short paper that says one thing."


def test_main_file_is_the_document_not_a_standalone_figure(tmp_path: Path) -> None:
    standalone = b"\\documentclass{standalone}\n\\begin{document}\\begin{tikzpicture}\\end{tikzpicture}\\end{document}\n"
    main = MINIMAL.replace(b"\\section{Only}", b"\\input{sec}\n\\section{Only}")
    files = {"fig.tex": standalone, "paper.tex": main, "sec.tex": b"\\section{First}\nFirst words here.\n"}
    (tmp_path / "s.tar.gz").write_bytes(tar_of(files))
    answer = latex.run_latex(tmp_path / "s.tar.gz", tmp_path)
    assert answer["main"] == "paper.tex"
    assert [s["heading"] for s in answer["document"]["sections"]] == ["First", "Only"]


def test_input_loops_and_missing_files_terminate(tmp_path: Path) -> None:
    main = MINIMAL.replace(b"\\section{Only}", b"\\input{a}\n\\input{missing}\n\\section{Only}")
    files = {"main.tex": main, "a.tex": b"\\section{A}\nText of a.\n\\input{b}\n", "b.tex": b"Text of b.\n\\input{a.tex}\n\\input{b}\n"}
    (tmp_path / "s.tar.gz").write_bytes(tar_of(files))
    started = time.monotonic()
    answer = latex.run_latex(tmp_path / "s.tar.gz", tmp_path)
    assert time.monotonic() - started < 30
    texts = {s["heading"]: s["text"] for s in answer["document"]["sections"]}
    assert texts["A"] == "Text of a. Text of b." and texts["Only"] == "A short paper that says one thing."
    assert any("loop" in n for n in answer["notes"]) and any("missing" in n and "no such file" in n for n in answer["notes"])


def test_input_tree_that_explodes_is_capped(tmp_path: Path) -> None:
    # No loop, but each file inputs the next twice: 2**30 inclusions if nothing stopped it.
    files = {"main.tex": MINIMAL.replace(b"\\section{Only}", b"\\input{f0}\n\\section{Only}")}
    for i in range(30):
        files[f"f{i}.tex"] = f"Level {i}. \\input{{f{i + 1}}} \\input{{f{i + 1}}}\n".encode()
    files["f30.tex"] = b"Leaf."
    (tmp_path / "s.tar.gz").write_bytes(tar_of(files))
    with pytest.raises(latex.LatexSourceError) as err:
        latex.run_latex(tmp_path / "s.tar.gz", tmp_path)
    assert err.value.kind == "limit" and "includes more than" in str(err.value)


def test_macros_that_never_stop_expanding_are_cut(tmp_path: Path) -> None:
    body = b"\\def\\a{\\a\\a x}\n\\newcommand{\\b}[1]{\\b{#1}}\n"
    main = MINIMAL.replace(b"\\begin{document}", body + b"\\begin{document}").replace(b"one thing.", b"one thing \\a and \\b{y}.")
    (tmp_path / "s.tex").write_bytes(main)
    started = time.monotonic()
    answer = latex.run_latex(tmp_path / "s.tex", tmp_path)
    assert time.monotonic() - started < 30
    assert answer["document"]["sections"][0]["text"].startswith("A short paper that says one thing")


def test_comments_and_escaped_percent() -> None:
    text = latexsource.strip_comments("50\\% of cups% a comment\n  fill. Next% joined\nline.\n\nNew para.\n% whole line\nend\\\\% after a break\n")
    assert text == "50\\% of cupsfill. Nextline.\n\nNew para.\nend\\\\\n"


def test_macro_definitions_with_arguments() -> None:
    macros, rest = latexmacros.collect("\\newcommand{\\pair}[2]{(#1, #2)}\\renewcommand\\x{X}\\def\\tri#1#2#3{#3#2#1}"
                                       "\\newcommand{\\opt}[1][d]{<#1>}\\newcommand{\\section}{bad}body")
    assert rest == "body" and set(macros) == {"pair", "x", "tri", "opt"}  # \section is never redefined
    expanded = latexmacros.expand("\\pair{a}{\\x} \\tri abc \\opt \\opt[z] \\xy", macros, 1000)
    assert " ".join(expanded.split()) == "{(a, {X})} {cba} {<d>} {<z>} \\xy"


@pytest.mark.skipif(not (REAL / "source").is_dir(), reason="../shared is not beside the checkout")
def test_real_source_2012_00127(tmp_path: Path) -> None:
    """The authors' own draft of The Variable-Processor Cup Game (13 files, \\input, theorems, proofs)."""
    (tmp_path / "source.tar.gz").write_bytes(tar_gz(REAL / "source"))
    started = time.monotonic()
    answer = latex.run_latex(tmp_path / "source.tar.gz", tmp_path)
    seconds = time.monotonic() - started
    doc = answer["document"]
    facts = json.loads((REAL / "facts.json").read_text())
    assert answer["main"] == "variableProcessor.tex" and answer["notes"] == []
    # The headings the draft itself declares, read straight from its files in \input order.
    order = ["abstract", "intro", "prelims", "technical_overview", "adaptive", "upperbound", "obliviousFlattening",
             "obliviousBase", "obliviousAmplification", "obliviousThm", "conclusion"]
    declared = []
    for name in order:
        body = latexsource.strip_comments((REAL / "source" / f"{name}.tex").read_text())
        declared += [(m.group(2), len(m.group(1)) // 3 + 1) for m in re.finditer(r"\\((?:sub)*)section\*?\{([^{}]*)\}", body)]
    got = [(s["heading"], s["level"]) for s in doc["sections"] if s["heading"]]
    assert got == declared
    # The printed v2's headings (facts.json) that the draft already had: the first three are the same words.
    printed = [re.sub(r"^\d+\s+", "", h) for h in facts["section_headings"]]
    assert [h for h, level in got if level == 1][:3] == printed[:3]
    text = "\n\n".join(s["text"] for s in doc["sections"])
    assert debris(text + "\n\n" + doc["abstract"]) == {"control_sequences": 0, "braces": 0, "empty_citations": 0, "reference_entries": 0}
    assert doc["abstract"].startswith(facts["abstract_first_sentence"].split(" p ")[0])
    assert "Lemma" in text and "Proof." in text and text.count(MATH_OPEN) > 500
    assert seconds < 30


def test_revtex_letter_sent_as_a_single_gzipped_tex(tmp_path: Path) -> None:
    """REVTeX puts authors and affiliations in the body and the bibliography inline."""
    data = gzip.compress((LATEX_DIR / "revtex-letter" / "letter.tex").read_bytes())
    assert eprint_format(data[:8192]) == "tex.gz"
    (tmp_path / "source.tex.gz").write_bytes(data)
    answer = latex.run_latex(tmp_path / "source.tex.gz", tmp_path)
    doc = answer["document"]
    assert answer["format"] == "tex.gz"
    assert [(s["heading"], s["appendix"]) for s in doc["sections"]] == [("", False), ("Method", False), ("Results", False),
                                                                      ("Acknowledgments", False)]
    text = "\n\n".join(s["text"] for s in doc["sections"])
    for leak in ("Esempio", "Madrid", "example.org", "04.70", "Bardeen", "Commun. Math", "today"):
        assert leak not in text, leak
    assert debris(text) == {"control_sequences": 0, "braces": 0, "empty_citations": 0, "reference_entries": 0}
    assert "those of thermodynamics. The first" in text and "spin, see the cited work." in text
    assert "compare both sides of Eq. (1) as in Fig. 1." in text and "(Sec. 1)" in text
    assert doc["captions"] == ["Figure 1: Posterior of the difference between the two sides of the first law."]
    assert doc["title"] == "Weighing Black Holes Twice with Gravitational Waves"


def test_bench_reading_checks_can_fail() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.bench_latex import reading_checks

    clean = reading_checks(["A whole sentence. Another one with " + MATH_OPEN + "x^{2}" + MATH_CLOSE + " in it."])
    assert (clean["fragments"], clean["control_sequences"], clean["braces"]) == (0, 0, 0)
    bad = reading_checks(["It is faster than. and then \\emph{this} {x} [?] was cut.", MATH_OPEN + "y" + MATH_CLOSE, "as desired."])
    assert bad["fragments"] == 2 and bad["control_sequences"] == 1 and bad["braces"] == 4 and bad["citation_debris"] == 1
    assert bad["continuations_after_display_math"] == 1


def test_input_cannot_reach_outside_the_source(tmp_path: Path) -> None:
    secret = tmp_path / "secret.tex"
    secret.write_text("SECRET WORDS")
    main = MINIMAL.replace(b"\\section{Only}", f"\\input{{{secret}}}\n\\input{{../secret}}\n\\input{{/etc/hostname}}\n\\section{{Only}}".encode())
    (tmp_path / "ep").mkdir()
    (tmp_path / "ep" / "s.tar.gz").write_bytes(tar_of({"main.tex": main}))
    (tmp_path / "ep" / ".latex-stale").mkdir()  # a killed build's scratch folder is cleared
    answer = latex.run_latex(tmp_path / "ep" / "s.tar.gz", tmp_path / "ep")
    text = " ".join(s["text"] for s in answer["document"]["sections"])
    assert "SECRET" not in text and text == "A short paper that says one thing."
    assert sum("no such file" in n for n in answer["notes"]) == 3
    assert sorted(p.name for p in (tmp_path / "ep").iterdir()) == ["s.tar.gz"]
