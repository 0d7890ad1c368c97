"""The write stage with a scripted fake LLM, over the real journal entries in shared/journals."""

from __future__ import annotations

import pytest

from macaw import engines
from macaw.script import writer as write
from macaw.stages import write as write_stage
from macaw.artifacts import Author, Document, Script, Section, Source
from macaw.errors import EmptyOutputError, EmptySourceError
from macaw.script.grounding import numbers_in

from llmfixtures import context, journal_document, journal_path, use_fake

ENTRIES = ["2024-10-14-normalization.txt", "2024-11-19-gestation.txt", "end-of-batch.txt"]
HALLUCINATION = "In this entry, the author presents Recursive Descent at the NeurIPS 2023 conference with 42 colleagues."


@pytest.fixture(autouse=True)
def _unregister():
    yield
    engines.unregister("llm.fake")


def body_sentences(doc: Document) -> list[str]:
    return [s for sec in doc.sections for para in write.paragraphs(sec.text) for s in para]


def assert_invariants(script: Script, doc: Document, source: Source) -> None:
    texts = [s.text for s in script.sentences]
    assert len(texts) == len(set(texts)), "a sentence is repeated"
    assert all(s.grounded for s in script.sentences)
    assert all(s.spoken and s.segment for s in script.sentences)
    source_numbers = set(numbers_in(doc.full_text() + " " + doc.date + " " + write.spoken_date(doc.date) + " " + source.id))
    for s in script.sentences:
        assert set(numbers_in(s.text)) <= source_numbers, s.text
    assert script.segments()[0] == write.INTRO and script.segments()[-1] == write.CLOSING
    # Round trip through JSON keeps everything.
    assert Script.from_dict(script.to_dict()) == script


@pytest.mark.parametrize("name", ENTRIES)
def test_read_mode_narrates_the_entry_verbatim(tmp_path, name):
    doc, source = journal_document(journal_path(name), author="Ada Writer")
    fake = use_fake([HALLUCINATION])
    script = write_stage.run(context(tmp_path), doc, source)
    assert_invariants(script, doc, source)
    intro = " ".join(s.text for s in script.sentences if s.segment == write.INTRO)
    assert doc.title in intro and "Ada Writer" in intro
    # The entry's own sentences, all of them, in order, marked as read from the source.
    read = [s.text for s in script.sentences if s.origin == "source"]
    expected = list(dict.fromkeys(body_sentences(doc)))
    assert read == expected
    # The hallucinated intro never reaches the script; it was asked twice (strictly first, then openly).
    assert "NeurIPS" not in script.to_markdown() and "Recursive" not in script.to_markdown()
    assert len(fake.prompts) == 2 and "fewer words" in fake.prompts[0] and "In this entry" in fake.prompts[1]
    assert script.models == {"llm": "fake-llm"}


def test_read_mode_keeps_a_grounded_llm_intro(tmp_path):
    doc, source = journal_document(journal_path(ENTRIES[0]))
    reply = "In this entry, the author built an implementation of ResNet34 from scratch."
    use_fake([reply])
    script = write_stage.run(context(tmp_path), doc, source)
    llm = [s for s in script.sentences if s.origin == "llm"]
    assert [s.text for s in llm] == [reply]
    assert llm[0].segment == write.INTRO and "ResNet34 from scratch" in llm[0].support
    assert "res net thirty-four" in llm[0].spoken


def test_read_mode_falls_back_to_the_default_author(tmp_path):
    doc, source = journal_document(journal_path(ENTRIES[1]), author="")
    use_fake([HALLUCINATION])
    ctx = context(tmp_path, journal__author="Sam Diarist")
    script = write_stage.run(ctx, doc, source)
    assert "Sam Diarist" in script.sentences[1].text
    assert "Sam Diarist" in script.sentences[-2].text  # the outro credits the author too


@pytest.mark.parametrize("name", ENTRIES)
def test_summary_mode_is_grounded(tmp_path, name):
    doc, source = journal_document(journal_path(name))
    use_fake(lambda prompt: HALLUCINATION + " The weather in Paris was 31 degrees.")
    script = write_stage.run(context(tmp_path, journal__mode="summary"), doc, source)
    assert_invariants(script, doc, source)
    assert all(s.origin != "llm" for s in script.sentences)
    # Shorter than the entry: a summary, not a reading.
    assert len(script.sentences) < len(body_sentences(doc)) + 4


def test_empty_model_output_is_an_error(tmp_path):
    doc, source = journal_document(journal_path(ENTRIES[0]))
    use_fake([""])
    with pytest.raises(EmptyOutputError, match="returned nothing"):
        write_stage.run(context(tmp_path), doc, source)


@pytest.mark.parametrize("sections", [[], [Section("", "")], [Section("Day 1", "  \n\n 12 34 \n")]])
def test_empty_document_is_an_error(tmp_path, sections):
    use_fake(["unused"])
    doc = Document(title="Nothing", authors=[Author("A")], sections=sections)
    source = Source(kind="journal", id="journal-empty", title="Nothing", origin="empty.md")
    with pytest.raises(EmptySourceError, match="empty.md"):
        write_stage.run(context(tmp_path), doc, source)


def test_markdown_is_cleaned_for_speech():
    text = "# Title\n\n- **Bold** item with [a link](https://example.com)\n- second `code` item\n\n![img](x.png)\n\nmy in_features_per_group var"
    assert write.paragraphs(text) == [["Title."], ["Bold item with a link.", "second code item."], ["my in_features_per_group var."]]


def test_name_list():
    assert write.name_list(["A"]) == "A"
    assert write.name_list(["A", "B"]) == "A and B"
    assert write.name_list(["A", "B", "C"]) == "A, B, and C"
    names = [f"N{i}" for i in range(8)]
    assert write.name_list(names) == "N0, N1, N2, N3, N4, N5, and 2 colleagues"
    assert write.name_list(names[:7]) == "N0, N1, N2, N3, N4, N5, and 1 colleague"


def test_spoken_date():
    assert write.spoken_date("2024-10-14") == "October 14th, 2024"
    assert write.spoken_date("2024-11-02") == "November 2nd, 2024"
    assert write.spoken_date("") == ""


# -- papers: tests/test_write_paper.py holds the rest ----------------------------------------------

from llmfixtures import paper_document  # noqa: E402


@pytest.mark.slow
def test_real_model_journal_and_paper(tmp_path):
    """The bundled SmolLM2 behind the gate: everything grounded, numbers from the source, no repeats."""
    doc, source = journal_document(journal_path("end-of-batch.txt"))
    ctx = context(tmp_path)
    ctx.config.llm.engine = "auto"  # the default: CTranslate2 for the bundled model on the CPU
    script = write_stage.run(ctx, doc, source)
    assert_invariants(script, doc, source)
    paper, paper_source = paper_document(6)
    ctx.config.script.minutes = 2
    script = write_stage.run(ctx, paper, paper_source)
    assert_invariants(script, paper, paper_source)
    assert script.models["llm"].startswith("SmolLM2")


def test_lexicon_from_config_shapes_the_spoken_form(tmp_path):
    doc, source = journal_document(journal_path(ENTRIES[0]))
    (tmp_path / "words.txt").write_text("ARENA = arena\nNNFS = neural networks from scratch\n", encoding="utf-8")
    use_fake([HALLUCINATION])
    script = write_stage.run(context(tmp_path, script__lexicon="words.txt"), doc, source)
    spoken = " ".join(s.spoken for s in script.sentences)
    assert "arena and neural networks from scratch" in spoken
    use_fake([HALLUCINATION])
    from macaw.errors import ConfigError

    with pytest.raises(ConfigError, match="lexicon"):
        write_stage.run(context(tmp_path, script__lexicon="missing.txt"), doc, source)


def test_an_invented_sentence_is_replaced_by_what_the_prompt_was_about(tmp_path):
    doc, source = journal_document(journal_path(ENTRIES[0]))
    use_fake([HALLUCINATION])
    script = write_stage.run(context(tmp_path, journal__mode="summary"), doc, source)
    intro = [s for s in script.sentences if s.segment == write.INTRO and s.origin == "source"]
    assert [s.support for s in intro] == [write.central(None, body_sentences(doc))]


def test_the_host_does_not_speak_in_the_authors_first_person(tmp_path):
    doc, source = journal_document(journal_path(ENTRIES[0]))
    use_fake(["In this entry, I built an implementation of ResNet34 from scratch."])
    script = write_stage.run(context(tmp_path), doc, source)
    assert not [s for s in script.sentences if s.origin == "llm"]
    use_fake(["In this entry, the author built an implementation of ResNet34 from scratch."])
    script = write_stage.run(context(tmp_path), doc, source)
    assert len([s for s in script.sentences if s.origin == "llm"]) == 1
