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
