"""The faithfulness gate: numbers, names and content words must come from the source."""

from __future__ import annotations

import pytest

from macaw.script.grounding import SourceIndex, similar, stem

SOURCE = """We train the Transformer on the WMT 2014 English-German dataset of about 4.5 million sentence pairs.

The big model reaches 28.4 BLEU, improving over the best previous results by more than 2 BLEU.
Training took 3.5 days on eight P100 GPUs. Vaswani and Shazeer designed the attention layers.

Self-attention relates different positions of a single sequence to compute a representation of it."""


@pytest.fixture(scope="module")
def index():
    return SourceIndex(SOURCE, extra="Attention Is All You Need\nAshish Vaswani\nNoam Shazeer")


@pytest.mark.parametrize("sentence", [
    "The big model reaches 28.4 BLEU.",
    "The authors train the Transformer on about 4.5 million sentence pairs.",
    "Training took 3.5 days on eight GPUs.",
    "Vaswani and Shazeer designed the attention layers.",
    "Self-attention relates positions of a sequence to compute a representation.",
])
def test_supported_sentences_pass(index, sentence):
    verdict = index.check(sentence)
    assert verdict.grounded, verdict.problems
    assert verdict.support in index.sentences


@pytest.mark.parametrize("sentence, problem", [
    ("The big model reaches 31.2 BLEU.", "number 31.2"),
    ("Training took 3.5 days on twelve GPUs.", "number 'twelve'"),
    ("The model was presented at NeurIPS by Vaswani.", "name 'NeurIPS'"),
    ("Hinton designed the attention layers with Bengio.", "name 'Bengio'"),
    ("Hinton and Bengio designed the attention layers.", "words not in the source: Bengio, Hinton"),
    ("The weather in the mountains was cold and rainy all week.", "words not in the source"),
    # Every word is in the source, but no passage says this: a salad fails.
    ("Eight attention pairs compute German days over single BLEU positions.", "no one passage"),
    ("It is what it is.", "says nothing"),
    # 4.5 is in the source, but far from what self-attention does.
    ("Self-attention relates 4.5 positions of a single sequence.", "not in the passage"),
    ("Self-attention does not relate positions of a sequence.", "negation"),
])
def test_unsupported_sentences_fail(index, sentence, problem):
    verdict = index.check(sentence)
    assert not verdict.grounded
    assert any(problem in p for p in verdict.problems), verdict.problems


def test_hedges_must_be_kept():
    index = SourceIndex("It remains unclear whether the adapters can be reused for a related language.")
    assert not index.check("The adapters can be reused for a related language.").grounded
    assert index.check("It is unclear whether the adapters can be reused for a related language.").grounded


def test_numbers_are_compared_as_values(index):
    assert index.check("They used about 4.50 million sentence pairs.").grounded
    assert not index.check("They used about 45 million sentence pairs.").grounded


def test_best_sentence_finds_the_passage(index):
    assert index.best_sentence("How long did training take on the GPUs?").startswith("Training took 3.5 days")
    first = index.best_sentence("BLEU results")
    assert index.best_sentence("BLEU results", exclude={first}) != first


def test_similar_and_stem():
    assert similar("The model reaches 28.4 BLEU.", "the model reaches 28.4 BLEU")
    assert not similar("The model reaches 28.4 BLEU.", "Training took 3.5 days.")
    assert stem("models") == stem("model") and stem("training") == stem("trained")


# -- the gate on the source sentences a model sentence claims ------------------------------------

from macaw.script.grounding import claim, judge  # noqa: E402

CLAIMED = ("On the WMT 2014 English-to-German task the big model reaches 28.4 BLEU, more than 2 BLEU above the best "
          "earlier ensembles.")


@pytest.mark.parametrize("sentence", [
    "The big model reaches 28.4 BLEU on the WMT 2014 English-to-German task.",
    "On English-to-German the big model reaches 28.4 BLEU.",
    "The authors report that the big model reaches 28.4 BLEU.",  # a narrator's words are allowed
])
def test_judge_accepts_what_its_sentence_says(sentence):
    verdict = judge(sentence, [CLAIMED])
    assert verdict.grounded, verdict.problems
    assert verdict.support == CLAIMED and verdict.score == 1.0


@pytest.mark.parametrize("sentence, problem", [
    ("The big model reaches 28.5 BLEU on English-to-German.", "number 28.5"),
    ("The big model reaches 28.4 BLEU on English-to-French.", "French"),
    ("The big model beats every earlier ensemble by 2 BLEU.", "beats"),
    ("The big model does not reach 28.4 BLEU.", "negation"),
    ("The big model reaches 28.4 BLEU with three times less training.", "number 'three'"),
])
def test_judge_refuses_a_word_its_sentence_lacks(sentence, problem):
    verdict = judge(sentence, [CLAIMED])
    assert not verdict.grounded
    assert any(problem in p for p in verdict.problems), verdict.problems


def test_judge_is_not_fooled_by_words_from_elsewhere_in_the_document():
    # Every word is somewhere in the document, but not in the sentence it claims: refused.
    document = SourceIndex(CLAIMED + "\n\nTraining took 3.5 days on eight GPUs.")
    sentence = "The big model reaches 28.4 BLEU after 3.5 days on eight GPUs."
    assert not judge(sentence, [CLAIMED]).grounded
    # Two adjacent sentences may be claimed together.
    assert claim(document, sentence).grounded
    far = SourceIndex(CLAIMED + "\n\nThe weather was cold. The food was good. Training took 3.5 days on eight GPUs.")
    assert not claim(far, sentence).grounded


def test_judge_orders_a_shortened_copy():
    assert judge("The big model reaches 28.4 BLEU.", [CLAIMED], ordered=True).grounded
    assert not judge("28.4 BLEU reaches the big model.", [CLAIMED], ordered=True).grounded


def test_judge_hears_the_math_as_said():
    from macaw.artifacts import MATH_CLOSE, MATH_OPEN

    source = f"The keys have dimension {MATH_OPEN}d_k{MATH_CLOSE} in every head."
    assert judge("The keys have dimension d sub k.", [source]).grounded
    assert not judge("The keys have dimension d sub v.", [source]).grounded


def test_gate_precision_on_sentences_the_bundled_model_wrote():
    """tests/fixtures/gate_labels*.jsonl: sentences SmolLM2-135M wrote on corpus papers, each labelled by
    reading it against its source sentences. The gate's verdicts are computed here, every run."""
    from bench.bench_write import LABELS, gate_figures

    figures = [gate_figures(path, log=False) for path in sorted(LABELS.parent.glob("gate_labels*.jsonl"))]
    sentences = sum(f["sentences"] for f in figures)
    accepted = sum(f["accepted"] for f in figures)
    faithful_accepted = sum(f["accepted_faithful"] for f in figures)
    assert sentences >= 60
    assert accepted >= 5, "a gate that refuses everything has no precision to speak of"
    assert faithful_accepted / accepted >= 0.95, [f["false_accepts"] for f in figures]
    assert faithful_accepted / sum(f["faithful"] for f in figures) >= 0.2  # recall: what the gate lets through
