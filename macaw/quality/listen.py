"""Listening: the recogniser hears the narration in windows cut in the pauses, and hears the
stretches it doubted a second time, with beam search.

The first listen is greedy (beam 1), over the whole narration in windows cut in the pauses
between sentences (`cut_windows`), which the engine decodes side by side. The second listen
hears every stretch the recogniser itself doubted (a word it gave a probability below
RELISTEN_DOUBT, or a script word it did not hear at all) again, whole, with beam search, all in
one batched transcription; of the two hearings of a sentence, the one the recogniser is surer
of stands (PREFER), whatever it scores: the recogniser is never told what it should hear, and no
hearing is chosen for agreeing with the script.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from macaw.artifacts import Script, SpokenSentence
from macaw.audio import read_audio, silence, write_wav
from macaw.engines import Word, supports
from macaw.quality.score import Scored, score
from macaw.stages.context import StageContext

CLIP_PAD = 0.3  # silence around a sentence heard on its own, so its first word is not clipped


# The second listen: beam search where the first pass was greedy. Hearing the stretch on its own
# does most of the good; beams 2, 3 and 5 measured alike in WER (3.8-4.1% over 8 takes, greedy
# 4.3%), and beam 2 cost least of them (bench/check_ab.py).
CAREFUL_BEAM = 2


# The second listen hears each doubted sentence whole (None), not a margin around the doubted
# words: its clip starts and ends in the pauses around the sentence, so no word is cut in two and
# no word is heard twice or lost where the two hearings are spliced. With a 0.5 s margin, spliced
# inside speech, 2024-10-14-normalization.txt went 5.8% -> 9.9% on the second listen ("also also",
# "is is", "come i"); heard whole, 5.5% (quiet machine, one run each). A margin in seconds is still
# accepted (bench/check_ab.py compares them).
RELISTEN_MARGIN: float | None = None  # seconds heard again either side of an error (None: the whole sentence)


RELISTEN_DOUBT = 0.7  # a word heard with a probability at or above this is not heard again
# On papers this doubts most sentences: over the 25 corpus papers' narrations the second listen
# heard 314 s again (the first listen took 338 s) and took the errors from 1,662 to 1,596 of
# 30,037 words (5.53% -> 5.31%, before retakes; bench/relisten_value.py on the builds of a bench run).
# A lower threshold would hear less; its effect on the final WER was not measured.

# Which hearing of a doubted sentence stands: "second" (always the careful one) or "confident"
# (the one whose words the recogniser gave the higher mean log probability; `confidence`). The
# recogniser's own certainty decides, never agreement with the script. On the saved takes of 5
# failing real entries (2,298 words; bench/check_ab.py, 1 run each, rescue retakes on): 3.87%
# with "second", 3.35% with "confident" (better on 4 of the 5).
PREFER = "confident"


def takes_option(asr: Any, option: str) -> bool:
    """Whether the engine declares `option` (WhisperASR declares beam_size and windows)."""
    return supports(asr, option)


def can_listen_carefully(asr: Any) -> bool:
    """Whether the engine takes a per-call beam (WhisperASR does; other engines hear once)."""
    return takes_option(asr, "beam_size")


# The recogniser hears 30 s at a time. Check knows where every sentence lies, so it cuts the audio
# into windows itself, in the pauses, and an engine that takes `windows` hears them side by side.
WINDOW = 29.0


WINDOWED = True  # False: the engine finds its own windows (bench/check_ab.py compares the two)


def cut_windows(stretches: list[tuple[float, float]], total: float, limit: float | None = None) -> list[tuple[float, float]]:
    """Windows that cover [0, total] without a gap, each cut in the middle of a pause between two
    stretches of speech and at most `limit` (default WINDOW) seconds long, unless one stretch
    alone is longer."""
    limit = WINDOW if limit is None else limit
    stretches = sorted(stretches)
    cuts = [(stretches[k][1] + stretches[k + 1][0]) / 2 for k in range(len(stretches) - 1)] + [total]
    windows: list[tuple[float, float]] = []
    start, end = 0.0, None
    for cut in cuts:
        if end is not None and cut - start > limit:
            windows.append((start, end))
            start = end
        end = cut
    windows.append((start, end if end is not None else total))
    return windows


def transcribe(asr: Any, path: Path, stretches: list[tuple[float, float]], total: float, careful: bool = False) -> list[Word]:
    """Hear a file whose speech lies in `stretches`: in windows cut in the pauses when the engine
    takes them, with beam search when `careful`."""
    options: dict[str, Any] = {}
    if careful:
        options["beam_size"] = CAREFUL_BEAM
    if WINDOWED and takes_option(asr, "windows"):
        options["windows"] = cut_windows(stretches, total)
    return asr.transcribe(path, **options).words


def split_by_time(words: list[Word], bounds: list[tuple[float, float]]) -> list[list[Word]]:
    """Give each recognised word to the clip it lies in (by its middle; in a gap, the nearer
    clip), with times from that clip's start."""
    out: list[list[Word]] = [[] for _ in bounds]
    if not bounds:
        return out
    for w in words:
        middle = (w.start + w.end) / 2
        k = min(range(len(bounds)), key=lambda j: max(bounds[j][0] - middle, middle - bounds[j][1], 0.0))
        start = bounds[k][0]
        out[k].append(Word(w.text, max(0.0, w.start - start), max(0.0, w.end - start), w.probability))
    return out


def hear_clips(ctx: StageContext, clips: list[np.ndarray], sr: int, careful: bool = False) -> list[list[Word]]:
    """Hear many clips in ONE transcription: joined with silence between them, each word given
    back to its clip by time. Heard one by one, every short clip is padded to a 30 s window and
    costs nearly as much as 30 s of speech."""
    if not clips:
        return []
    pad = silence(CLIP_PAD, sr)
    pieces: list[np.ndarray] = [pad]
    bounds: list[tuple[float, float]] = []
    cursor = len(pad)
    for clip in clips:
        pieces += [clip, pad]
        bounds.append((cursor / sr, (cursor + len(clip)) / sr))
        cursor += len(clip) + len(pad)
    asr = ctx.asr()
    with tempfile.TemporaryDirectory(dir=ctx.folder, prefix=".retry-") as tmp:
        path = Path(tmp) / "clips.wav"
        write_wav(path, np.concatenate(pieces), sr)
        words = transcribe(asr, path, bounds, cursor / sr, careful)
    return split_by_time(words, bounds)


def doubted_windows(scored: Scored, i: int, span: SpokenSentence, margin: float | None, doubt: float = RELISTEN_DOUBT) -> list[tuple[float, float]]:
    """The stretches of sentence i's audio the recogniser itself doubted, `margin` seconds either
    side (near ones joined), never cutting through a word the first pass heard; the whole sentence
    when margin is None or nothing in it was heard.

    Doubted: a word it heard with a probability below `doubt` (right or wrong: the rule does not
    look at whether the word agrees with the script), and a gap where script words were heard as
    nothing at all. A confident hearing is not heard again; every second heard again costs time.
    """
    ops = scored.sentences[i].ops or []
    heard_at = [scored.words[scored.heard[op.hyp].owner] if op.hyp is not None else None for op in ops]
    trouble: list[tuple[float, float]] = []
    for k, op in enumerate(ops):
        w = heard_at[k]
        if w is not None:
            if w.probability < doubt:
                trouble.append((w.start, w.end))
        elif op.kind == "del":  # a word not heard lies between the heard words either side of it
            before = [x.end for x in heard_at[:k] if x is not None]
            after = [x.start for x in heard_at[k + 1 :] if x is not None]
            trouble.append((before[-1] if before else span.start, after[0] if after else span.end))
    if not trouble:
        return []
    if margin is None or not any(heard_at):
        return [(span.start, span.end)]
    windows: list[list[float]] = []
    for a, b in sorted(trouble):
        a, b = max(span.start, a - margin), min(span.end, b + margin)
        for w in scored.words:  # widen rather than cut a word in two
            if w.start < a < w.end:
                a = max(span.start, w.start - 0.05)
            if w.start < b < w.end:
                b = min(span.end, w.end + 0.05)
        if windows and a <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], b)
        else:
            windows.append([a, b])
    return [(a, b) for a, b in windows if b > a]


@dataclass
class Relisten:
    """The stretches of the narration to hear a second time, and the sentences they belong to."""

    windows: dict[int, list[tuple[float, float]]]
    order: list[tuple[int, float, float]]  # (sentence, start, end) per clip
    clips: list[np.ndarray]
    sample_rate: int = 0  # the narration's (0: not read, nothing to hear again)
    # Per clip, the part whose hearing replaces the first: the clip less EDGE at a side cut inside
    # speech (not at the sentence's own start or end, which lie in a pause).
    inner: list[tuple[float, float]] = field(default_factory=list)


# A clip cut inside speech holds a sliver of the word beyond its edge, which beam search often
# hears as that word: the first hearing already has it, and taking both heard it twice ("This
# This"; measured on til-aws-boto-command-line: 3.7% -> 7.5% with both, see the commit). Only
# the second hearing's words this far inside such an edge replace the first's.
EDGE = 0.25


def relisten_plan(ctx: StageContext, audio_path: Path, spans: list[SpokenSentence], scored: Scored) -> Relisten:
    """Every doubted stretch of the narration (see `doubted_windows`), as clips."""
    by_index = {s.index: s for s in spans}
    windows = {i: doubted_windows(scored, i, by_index[i], RELISTEN_MARGIN, RELISTEN_DOUBT)
               for i in range(len(scored.sentences)) if i in by_index and by_index[i].end > by_index[i].start}
    windows = {i: w for i, w in windows.items() if w}
    if not windows:
        return Relisten({}, [], [])
    audio, sr = read_audio(audio_path)
    order = [(i, a, b) for i, ws in windows.items() for a, b in ws]
    inner = []
    for i, a, b in order:
        span = by_index[i]
        lo = a if a <= span.start + 1e-6 else min(a + EDGE, (a + b) / 2)
        hi = b if b >= span.end - 1e-6 else max(b - EDGE, (a + b) / 2)
        inner.append((lo, hi))
    clips = [audio[int(round(a * sr)) : int(round(b * sr))] for _, a, b in order]
    return Relisten(windows, order, clips, sr, inner)


def relisten(script: Script, scored: Scored, names: list[list[str]], plan: Relisten, heard: list[list[Word]]) -> tuple[Scored, set[int]]:
    """The second, careful hearing of the doubted stretches (`relisten_plan`) in place of the first.

    The first pass is greedy (beam 1) over the whole narration; tiny.en's slips there ("neural"
    as "neuro") are often its own, not the voice's. Beam search over the same samples, without
    any hint of the expected text, hears a clear sentence right more often. In each stretch the
    second hearing replaces the first whatever it scores, so the figure is one procedure's, not
    the better of two noisy measurements. With PREFER "confident", the first hearing stands where
    the recogniser was surer of it (`confidence`), whatever either scores. `heard`: what the
    careful transcription heard in each of `plan.clips`. The audio is the same, so nothing moves
    in time. Returns the new score and the sentences whose second hearing stands.
    """
    if not plan.order:
        return scored, set()
    stretches = plan.inner or [(a, b) for _, a, b in plan.order]
    replaced: list[tuple[float, float]] = []
    again: list[Word] = []
    stood: set[int] = set()
    for (index, a, _), (lo, hi), words in zip(plan.order, stretches, heard):
        moved = [Word(w.text, w.start + a, w.end + a, w.probability) for w in words]
        second = [w for w in moved if lo <= (w.start + w.end) / 2 <= hi]
        first = [w for w in scored.words if lo <= (w.start + w.end) / 2 <= hi]
        if PREFER == "confident" and confidence(first) >= confidence(second):
            continue  # the recogniser is surer of its first hearing: it stands
        replaced.append((lo, hi))
        again += second
        stood.add(index)

    def inside(w: Word) -> bool:
        return any(a <= (w.start + w.end) / 2 <= b for a, b in replaced)

    merged = [w for w in scored.words if not inside(w)] + again
    return score(script, sorted(merged, key=lambda w: w.start), scored.ref, names), stood


def confidence(words: list[Word]) -> float:
    """The recogniser's own certainty of a hearing: the mean log probability of its words (a
    hearing of nothing is not a confident one). Never compared with the script."""
    if not words:
        return float("-inf")
    return sum(np.log(max(w.probability, 1e-6)) for w in words) / len(words)
