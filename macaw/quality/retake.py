"""Retakes: a sentence the voice fumbled is spoken again another way, and the better take is
spliced into check's own copy of the narration (speak's narration.wav is never rewritten).

A sentence above `quality.sentence_max_wer` (or above `quality.rescue_wer`, when the episode
would fail the gate) is synthesised again with an alternative spoken form (a pause around the
troublesome words, spelled acronyms and expanded symbols, the plain spoken form of the written
text); each round's takes are heard in one transcription, and a take replaces the old one when
what was heard in it scores better.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from macaw.artifacts import Script, Sentence, SpokenSentence
from macaw.engines import Word, supports
from macaw.quality.listen import hear_clips
from macaw.quality.score import Scored, sentence_wer
from macaw.script.spoken import pronounceable, spell_acronyms, to_spoken, wer_words
from macaw.stages.context import StageContext
from macaw.stages.speak import render, spoken_text

TIMING_SLACK = 1.0  # seconds a recognised word may stray outside its sentence's audio

# A slower take of the same words, as a narrator would say a line again more carefully: at
# SLOW_SPEED of the voice's pace, tried at position SLOW_AT among a sentence's retakes (None: never).
SLOW_SPEED = 0.85
SLOW_AT: int | None = 1
# Tries for a sentence retaken only by a rescue (under sentence_max_wer: one or two slips) while
# the episode, with its best takes so far, would pass the gate; above the gate, and for a mumbled
# sentence, max_retries (None: max_retries always). On the saved takes of 3 corpus papers
# (bench/check_ab.py, one run each) 2 tries ended at 3.87%, 2.96%, 1.85% for 64, 59, 44 s of
# check against 3.28%, 2.80%, 1.77% for 78, 85, 43 s with 3: the third round of slips is where a
# long paper's build ran past a quarter of its audio's length, for under 0.6 points.
RESCUE_TRIES: int | None = 2


@dataclass(frozen=True)
class Line:
    """One way to say a sentence: the words, and the pace relative to the voice's own."""

    text: str
    speed: float = 1.0

    def describe(self) -> str:
        return repr(self.text) + (f" at {self.speed:g}x pace" if self.speed != 1.0 else "")


def alternatives(sentence: Sentence, trouble: set[str]) -> list[str]:
    """Other ways to say a sentence, in the order worth trying.

    When a few words went wrong, a short pause around them comes first (Piper pauses at commas);
    then acronyms spelled letter by letter with hyphens said as breaks, then the normaliser's
    own reading of the written text where the script has no spoken form. When most of the sentence was lost, the problem is the take,
    not a term: a fresh take of the same words comes first (Piper's output varies run to run).
    """
    current = spoken_text(sentence)
    n_words = max(1, len(wer_words(sentence.text)))
    widespread = len(trouble) > max(3, n_words // 3)
    out: list[str] = []
    if trouble and not widespread:
        marked = []
        for token in current.split():
            core = token.strip(",.;:!?")
            if core and set(wer_words(core)) & trouble:
                marked.append(f", {token.rstrip(',')},")
            else:
                marked.append(token)
        text = re.sub(r",\s*,", ",", " ".join(marked))
        out.append(re.sub(r"\s+,", ",", text).strip(", "))
    # Built on the spoken form, not the written text: the paper's lexicon ("BLEU" said "blue"),
    # expanded acronyms and spaced compounds stay, as they stay in the reference check scores against.
    spelled = spell_acronyms(current)  # NNFS letter by letter; ARENA, NASA stay words
    # A short acronym the first take said as a word ("ASGI" as "Asgi", heard "asv" three times) is
    # spelled here when it is among the trouble: its letters are heard as the same token ("asgi").
    # Five letters and more (ARENA, SCUBA) are words to a listener and stay words.
    for acronym in set(re.findall(r"\b[A-Z]{3,4}\b", sentence.text)):
        if pronounceable(acronym) and set(wer_words(acronym)) & trouble:
            spelled = re.sub(rf"\b{acronym.capitalize()}\b", " ".join(acronym), spelled)  # as spoken.py says it
    out.append(re.sub(r"(?<=\w)-(?=\w)", " ", to_spoken(spelled)))
    if not sentence.spoken.strip():
        out.append(to_spoken(sentence.text))
    seen: set[str] = set() if widespread else {current}
    unique = [current] if widespread else []
    for text in out:
        text = re.sub(r"\s+", " ", text).strip()
        if text and text not in seen and text not in unique:
            seen.add(text)
            unique.append(text)
    if not widespread:
        unique.append(current)  # a fresh take of the same words, last
    return unique


Take = tuple[np.ndarray, Line, list[Word]]  # the audio, how it was said, what the recogniser heard in it


def lines(sentence: Sentence, trouble: set[str], slow: bool) -> list[Line]:
    """`alternatives` as Lines, with a slower take of the current words at SLOW_AT when the voice
    takes a pace per call (`slow`)."""
    out = [Line(text) for text in alternatives(sentence, trouble)]
    if slow and SLOW_AT is not None:
        out.insert(min(SLOW_AT, len(out)), Line(spoken_text(sentence), SLOW_SPEED))
    return out


def retake_options(script: Script, scored: Scored, bad: list[int], limit: int, slow: bool = False) -> dict[int, list[Line]]:
    return {i: lines(script.sentences[i], {scored.ref[op.ref].text for op in scored.sentences[i].ops if op.ref is not None and op.kind != "ok"}, slow)[:limit]
            for i in bad}


def render_round(tts: Any, options: dict[int, list[Line]], todo: list[int], tries: dict[int, int]) -> dict[int, tuple[np.ndarray, Line]]:
    """Each sentence in `todo` spoken its next way (the one after its `tries` so far)."""
    clips: dict[int, tuple[np.ndarray, Line]] = {}
    for i in todo:
        line = options[i][tries.get(i, 0)]
        clip = render(tts, line.text, line.speed)
        if clip.size:
            clips[i] = (clip, line)
    return clips


def retry(ctx: StageContext, script: Script, scored: Scored, bad: list[int], names: list[list[str]], careful: bool = False,
           first: tuple[dict[int, list[Line]], dict[int, tuple[np.ndarray, Line]], list[list[Word]]] | None = None,
           threshold: float | None = None, enough: float | None = None) -> tuple[dict[int, int], dict[int, Take]]:
    """Try other spoken forms for each bad sentence; keep the better takes.

    Round by round: every sentence still above `threshold` (default `quality.sentence_max_wer`)
    gets its next alternative, and all of a round's takes are heard in one transcription.
    `first`: a first take of some of them, already spoken and heard (with the second listen, in
    the same transcription), as (options, clips, heard).
    `enough`: a rescue (threshold under `sentence_max_wer`) stops once the episode, with the best
    takes so far, would be at or under this WER; a sentence above `sentence_max_wer` still gets
    all its tries, and a slip `RESCUE_TRIES` while the episode would pass the gate. Most of a
    rescue's later rounds re-speak sentences whose one or two errors are the recogniser's own (a
    name, a term), and they cost as much as the first.
    """
    limit = ctx.config.quality.max_retries
    threshold = ctx.config.quality.sentence_max_wer if threshold is None else threshold
    tts = ctx.tts()
    sr = int(tts.sample_rate)
    kept: dict[int, Take] = {}
    options = dict(first[0]) if first else {}
    tries: dict[int, int] = {i: 1 for i in options if options[i]}  # the first round's takes
    options.update(retake_options(script, scored, [i for i in bad if i not in options], limit, supports(tts, "speed")))
    best = {i: scored.sentences[i].wer for i in bad}
    clips, heard = (first[1], first[2]) if first else ({}, [])
    mumbled, gate = ctx.config.quality.sentence_max_wer, ctx.config.quality.max_wer
    total = max(1, len(scored.ref))
    while True:
        for (i, (clip, line)), words in zip(clips.items(), heard):
            wer = sentence_wer(script.sentences[i], words, names)
            ctx.log(f"check: sentence {i + 1} retry {tries[i]}: WER {best[i]:.0%} -> {wer:.0%} with {line.describe()}")
            if wer < best[i]:
                best[i], kept[i] = wer, (clip, line, words)
        # The episode's WER if the best takes so far were spliced in (each sentence's WER is over its own words).
        projected = (scored.errors - sum(scored.sentences[i].errors - best[i] * scored.sentences[i].words for i in kept)) / total
        rescuing = enough is None or projected > enough
        slips = limit if RESCUE_TRIES is None or projected > gate else RESCUE_TRIES
        todo = [i for i in bad if tries.get(i, 0) < len(options[i]) and (best[i] > mumbled or (
            rescuing and best[i] > threshold and tries.get(i, 0) < slips))]
        if not todo:
            break
        clips = render_round(tts, options, todo, tries)
        for i in todo:
            tries[i] = tries.get(i, 0) + 1
        heard = hear_clips(ctx, [clip for clip, _ in clips.values()], sr, careful)
    return tries, kept


def splice(audio: np.ndarray, sr: int, spans: list[SpokenSentence], takes: dict[int, Take]) -> tuple[np.ndarray, list[SpokenSentence]]:
    """Put new takes in place of old ones; every later sentence moves by the change in length."""
    pieces: list[np.ndarray] = []
    new_spans: list[SpokenSentence] = []
    cursor = 0  # samples of the old audio consumed
    shift = 0  # samples the new audio runs ahead of the old
    for span in spans:
        start, end = int(round(span.start * sr)), int(round(span.end * sr))
        if span.index in takes:
            clip = takes[span.index][0]
            pieces += [audio[cursor:start], clip]
            new_spans.append(SpokenSentence(span.index, (start + shift) / sr, (start + shift + len(clip)) / sr))
            shift += len(clip) - (end - start)
            cursor = end
        else:
            new_spans.append(SpokenSentence(span.index, span.start + shift / sr, span.end + shift / sr))
    pieces.append(audio[cursor:])
    return np.concatenate(pieces), new_spans


def respliced_words(words: list[Word], old: list[SpokenSentence], new: list[SpokenSentence], takes: dict[int, Take],
                     word_sentence: list[int] | None = None) -> list[Word]:
    """What the recogniser hears in the spliced narration, without hearing all of it again.

    Words heard inside a replaced sentence give way to what was heard in its new take (the same
    samples, heard on their own), and so do the words the alignment gave to that sentence that
    the recogniser timed just past its audio (`word_sentence`, within TIMING_SLACK): a last word
    stretched into the pause would otherwise be heard twice. Every other word moves with the
    audio around it.
    """
    replaced = [(o.start, o.end) for o in old if o.index in takes]
    near = {o.index: (o.start - TIMING_SLACK, o.end + TIMING_SLACK) for o in old if o.index in takes}
    shifts = sorted((o.end, (n.end - n.start) - (o.end - o.start)) for o, n in zip(old, new) if o.index in takes)
    out: list[Word] = []
    for k, w in enumerate(words):
        middle = (w.start + w.end) / 2
        if any(start <= middle <= end for start, end in replaced):
            continue
        owner = word_sentence[k] if word_sentence is not None and k < len(word_sentence) else -1
        if owner in near and near[owner][0] <= middle <= near[owner][1]:
            continue
        shift = sum(delta for end, delta in shifts if end <= middle)
        out.append(Word(w.text, w.start + shift, w.end + shift, w.probability))
    starts = {n.index: n.start for n in new}
    for index, (_, _, heard) in takes.items():
        out += [Word(w.text, w.start + starts[index], w.end + starts[index], w.probability) for w in heard]
    return sorted(out, key=lambda w: w.start)
