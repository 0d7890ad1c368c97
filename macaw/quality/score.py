"""Scoring a hearing against the script: one word-level alignment gives the WER of the whole
narration and of each sentence (both sides reduced by the spoken-form normaliser, see
macaw/quality/align.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from macaw.artifacts import Script, Sentence
from macaw.engines import Word
from macaw.quality.align import NOT_ERRORS, Token, by_sentence, compare, heard_as_written, heard_tokens, reference_tokens, said, script_reference


@dataclass
class Scored:
    """One alignment of the whole script against a list of recognised words."""

    words: list[Word]
    ref: list[Token]
    heard: list[Token]
    sentences: list[Any]  # SentenceAlignment per script sentence
    word_sentence: list[int]  # for each recognised word, the sentence it was aligned to (-1: none)

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.sentences)

    @property
    def wer(self) -> float:
        return self.errors / len(self.ref) if self.ref else (0.0 if not self.heard else 1.0)


def score(script: Script, words: list[Word], ref: list[Token] | None = None, names: list[list[str]] | None = None) -> Scored:
    ref = ref if ref is not None else script_reference(script)
    texts = [t.text for t in ref]
    heard = heard_as_written(texts, heard_tokens(words))
    ops = compare(texts, [t.text for t in heard], names)
    sentences = by_sentence(ops, ref, len(script.sentences))
    word_sentence = [-1] * len(words)
    for i, s in enumerate(sentences):
        for op in s.ops:
            if op.hyp is not None and word_sentence[heard[op.hyp].owner] == -1:
                word_sentence[heard[op.hyp].owner] = i
    return Scored(words, ref, heard, sentences, word_sentence)


def sentence_wer(sentence: Sentence, words: list[Word], names: list[list[str]] | None = None) -> float:
    # The same tokens as the whole-script score: contractions expanded on both sides.
    ref = [t.text for t in reference_tokens([said(sentence)])]
    heard = [t.text for t in heard_as_written(ref, heard_tokens(words))]
    errors = sum(op.kind not in NOT_ERRORS for op in compare(ref, heard, names))
    return errors / len(ref) if ref else float(bool(heard))
