"""The write stage on papers: the guided tour, spoken math, the gate on what the model writes,
the capable-model path through a replaying OpenAI-compatible server, show notes, and the corpus."""

from __future__ import annotations

import json
import re

import pytest

from macaw import engines
from macaw.artifacts import MATH_CLOSE, MATH_OPEN, Author, Document, Script, Section, Source
from macaw.script import writer as write
from macaw.stages import write as write_stage

from llmfixtures import context, paper_document, use_fake


@pytest.fixture(autouse=True)
def _unregister():
    yield
    engines.unregister("llm.fake")


# A hand-made paper as the LaTeX path writes it: math between the marks, a display equation,
# citations, figure and table pointers, a URL, an appendix, sentences that lean on the one before.
M0, M1 = MATH_OPEN, MATH_CLOSE
HANDMADE_SECTIONS = [
    Section("Introduction",
            "Recurrent networks read a sequence one token at a time, which makes training slow on long inputs [3]. "
            "This limits how far they can be parallelised across a batch of examples. "
            "Attention lets every position look at every other position in a single step (Bahdanau et al., 2015).\n\n"
            "Table 1 shows the cost of each layer type on a sequence of length 512."),
    Section("Model",
            f"Each attention head compares queries and keys of dimension {M0}d_k{M1} with a scaled dot product. "
            f"The scores are divided by {M0}\\sqrt{{d_k}}{M1} so that the softmax stays in a useful range. "
            f"We apply dropout with rate {M0}P_{{drop}} = 0.1{M1} to the output of each sub-layer (see Figure 2).\n\n"
            f"{M0}\\mathrm{{Attention}}(Q,K,V) = \\mathrm{{softmax}}(\\frac{{QK^T}}{{\\sqrt{{d_k}}}})V{M1}\n\n"
            f"A self-attention layer costs {M0}O(n^2 \\cdot d){M1} operations for a sequence of length {M0}n{M1}. "
            f"The kernel uses {M0}\\begin{{cases}} a \\\\ b \\end{{cases}}{M1} blocks in shared memory. "
            "Our code is available at https://github.com/example/attention-code."),
    Section("Experiments",
            "On the WMT 2014 English-to-German task the big model reaches 28.4 BLEU, more than 2 BLEU above the best "
            "earlier ensembles. "
            "Training took 3.5 days on eight GPUs, a small fraction of the cost of the best earlier models. "
            "These gains hold on English-to-French as well, where the model reaches 41.8 BLEU."),
    Section("Conclusion",
            "The authors plan to extend attention to inputs other than text, such as images, audio and video. "
            "It remains unclear whether restricted attention can handle very long inputs efficiently."),
    Section("Proofs of the bounds", "The appendix proves a bound on the attention entropy for every layer.", appendix=True),
]


def handmade_paper(authors: int = 3) -> tuple[Document, Source]:
    names = ["Ada Moreau", "Ben Okoro", "Chen Wei", "Dana Ruiz", "Eli Sato", "Fay Novak", "Gus Berg", "Hal Ivers",
             "Ida Lund", "Jon Park", "Kai Ross"][:authors]
    people = [Author(n) for n in names]
    title = "Attention for Sequence Transduction"
    abstract = ("Sequence transduction models are usually built from recurrent or convolutional networks. "
                "The authors propose a simpler network based only on attention. "
                "On translation it reaches 28.4 BLEU on English-to-German after 3.5 days of training.")
    doc = Document(title=title, authors=people, abstract=abstract, date="2017-06-12", sections=list(HANDMADE_SECTIONS),
                   origin_format="latex")
    source = Source(kind="arxiv", id="arxiv-1706.99999", title=title, authors=people, date="2017-06-12",
                    metadata={"arxiv_id": "1706.99999"})
    return doc, source


LONG_METHOD = ("\n\nThe encoder stacks six identical layers, and each of these layers has a multi-head self-attention "
               "sub-layer followed by a simple position-wise fully connected feed-forward network of width 2048 with "
               "a residual connection around it.")
INVENTED = "The authors won the Turing Award in 2031 for attention."


def shorten_reply(prompt: str) -> str:
    """A model that shortens by dropping the first clause, or makes something up for the results."""
    sentence = prompt.split("Sentence: ", 1)[-1].split("\n")[0]
    if "BLEU" in sentence or "days" in sentence:
        return INVENTED
    words = sentence.split()
    return " ".join(words[: max(6, len(words) * 2 // 3)]).rstrip(",;") + "."


def _spoken(script: Script) -> str:
    return " ".join(s.spoken for s in script.sentences)


def test_paper_is_a_guided_tour(tmp_path):
    from macaw.script.paper import ABOUT, PARTS

    doc, source = handmade_paper()
    use_fake(shorten_reply)
    script = write_stage.run(context(tmp_path, script__minutes=4), doc, source)
    segments = script.segments()
    assert segments[0] == write.INTRO and segments[1] == ABOUT and segments[-1] == write.CLOSING
    assert [s for s in segments if s in {p.name for p in PARTS}] == [p.name for p in PARTS if p.name in segments]
    assert len(segments) >= 6
    for segment in segments[1:-1]:  # each chapter opens with its signpost, then a sentence that stands alone
        first, second = [s for s in script.sentences if s.segment == segment][:2]
        assert first.origin == "template"
        assert not re.match(r"(This|These|It|Such|They|Table|Figure)\b", second.text), second.text
    text = " ".join(s.text for s in script.sentences)
    assert "Ada Moreau, Ben Okoro, and Chen Wei" in text and doc.title in text
    assert "machine-generated" in text
    assert "appendix proves" not in text  # appendices are not in the default episode
    assert "Table 1" not in text and "Figure 2" not in text and "[3]" not in text and "Bahdanau" not in text
    assert "https" not in text and "public on GitHub" in text


def test_math_is_spoken_and_display_equations_go_to_the_show_notes(tmp_path):
    doc, source = handmade_paper()
    use_fake(shorten_reply)
    script = write_stage.run(context(tmp_path, script__minutes=3), doc, source)
    text, spoken = " ".join(s.text for s in script.sentences), _spoken(script)
    assert "dimension d sub k" in text and "the square root of d sub k" in text
    assert "P drop equals 0.1" in text and "order n squared times d" in text
    assert "blue" in spoken and "B L E U" not in spoken  # BLEU said as the word listeners know
    assert "three point five days" in spoken
    assert not re.search(r"[\\{}^_$⟦⟧]", text + spoken)
    assert "cases" not in text  # unsayable math: the sentence is dropped whole
    assert len(script.equations) == 1 and "softmax" in script.equations[0]
    assert "Attention of Q" not in text and "Q K transpose" not in text  # the display equation is not read


def test_what_the_model_makes_up_is_refused_and_counted(tmp_path):
    doc, source = handmade_paper()
    doc.sections[1].text += LONG_METHOD
    doc.sections[2].text += (" The model with the largest number of attention heads and the widest feed-forward layers "
                             "reaches 28.4 BLEU, while the smaller base model trains much faster on the same hardware.")
    use_fake(shorten_reply)
    script = write_stage.run(context(tmp_path, script__minutes=3), doc, source)
    assert "Turing" not in script.to_markdown()
    assert script.refused >= 1 and any("Turing" in r["text"] for r in script.refusals)
    assert script.offered >= script.accepted + script.refused and script.offered >= 2
    assert script.accepted == sum(s.origin == "llm" for s in script.sentences) >= 1
    for s in script.sentences:
        if s.origin == "llm":
            assert s.grounded and s.support and s.support in doc.full_text()
    assert Script.from_dict(script.to_dict()) == script


def test_grounded_is_computed_not_set(tmp_path):
    from macaw.script.writer import Writer

    doc, source = handmade_paper()
    use_fake(shorten_reply)
    w = Writer(context(tmp_path), doc, source)
    support = "Training took 3.5 days on eight GPUs, a small fraction of the cost of the best earlier models."
    assert w.add("Training took 3.5 days on eight GPUs.", "Key results", 1, origin="llm", grounded=True, support=support)
    assert w.add("Training took 35 days on eight TPUs.", "Key results", 1, origin="llm", grounded=True, support=support)
    assert [s.grounded for s in w.sentences] == [True, False]


@pytest.mark.parametrize("count, said", [
    (8, "Ada Moreau, Ben Okoro, Chen Wei, Dana Ruiz, Eli Sato, Fay Novak, Gus Berg, and Hal Ivers"),
    (11, "Ada Moreau, Ben Okoro, Chen Wei, Dana Ruiz, Eli Sato, Fay Novak, and 5 colleagues"),
])
def test_authors_all_up_to_eight_else_six_and_colleagues(tmp_path, count, said):
    doc, source = handmade_paper(count)
    use_fake(shorten_reply)
    script = write_stage.run(context(tmp_path, script__minutes=2), doc, source)
    assert said in script.sentences[1].text


def test_paper_without_authors_or_arxiv_id(tmp_path):
    doc, source = handmade_paper()
    doc.authors = []
    source = Source(kind="pdf", id="pdf-abc123", title=doc.title, origin="paper.pdf")
    use_fake(shorten_reply)
    script = write_stage.run(context(tmp_path, script__minutes=2), doc, source)
    text = script.to_markdown()
    assert f'Today\'s paper is "{doc.title}".' in text and "arXiv" not in text


@pytest.mark.parametrize("minutes", [2, 8])
def test_paper_length_follows_minutes(tmp_path, minutes):
    doc, source = paper_document(40)
    use_fake(shorten_reply)
    script = write_stage.run(context(tmp_path, script__minutes=minutes), doc, source)
    words = sum(len(s.text.split()) for s in script.sentences)
    # The synthetic paper repeats itself, so long targets run out of new sentences first;
    # the corpus test holds real papers to +-20%.
    assert words <= minutes * 150 * 1.2
    assert words >= min(minutes * 150 * 0.8, 500)


def test_small_model_prompts_fit_a_small_context(tmp_path):
    doc, source = handmade_paper()
    doc.sections[1].text += LONG_METHOD
    fake = use_fake(shorten_reply)
    write_stage.run(context(tmp_path, llm__context_tokens=1024, script__minutes=4), doc, source)
    assert fake.prompts and max(len(p) for p in fake.prompts) < 4 * 1024
    doc, source = paper_document(40)
    fake = use_fake(shorten_reply)
    write_stage.run(context(tmp_path), doc, source)
    assert len(fake.prompts) <= 8  # a model call costs seconds on a laptop: two offers a chapter at most


def test_style_follows_the_model(tmp_path):
    from macaw.script.paper import style_of
    from macaw.script.writer import Writer

    doc, source = handmade_paper()
    use_fake(shorten_reply)
    assert style_of(Writer(context(tmp_path), doc, source)) == "shorten"
    assert style_of(Writer(context(tmp_path, llm__model="Qwen/Qwen2.5-7B-Instruct"), doc, source)) == "explain"
    assert style_of(Writer(context(tmp_path, script__style="explain"), doc, source)) == "explain"


# The capable path, driven through a real OpenAI-compatible server replaying scripted answers.
EXPLAINED = [
    {"when": "The problem", "answer": (
        "Recurrent networks read a sequence one token at a time, which makes training slow on long inputs. "
        "This limits how far they can be parallelised. "
        "Attention lets every position look at every other position in a single step. "
        "Recurrent networks were invented at Stanford in 1997. "
        "Attention looks at every position at once.")},
    {"when": "What the authors did", "answer": (
        "Each attention head compares queries and keys with a scaled dot product. "
        "The scores are divided by the square root of d sub k so that the softmax stays in a useful range. "
        "The authors apply dropout to the output of each sub-layer. "
        "The authors trained the model on 400 TPUs at Google.")},
    {"when": "Key results", "answer": (
        "On English-to-German the big model reaches 28.4 BLEU. "
        "It beats the best earlier ensembles by more than 2 BLEU. "
        "Training took 3.5 days on eight GPUs. "
        "The model reaches 35.0 BLEU on English-to-French. "
        "On English-to-French the model reaches 41.8 BLEU.")},
    {"when": "Limitations", "answer": (  # two of three pass: too few, the chapter is read from the paper
        "The authors plan to extend attention to images, audio and video. "
        "The authors will release a version for speech in 2018. "
        "It remains unclear whether restricted attention can handle very long inputs efficiently.")},
]


@pytest.fixture
def replay_server(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(EXPLAINED), encoding="utf-8")
    server = Path(__file__).with_name("openai_server.py")
    proc = subprocess.Popen([sys.executable, str(server), "replay", str(answers)], stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}/v1"
    finally:
        proc.kill()
        proc.wait()


def test_a_capable_model_explains_each_chapter_through_the_gate(tmp_path, replay_server):
    doc, source = handmade_paper()
    ctx = context(tmp_path, script__minutes=3)
    ctx.config.llm.engine, ctx.config.llm.base_url, ctx.config.llm.model = "openai", replay_server, "test-model"
    script = write_stage.run(ctx, doc, source)
    assert script.style == "explain"
    text = script.to_markdown()
    for invented in ("Stanford", "1997", "400 TPUs", "35.0", "2018"):
        assert invented not in text
        assert any(invented in r["text"] for r in script.refusals), invented
    # A chapter does not open with "This ..." or "It ...": refused as an opener.
    assert any(r["text"].startswith("It beats") for r in script.refusals)
    model = [s for s in script.sentences if s.origin == "llm"]
    assert len(model) == 10 and all(s.grounded for s in model)
    assert "The scores are divided by the square root of d sub k so that the softmax stays in a useful range." in text
    limits = [s for s in script.sentences if s.segment == "Limitations and open questions"]
    assert limits and all(s.origin in ("source", "template") for s in limits)
    assert script.offered == 17 and script.accepted == len(model)
    assert script.refused == 5  # Stanford in 1997, 400 TPUs, 35.0, 2018, and "It beats" as an opener


def test_paper_show_notes_say_what_the_model_wrote(tmp_path):
    from macaw.artifacts import Chapter, Manifest
    from macaw.publish.shownotes import render_shownotes_html, render_shownotes_text

    doc, source = handmade_paper(11)
    doc.sections[1].text += LONG_METHOD
    use_fake(shorten_reply)
    script = write_stage.run(context(tmp_path, script__minutes=4), doc, source)
    assert script.accepted >= 1
    manifest = Manifest(id=source.id, guid="g", title=doc.title, kind="arxiv", authors=doc.authors, date=doc.date,
                        summary=doc.abstract, chapters=[Chapter("Introduction", 0.0), Chapter("Key results", 75.0)],
                        quality={"wer": 0.02, "model_sentences_offered": script.offered,
                                 "model_sentences_accepted": script.accepted, "model_sentences_refused": script.refused},
                        models={"llm": "SmolLM2-135M-Instruct", "tts": "piper en_US-joe-medium", "asr": "tiny.en"},
                        links={"abs": "https://arxiv.org/abs/1706.99999", "pdf": "https://arxiv.org/pdf/1706.99999"},
                        metadata={"arxiv_id": "1706.99999", "script": script.notes()})
    html = render_shownotes_html(manifest, "Macaw")
    for author in doc.authors:  # every author, not six and "colleagues"
        assert author.name in html
    assert 'href="https://arxiv.org/abs/1706.99999"' in html and 'href="https://arxiv.org/pdf/1706.99999"' in html
    assert "2017-06-12" in html and "Sequence transduction models are usually built" in html
    assert "1:15 Key results" in html
    model = [s.text for s in script.sentences if s.origin == "llm"]
    assert model and all(m in html for m in model)
    plural = "" if script.offered == 1 else "s"
    assert (f"offered {script.offered} sentence{plural}; the faithfulness gate accepted {script.accepted} "
            f"and refused {script.refused}") in html
    assert "SmolLM2-135M-Instruct (llm)" in html and "machine-generated" in html
    assert "\\mathrm{Attention}" in html  # the display equation, kept for the reader
    text = render_shownotes_text(manifest, "Macaw")
    assert "What the model wrote" in text and "machine-generated" in text


# -- the corpus: write only, on every real paper the extract stage can read today -------------

def _corpus_papers() -> list[str]:
    from bench import bench_paper_episodes

    papers = bench_paper_episodes.corpus()
    return sorted(p.name for p in papers.iterdir() if (p / "paper.pdf").is_file()) if papers.is_dir() else []


def _write_corpus_paper(tmp_path, pid: str) -> tuple[Script, dict]:
    from bench import bench_paper_episodes
    from macaw import build
    from macaw.artifacts import Document, Source

    papers = bench_paper_episodes.corpus()
    facts = json.loads((papers / pid / "facts.json").read_text(encoding="utf-8"))
    from macaw.errors import ExtractError

    try:
        outcome = build(pdf=str(papers / pid / "paper.pdf"), out=tmp_path, until="extract")[0]
    except ExtractError as exc:
        pytest.skip(f"{pid} does not extract yet ({exc}): the papers issue (#14)")
    if outcome.error is not None:
        pytest.skip(f"{pid} does not extract yet ({outcome.error}): the papers issue (#14)")
    doc, source = Document.load(outcome.folder), Source.load(outcome.folder)
    use_fake(shorten_reply)
    return write_stage.run(context(tmp_path), doc, source), facts


# Known short from the PDF alone: a 45-page pure-maths paper whose text layer leaves most sentences
# with math that cannot be said (about 1000 words fit to hear on the PDF branch's document).
SHORT_FROM_PDF = {"1704.00452": 0.28}  # pure maths: 367 spoken words since "Let are a lot of solutions" (its math lost) and the sentence leaning on it are dropped; 410 since its funding lines (4 sentences, no heading) are dropped as thanks; 478 before, 586 once the PDF path marked inline math (sentences with math that cannot be said are left out)


def _assert_clean(script: Script, facts: dict, pid: str = "") -> None:
    from bench import bench_paper_episodes

    problems = bench_paper_episodes.spoken_text_problems(script)
    assert problems == {"fragment": [], "debris": [], "raw latex": [], "url": []}
    assert script.segments()[0] == write.INTRO and script.segments()[-1] == write.CLOSING
    assert len(script.segments()) >= 5
    if (facts.get("pages") or 0) >= 8:
        words = sum(len(s.spoken.split()) for s in script.sentences)  # what the voice says: "175B" is three words
        assert SHORT_FROM_PDF.get(pid, 0.8) * 8 * 150 <= words <= 1.2 * 8 * 150, words


@pytest.mark.parametrize("pid", ["pdf-lncs-wang-2008", "1503.02531"])
def test_corpus_paper_spoken_text_is_clean(tmp_path, pid):
    if pid not in _corpus_papers():
        pytest.skip("../shared/corpus/papers is not beside the checkout")
    _assert_clean(*_write_corpus_paper(tmp_path, pid), pid)


@pytest.mark.slow
@pytest.mark.parametrize("pid", _corpus_papers() or ["(no corpus)"])
def test_every_corpus_paper_spoken_text_is_clean(tmp_path, pid):
    if pid == "(no corpus)":
        pytest.skip("../shared/corpus/papers is not beside the checkout")
    _assert_clean(*_write_corpus_paper(tmp_path, pid), pid)


@pytest.mark.parametrize("sentence, heard", [
    ("As shown in Figure 3, the model converges within ten epochs [12].", "The model converges within ten epochs."),
    ("The model converges within ten epochs (Smith et al., 2019; Lee, 2020).", "The model converges within ten epochs."),
    ("The model converges within ten epochs (see Table 2).", "The model converges within ten epochs."),
    ("Our implementation is available at https://github.com/a/b.", "Our implementation is public on GitHub."),
    ("In this section, we describe how the encoder reads the input.", "We describe how the encoder reads the input."),
    ("The dataset is described at https://example.org/data in full detail.", None),  # a URL no one can use by ear
    ("arXiv:1706.03762v5 [cs.CL] 6 Dec 2017 Attention is all you need.", None),  # the margin stamp
    ("Ivan Rodriguez Montoya∗ and Tonatiuh Matos Chassin Departamento de Física, Universidad de Guanajuato.", None),
    ("ByteNet 23.75 24.1 1.0 2.3 Transformer 28.4 41.8 3.3 2.1 Model.", None),  # a table row
    ("Table 2: Results on the WMT 2014 translation benchmarks for all models.", None),  # a caption
    ("Table 2 shows that the big model is the best on both language pairs.", None),  # about what a listener cannot see
    ("whereas a recurrent layer requires a sequential pass over the whole input.", None),  # starts mid-sentence
    ("The big model outperforms the best previously reported models by more than.", None),  # ends on "than"
    ("We thank the anonymous reviewers for their many helpful comments on the draft.", None),  # acknowledgements
    # 1704.00452's funding lines, as its PDF gives them (no heading says "Acknowledgements")
    ("T.H. is supported by Grant-in-Aid for Scientific Research 15K04954 from the Japan Society for the Promotion of Science.", None),
    ("The research of both authors is partially supported by GNFM research group of the Instituto Nazionale di Alta Matematica.", None),
    ("Most part of this work was done while T.H. stayed at Università degli Studi della Campania Luigi Vanvitelli.", None),
    ("The claim is supported by the experiments in the second part.", None),  # the old rule: "supported by the" is thanks
    ("The bound is supported by numerical evidence for every grid we tried.", "The bound is supported by numerical evidence for every grid we tried."),
    ("The results are given in Section 5 for every one of the tasks.", None),  # a section pointer
    # Real corpus sentences (0807.3577, 1503.02531, 2304.10117, 1803.02999) as the PDF path gives them:
    ("Anti-Copernican models which assume a local void also fit cosmological observations (see reference 7 for a review).",
     "Anti-Copernican models which assume a local void also fit cosmological observations."),
    ("One approach is based on exact solutions of the field equations—see for example.",
     "One approach is based on exact solutions of the field equations."),
    ("Ensemble training is yet a third type of parallelism that can be wrapped JFT 1: Tea party; Easter; Bridal shower; "
     "Baby shower; Easter Bunny;... around the other two types.", None),  # a table's list run into the prose
    ("IMRPhenomXPHM is a spin-precessing IMR waveform model that takes into account subdominant modes.", None),
    ("For their experiments, the authors used the same CNN architectures as Finn et al..",
     "For their experiments, the authors used the same CNN architectures as Finn and colleagues."),
    ("When we take the expectation of we are left with only two kinds of terms.", None),  # the math between was lost
    # 1704.00452: "Let 1 < q < ∞. Given f ..., there are a lot of solutions" with its math lost
    ("Let are a lot of solutions, some of which were found by many authors.", None),
    ("Let the domain be bounded, and let us assume it is smooth.", "Let the domain be bounded, and let us assume it is smooth."),
    ("The remainder term is estimated in the same way, see (3.12) and (3.13) for the details.", None),
    # 1111.2011 (a physics paper: Roman section numbers, equations numbered in the running text)
    ("In Section III we study the critical point in the large N limit and determine the critical dimensions.", None),
    ("Together, (17)–(19) form a closed set of self-consistent equations describing a single node on the lattice.", None),
    ("Investigating the full effective action (11) numerically for finite z may allow a more complete description.",
     "Investigating the full effective action numerically for finite z may allow a more complete description."),
    ("Such a divergence would correspond to uniform order, but such order is forbidden by the constraint (4).",
     "Such a divergence would correspond to uniform order, but such order is forbidden by the constraint."),
    ("The integration is performed explicitly, leaving a single node described by the effective action (11). to a single node.", None),
    # 1910.12607, 1911.08265: a table's cells run into the sentence after a full stop
    ("The baseline word error rate using log Mel spectrograms as input features is 18.3. training and transfer learning. log.", None),
    ("MuZero sets a new state of the art in both settings. aHyper parameters were tuned per game.", None),
    # 2205.01068: a table's rows, each label with its cells glued on, run into the prose
    ("Zero-shot.628.667 One-shot.616.713 Few-shot (binary).354.759 Few-shot (multiclass).672.812 and few-shot binary cases, "
     "the model is presented with text and asked to consider whether the text is racist or sexist.", None),
    ("The model runs on Python 3.11.2 and reaches an accuracy of 0.628 on the held-out set.",
     "The model runs on Python 3.11.2 and reaches an accuracy of 0.628 on the held-out set."),
    ("Both agents were trained as in Silver et al. and compared over the same set of games.",
     "Both agents were trained as in Silver and colleagues and compared over the same set of games."),
    # 1601.02376: a number in brackets after any other word may be a value, and stays
    ("The models are fed these feature data and the user click (1) and non click (0) feedback as the labels.",
     "The models are fed these feature data and the user click (1) and non click (0) feedback as the labels."),
])
def test_a_sentence_is_made_fit_to_hear_or_dropped(sentence, heard):
    from macaw.script.listening import listenable

    assert listenable(sentence) == heard


def test_the_real_latex_source_is_spoken_clean(tmp_path):
    """2012.00127's own LaTeX (../shared): its 500-odd math spans said in words or their sentences dropped."""
    from latexfixtures import SHARED, tar_gz

    from bench import bench_paper_episodes
    from macaw.documents import latex

    if not (SHARED / "2012.00127" / "source").is_dir():
        pytest.skip("../shared/corpus/papers is not beside the checkout")
    (tmp_path / "source.tar.gz").write_bytes(tar_gz(SHARED / "2012.00127" / "source"))
    source = Source(kind="arxiv", id="arxiv-2012.00127", title="The Variable-Processor Cup Game",
                    authors=[Author("William Kuszmaul"), Author("Alek Westover")], metadata={"arxiv_id": "2012.00127"})
    doc = latex.to_document(latex.run_latex(tmp_path / "source.tar.gz", tmp_path), source)
    assert doc.origin_format == "latex"
    use_fake(shorten_reply)
    script = write_stage.run(context(tmp_path), doc, source)
    assert bench_paper_episodes.spoken_text_problems(script) == {"fragment": [], "debris": [], "raw latex": [], "url": []}
    text = " ".join(s.text for s in script.sentences)
    assert " sub " in text and "Theorem 3" not in text
    assert len(script.equations) >= 20  # display equations: in the show notes, not in the audio
    assert 0.8 * 1200 <= sum(len(s.spoken.split()) for s in script.sentences) <= 1.2 * 1200


def test_acronyms_hyphens_and_compounds_said_as_a_listener_hears_them():
    from macaw.script.listening import (defined_acronyms, expand_acronyms, rejoin_hyphens,
                                        spaced_compounds, vocabulary)
    from macaw.script.spoken import pronounceable

    # Said as words by the English syllable shape; letters otherwise (a rule, not a list).
    assert [a for a in "MAML FOMAML WIMP NASA ZEPLIN DNN SGD NCE MNIST LUX GPU WER".split() if pronounceable(a)] == \
        ["MAML", "FOMAML", "WIMP", "NASA", "ZEPLIN"]
    text = ("The authors investigate deep neural networks (DNNs) for ads. Noise Contrastive Estimation (NCE) is fast. "
            "The LUX detector (TPC) is large.")
    table = defined_acronyms(text)
    assert table == {"DNN": "deep neural network", "NCE": "Noise Contrastive Estimation"}
    assert expand_acronyms("A DNN beats NCE, and DNNs (NCE) win.", table) == \
        "A deep neural network beats Noise Contrastive Estimation, and deep neural networks win."
    words = vocabulary("introduced introduced first-order firstorder order in-troduced fine-tuned")
    assert rejoin_hyphens("It was in-troduced, first-order and fine-tuned.", words) == \
        "It was introduced, first-order and fine-tuned."
    assert spaced_compounds("first-order meta-learning with A-I and T-APC") == "first order meta learning with A-I and T-APC"


def test_author_year_citations_in_either_bracket_and_shouted_titles():
    from macaw.script.listening import strip_references, unshouted

    # STaR cites in square brackets, PonderNet with a two-word surname; both as a listener would not hear them
    assert strip_references("It helps language models [Rajani et al., 2019, Shwartz et al., 2020, Marasović et al., 2021].") == \
        "It helps language models."
    assert strip_references("Others skip inputs (Yu et al., 2017; Campos Camunez et al., 2018).") == "Others skip inputs."
    assert strip_references("As Finn et al. (2017) showed, it works.") == "As Finn et al. showed, it works."
    # years listed and lettered, labelled items, a name given to the work (PonderNet, 2204.10628, the LNCS paper)
    assert strip_references("It is retrieved (Petroni et al., 2019, 2020; Roberts et al., 2020) and works (De Cao et al., 2021b,a, 2020).") == \
        "It is retrieved and works."
    assert strip_references("Entailment (RTE-1 – Dagan et al., 2006; RTE-2 – Bar-Haim et al., 2006) helps.") == "Entailment helps."
    assert strip_references("Universal transformer (Dehghani et al., 2018, UT) is close.") == "Universal transformer is close."
    assert strip_references("The model (GPT-3, 175B) is big.") == "The model (GPT-3, 175B) is big."
    # 2309.11087's title is set in capitals: said in title case, its acronyms kept
    assert unshouted("EMBED-SEARCH-ALIGN: DNA SEQUENCE ALIGNMENT USING TRANSFORMER MODELS") == \
        "Embed-Search-Align: DNA Sequence Alignment Using Transformer Models"
    assert unshouted("GENERATIVE PRE-TRAINING FOR SPEECH") == "Generative Pre-Training for Speech"
    assert unshouted("BERT: Pre-training of Deep Bidirectional Transformers") == "BERT: Pre-training of Deep Bidirectional Transformers"


@pytest.mark.parametrize("written, said", [
    ("We propose a new model.", "The authors propose a new model."),
    # 0807.3577 and 1704.00452: "Let us" is the authors at work, not "Let them"
    ("Let us first focus on supernova observations.", "The authors first focus on supernova observations."),
    ("Now let us examine the volume deceleration parameter.", "Now the authors examine the volume deceleration parameter."),
    ("Let's assume the system is ordered.", "The authors assume the system is ordered."),
    ("This lets us compare the two.", "This lets them compare the two."),
])
def test_the_authors_we_is_reported_in_the_third_person(written, said):
    from macaw.script.paper import third_person

    assert third_person(written) == said
