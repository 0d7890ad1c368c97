"""Check: transcribe the narration, compare it with the script, retry what the voice fumbled.

The round trip is the quality reference: the recogniser hears narration.wav, both sides go
through the shared spoken-form normaliser, and one word-level alignment gives the overall WER,
each sentence's WER, and each sentence's start and end in the audio (for the transcript). Not
counted as errors: a proper name from the metadata heard with another spelling, and a word heard
as another spelling of the same sounds ("peak" as "peek"; `macaw.quality.align.forgive_sounds`).

The first listen is greedy (beam 1), over the whole narration in windows cut in the pauses
between sentences (`cut_windows`), which the engine decodes side by side. When it leaves the
episode above `quality.relisten_above` or a sentence above `quality.sentence_max_wer`, the
stretches around each sentence's errors are heard a second time with beam search, all in one
batched transcription, and a sentence keeps that hearing only when it scores better
(`quality.relisten`): tiny.en's greedy slips on clear speech are its own, and the recogniser is
never told what it should hear, so a real mumble stays wrong.

A sentence still above `quality.sentence_max_wer` (or above `quality.rescue_wer`, when the
episode would fail the gate) is synthesised again with an alternative spoken form (a pause
around the troublesome words, spelled acronyms and expanded symbols, the plain spoken form of
the written text); each round's takes are heard in one transcription, and a take is spliced
into narration.wav when it scores better. Check only reports; the pipeline enforces the gate.
"""

from __future__ import annotations

import html
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from macaw.quality.align import NOT_ERRORS, Token, by_sentence, compare, heard_tokens, reference_tokens
from macaw.artifacts import Narration, Quality, Script, Sentence, SentenceQuality, Source, SpokenSentence
from macaw.audio import read_audio, resample, silence, write_wav
from macaw.engines import Word, supports
from macaw.fsutil import atomic_write_text
from macaw.stages.speak import render, spoken_text
from macaw.script.spoken import to_spoken, wer_words
from macaw.stages.context import StageContext

QUALITY_PAGE = "quality.html"
WORST = 5  # sentences listed as the worst in quality.json
TIMING_SLACK = 1.0  # seconds a recognised word may stray outside its sentence's audio
CLIP_PAD = 0.3  # silence around a sentence heard on its own, so its first word is not clipped


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
    ref = ref if ref is not None else reference_tokens([s.text for s in script.sentences])
    heard = heard_tokens(words)
    texts = [t.text for t in ref]
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
    ref = [t.text for t in reference_tokens([sentence.text])]
    heard = [t.text for t in heard_tokens(words)]
    errors = sum(op.kind not in NOT_ERRORS for op in compare(ref, heard, names))
    return errors / len(ref) if ref else float(bool(heard))


def alternatives(sentence: Sentence, trouble: set[str]) -> list[str]:
    """Other ways to say a sentence, in the order worth trying.

    When a few words went wrong, a short pause around them comes first (Piper pauses at commas);
    then acronyms spelled letter by letter with hyphens said as breaks, then the normaliser's
    own reading of the written text. When most of the sentence was lost, the problem is the take,
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
    spelled = re.sub(r"\b([A-Z]{2,})\b", lambda m: " ".join(m.group(1)), sentence.text)
    out.append(re.sub(r"(?<=\w)-(?=\w)", " ", to_spoken(spelled)))
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


# The second listen: beam search where the first pass was greedy. Hearing the stretch on its own
# does most of the good; beams 2, 3 and 5 measured alike in WER (3.8-4.1% over 8 takes, greedy
# 4.3%), and beam 2 cost least of them (bench/check_ab.py).
CAREFUL_BEAM = 2
# Measured on the 3 journal entries + the sample, 2 takes each (bench/check_ab.py): a
# 0.5 s margin heard as well as 1.0 s or the whole sentence for less time; of the second hearings
# that scored better, 27 in 30 had a wrong word below probability 0.7 (or a word not heard), for
# two thirds of the audio.
RELISTEN_MARGIN: float | None = 0.5  # seconds heard again either side of an error (None: the whole sentence)
RELISTEN_DOUBT = 0.7  # a wrong word heard with a probability at or above this is not heard again


def _takes(asr: Any, option: str) -> bool:
    """Whether the engine declares `option` (WhisperASR declares beam_size and windows)."""
    return supports(asr, option)


def _can_listen_carefully(asr: Any) -> bool:
    """Whether the engine takes a per-call beam (WhisperASR does; other engines hear once)."""
    return _takes(asr, "beam_size")


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


def _transcribe(asr: Any, path: Path, stretches: list[tuple[float, float]], total: float, careful: bool = False) -> list[Word]:
    """Hear a file whose speech lies in `stretches`: in windows cut in the pauses when the engine
    takes them, with beam search when `careful`."""
    options: dict[str, Any] = {}
    if careful:
        options["beam_size"] = CAREFUL_BEAM
    if WINDOWED and _takes(asr, "windows"):
        options["windows"] = cut_windows(stretches, total)
    return asr.transcribe(path, **options).words


def _split_by_time(words: list[Word], bounds: list[tuple[float, float]]) -> list[list[Word]]:
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


def _hear_clips(ctx: StageContext, clips: list[np.ndarray], sr: int, careful: bool = False) -> list[list[Word]]:
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
        words = _transcribe(asr, path, bounds, cursor / sr, careful)
    return _split_by_time(words, bounds)


Take = tuple[np.ndarray, str, list[Word]]  # the audio, the text spoken, what the recogniser heard in it


def _trouble_windows(scored: Scored, i: int, span: SpokenSentence, margin: float | None, doubt: float = 1.0) -> list[tuple[float, float]]:
    """The stretches of sentence i's audio around its errors, `margin` seconds either side of each
    (near ones joined), never cutting through a word the first pass heard; the whole sentence when
    margin is None or nothing in it was heard.

    Only stretches the recogniser itself doubted are returned: a word not heard at all, or a
    wrong word it gave a probability below `doubt`. A confident mishearing is rarely heard
    differently, and every second of audio heard again costs decoding time.
    """
    ops = scored.sentences[i].ops or []
    heard_at = [scored.words[scored.heard[op.hyp].owner] if op.hyp is not None else None for op in ops]
    if margin is None or not any(heard_at):
        return [(span.start, span.end)]
    trouble: list[tuple[float, float, bool]] = []
    for k, op in enumerate(ops):
        if op.kind in NOT_ERRORS:
            continue
        w = heard_at[k]
        if w is not None:
            trouble.append((w.start, w.end, w.probability < doubt))
        else:  # a word not heard lies between the heard words either side of it
            before = [x.end for x in heard_at[:k] if x is not None]
            after = [x.start for x in heard_at[k + 1 :] if x is not None]
            trouble.append((before[-1] if before else span.start, after[0] if after else span.end, True))
    windows: list[list[Any]] = []
    for a, b, doubted in sorted(trouble):
        a, b = max(span.start, a - margin), min(span.end, b + margin)
        for w in scored.words:  # widen rather than cut a word in two
            if w.start < a < w.end:
                a = max(span.start, w.start - 0.05)
            if w.start < b < w.end:
                b = min(span.end, w.end + 0.05)
        if windows and a <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], b)
            windows[-1][2] = windows[-1][2] or doubted
        else:
            windows.append([a, b, doubted])
    return [(a, b) for a, b, doubted in windows if doubted]


@dataclass
class Relisten:
    """The stretches of the narration to hear a second time, and the sentences they belong to."""

    windows: dict[int, list[tuple[float, float]]]
    order: list[tuple[int, float, float]]  # (sentence, start, end) per clip
    clips: list[np.ndarray]
    sample_rate: int = 0  # the narration's (0: not read, nothing to hear again)


def _relisten_plan(ctx: StageContext, narration: Narration, scored: Scored) -> Relisten:
    """The doubted stretches around every sentence's errors (see `_trouble_windows`), as clips."""
    spans = {s.index: s for s in narration.sentences}
    flagged = [i for i, s in enumerate(scored.sentences) if s.errors and i in spans and spans[i].end > spans[i].start]
    windows = {i: _trouble_windows(scored, i, spans[i], RELISTEN_MARGIN, RELISTEN_DOUBT) for i in flagged}
    windows = {i: w for i, w in windows.items() if w}
    if not windows:
        return Relisten({}, [], [])
    audio, sr = read_audio(ctx.folder / narration.audio)
    order = [(i, a, b) for i, ws in windows.items() for a, b in ws]
    return Relisten(windows, order, [audio[int(round(a * sr)) : int(round(b * sr))] for _, a, b in order], sr)


def _relisten(script: Script, narration: Narration, scored: Scored, names: list[list[str]],
              plan: Relisten, heard: list[list[Word]]) -> tuple[Scored, list[int], set[int]]:
    """The second, careful hearing of the doubted stretches (`_relisten_plan`), kept where it scores better.

    The first pass is greedy (beam 1) over the whole narration; tiny.en's slips there ("neural"
    as "neuro") are often its own, not the voice's. Beam search over the same samples, without
    any hint of the expected text, hears a clear sentence right more often. Only the stretch
    around the errors is heard again (its cost grows with the seconds heard), and a sentence
    keeps the second hearing only when it scores better. Silence or noise stays silence or noise.
    `heard`: what the careful transcription heard in each of `plan.clips`. Returns the (possibly)
    new score, the sentences heard again and those that kept it.
    """
    spans = {s.index: s for s in narration.sentences}
    if not plan.order:
        return scored, [], set()
    windows, order = plan.windows, plan.order
    flagged = list(windows)
    again: dict[int, list[Word]] = {i: [] for i in flagged}
    for (i, a, _), words in zip(order, heard):
        again[i] += [Word(w.text, w.start + a, w.end + a, w.probability) for w in words]

    def inside(w: Word, i: int) -> bool:
        return any(a <= (w.start + w.end) / 2 <= b for a, b in windows[i])

    kept: set[int] = set()
    for i in flagged:
        span = spans[i]
        mine = [w for w in scored.words if span.start <= (w.start + w.end) / 2 <= span.end]
        new = sorted([w for w in mine if not inside(w, i)] + again[i], key=lambda w: w.start)
        if sentence_wer(script.sentences[i], new, names) < sentence_wer(script.sentences[i], mine, names):
            kept.add(i)
    if not kept:
        return scored, flagged, set()
    # The same audio, so nothing moves: in each kept window the second hearing replaces the first.
    merged = [w for w in scored.words if not any(inside(w, i) for i in kept)] + [w for i in kept for w in again[i]]
    rescored = score(script, sorted(merged, key=lambda w: w.start), scored.ref, names)
    if rescored.errors >= scored.errors:
        return scored, flagged, set()
    return rescored, flagged, kept


def _options(script: Script, scored: Scored, bad: list[int], limit: int) -> dict[int, list[str]]:
    return {i: alternatives(script.sentences[i], {scored.ref[op.ref].text for op in scored.sentences[i].ops if op.ref is not None and op.kind != "ok"})[:limit] for i in bad}


def _render_round(tts: Any, options: dict[int, list[str]], todo: list[int], tries: dict[int, int]) -> dict[int, tuple[np.ndarray, str]]:
    """Each sentence in `todo` spoken its next way (the one after its `tries` so far)."""
    clips: dict[int, tuple[np.ndarray, str]] = {}
    for i in todo:
        text = options[i][tries.get(i, 0)]
        clip = render(tts, text)
        if clip.size:
            clips[i] = (clip, text)
    return clips


def _retry(ctx: StageContext, script: Script, scored: Scored, bad: list[int], names: list[list[str]], careful: bool = False,
           first: tuple[dict[int, list[str]], dict[int, tuple[np.ndarray, str]], list[list[Word]]] | None = None,
           threshold: float | None = None) -> tuple[dict[int, int], dict[int, Take]]:
    """Try other spoken forms for each bad sentence; keep the better takes.

    Round by round: every sentence still above `threshold` (default `quality.sentence_max_wer`)
    gets its next alternative, and all of a round's takes are heard in one transcription.
    `first`: a first take of some of them, already spoken and heard (with the second listen, in
    the same transcription), as (options, clips, heard).
    """
    limit = ctx.config.quality.max_retries
    threshold = ctx.config.quality.sentence_max_wer if threshold is None else threshold
    tts = ctx.tts()
    sr = int(tts.sample_rate)
    kept: dict[int, Take] = {}
    options = dict(first[0]) if first else {}
    tries: dict[int, int] = {i: 1 for i in options if options[i]}  # the first round's takes
    options.update(_options(script, scored, [i for i in bad if i not in options], limit))
    best = {i: scored.sentences[i].wer for i in bad}
    clips, heard = (first[1], first[2]) if first else ({}, [])
    while True:
        for (i, (clip, text)), words in zip(clips.items(), heard):
            wer = sentence_wer(script.sentences[i], words, names)
            ctx.log(f"check: sentence {i + 1} retry {tries[i]}: WER {best[i]:.0%} -> {wer:.0%} with {text!r}")
            if wer < best[i]:
                best[i], kept[i] = wer, (clip, text, words)
        todo = [i for i in bad if best[i] > threshold and tries.get(i, 0) < len(options[i])]
        if not todo:
            break
        clips = _render_round(tts, options, todo, tries)
        for i in todo:
            tries[i] = tries.get(i, 0) + 1
        heard = _hear_clips(ctx, [clip for clip, _ in clips.values()], sr, careful)
    return tries, kept


def _splice(audio: np.ndarray, sr: int, spans: list[SpokenSentence], takes: dict[int, Take]) -> tuple[np.ndarray, list[SpokenSentence]]:
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


def _respliced_words(words: list[Word], old: list[SpokenSentence], new: list[SpokenSentence], takes: dict[int, Take],
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


def _timings(scored: Scored, narration: Narration) -> list[tuple[float, float]]:
    """Each sentence's start and end from its recognised words, within reason; else speak's."""
    spans = {s.index: s for s in narration.sentences}
    out: list[tuple[float, float]] = []
    previous_end = 0.0
    for i, s in enumerate(scored.sentences):
        span = spans.get(i)
        fallback = (span.start, span.end) if span else (previous_end, previous_end)
        heard = [scored.words[scored.heard[op.hyp].owner] for op in s.ops if op.hyp is not None and op.kind in ("ok", "sub", "name", "sound")]
        start, end = fallback
        if heard:
            h_start, h_end = heard[0].start, heard[-1].end
            if abs(h_start - fallback[0]) <= TIMING_SLACK:
                start = h_start
            if abs(h_end - fallback[1]) <= TIMING_SLACK:
                end = h_end
        start = max(start, previous_end)
        end = max(end, start)
        out.append((round(start, 3), round(end, 3)))
        previous_end = end
    return out


def proper_names(ctx: StageContext) -> list[list[str]]:
    """Names the recogniser cannot be expected to spell: the authors, the show, the arXiv id."""
    texts = [ctx.config.show.title]
    source_path = ctx.folder / Source.filename
    if source_path.exists():
        source = Source.load(ctx.folder)
        texts += [a.name for a in source.authors]
        if source.kind == "arxiv":
            texts.append(str(source.metadata.get("id", "")))
    return [words for words in (wer_words(t) for t in texts) if words]


def run(ctx: StageContext, script: Script, narration: Narration) -> Quality:
    settings = ctx.config.quality
    asr = ctx.asr()
    ctx.log(f"check: transcribing {narration.duration_s:.0f} s of narration")
    first_words = _transcribe(asr, ctx.folder / narration.audio, [(s.start, s.end) for s in narration.sentences], narration.duration_s)
    ref = reference_tokens([s.text for s in script.sentences])
    names = proper_names(ctx)
    scored = score(script, first_words, ref, names)
    first_pass = scored.wer
    ctx.log(f"check: WER {scored.wer:.1%} over {len(ref)} words")

    careful = _can_listen_carefully(asr)
    relistened: list[int] = []
    second: set[int] = set()
    bad = [i for i, s in enumerate(scored.sentences) if s.wer > settings.sentence_max_wer] if settings.max_retries > 0 else []
    first_round = None
    if settings.relisten and careful and (bad or scored.wer > settings.relisten_above):
        # One transcription for both: the doubted stretches heard again, and a first new take of
        # each bad sentence, spoken before knowing whether the second listen clears it. A
        # transcription costs ~0.6 s before its first second of audio (a 30 s window), a take
        # ~0.06 s per second spoken.
        plan = _relisten_plan(ctx, narration, scored)
        options = _options(script, scored, bad, settings.max_retries)
        takes_first = _render_round(ctx.tts(), options, [i for i in bad if options[i]], {}) if bad else {}
        new_clips = [clip for clip, _ in takes_first.values()]
        if plan.clips or new_clips:
            sr = plan.sample_rate or read_audio(ctx.folder / narration.audio)[1]
            if new_clips and int(ctx.tts().sample_rate) != sr:  # a narration at another rate than the voice's
                new_clips = [resample(c, int(ctx.tts().sample_rate), sr) for c in new_clips]
            heard_all = _hear_clips(ctx, plan.clips + new_clips, sr, careful=True)
            heard_plan, heard_takes = heard_all[: len(plan.clips)], heard_all[len(plan.clips) :]
            scored, relistened, second = _relisten(script, narration, scored, names, plan, heard_plan)
            if relistened:
                ctx.log(f"check: {len(relistened)} sentence(s) heard again with beam search, {len(second)} kept; WER {scored.wer:.1%}")
            if bad:
                first_round = (options, takes_first, heard_takes)

    tries: dict[int, int] = {}
    kept: dict[int, str] = {}
    threshold = settings.sentence_max_wer
    if settings.max_retries > 0 and scored.wer > settings.max_wer:
        # The episode would fail the gate: try harder, retaking sentences down to rescue_wer too.
        threshold = min(threshold, settings.rescue_wer)
        bad += [i for i, s in enumerate(scored.sentences) if s.wer > threshold and i not in bad]
    if bad:
        ctx.log(f"check: {len(bad)} sentence(s) above {threshold:.0%}; trying other spoken forms")
        tries, takes = _retry(ctx, script, scored, bad, names, careful and settings.relisten, first_round, threshold)
        if takes:
            # Scored on what was heard in each take (the same samples as the published audio), not a
            # second full transcription: that doubled the check stage for one sentence.
            path = ctx.folder / narration.audio
            audio, sr = read_audio(path)
            spliced, spans = _splice(audio, sr, narration.sentences, takes)
            write_wav(path, spliced, sr)
            rescored = score(script, _respliced_words(scored.words, narration.sentences, spans, takes, scored.word_sentence), ref, names)
            ctx.log(f"check: WER {rescored.wer:.1%} after {sum(tries.values())} retries (was {scored.wer:.1%})")
            if rescored.errors < scored.errors:
                scored = rescored
                narration.sentences, narration.duration_s = spans, len(spliced) / sr
                narration.save(ctx.folder)
                kept = {i: text for i, (_, text, _) in takes.items()}
                second -= set(takes)  # a new take's words come from its own hearing
            else:  # in context the new takes did no better; the first narration stands
                write_wav(path, audio, sr)

    timings = _timings(scored, narration)
    sentences = []
    for i, (sentence, s) in enumerate(zip(script.sentences, scored.sentences)):
        diff = [[op.kind, scored.ref[op.ref].text if op.ref is not None else "", scored.heard[op.hyp].text if op.hyp is not None else ""] for op in s.ops]
        sentences.append(
            SentenceQuality(
                index=i,
                wer=round(s.wer, 4),
                reference=" ".join(d[1] for d in diff if d[1]),
                heard=" ".join(d[2] for d in diff if d[2]),
                start=timings[i][0],
                end=timings[i][1],
                words=s.words,
                errors=s.errors,
                retries=tries.get(i, 0),
                spoken=kept.get(i, ""),
                relistened=i in second,
                diff=diff,
            )
        )
    ranked = sorted((q for q in sentences if q.errors), key=lambda q: (-q.wer, -q.errors, q.index))
    fingerprint = asr.fingerprint() if hasattr(asr, "fingerprint") else {}
    quality = Quality(
        wer=round(scored.wer, 4),
        threshold=settings.max_wer,
        passed=scored.wer <= settings.max_wer,
        words=len(ref),
        sentences=sentences,
        worst=[q.index for q in ranked[:WORST]],
        retries=sum(tries.values()),
        asr_model=str(fingerprint.get("model", getattr(asr, "name", ""))),
        wer_first_pass=round(first_pass, 4),
        relistened=len(relistened),
    )
    atomic_write_text(ctx.folder / QUALITY_PAGE, render_page(script, quality, settings.sentence_max_wer))
    return quality


def _fmt_time(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def _diff_html(diff: list[list[str]]) -> str:
    parts = []
    for kind, ref, heard in diff:
        if kind == "ok":
            parts.append(html.escape(ref))
        elif kind == "sub":
            parts.append(f'<del title="not heard">{html.escape(ref)}</del><ins title="heard instead">{html.escape(heard)}</ins>')
        elif kind == "del":
            parts.append(f'<del title="not heard">{html.escape(ref)}</del>')
        elif kind == "name":  # a proper name heard with the recogniser's own spelling: not an error
            shown = html.escape(ref) + (f" <small>({html.escape(heard)})</small>" if heard else "") if ref else f"<small>({html.escape(heard)})</small>"
            parts.append(f'<span class="name" title="a name, heard with another spelling">{shown}</span>')
        elif kind == "sound":  # another spelling of the same sounds ("peak" heard as "peek"): not an error
            parts.append(f'<span class="name" title="heard as {html.escape(heard)}, which sounds the same">{html.escape(ref)} <small>({html.escape(heard)})</small></span>')
        else:
            parts.append(f'<ins title="heard, not in the script">{html.escape(heard)}</ins>')
    return " ".join(parts)


def render_page(script: Script, quality: Quality, sentence_threshold: float | None = None) -> str:
    """A self-contained page: every sentence with its WER, differences marked, worst first in a list."""
    verdict = "passed" if quality.passed else "FAILED"
    rows = []
    for q in quality.sentences:
        text = script.sentences[q.index].text if q.index < len(script.sentences) else q.reference
        cls = "bad" if q.errors and (sentence_threshold is None or q.wer > sentence_threshold) else ("ok" if not q.errors else "meh")
        retry = f"<br><small>retried {q.retries}&times;{'; now says: ' + html.escape(q.spoken) if q.spoken else ''}</small>" if q.retries else ""
        if q.relistened:
            retry += "<br><small>as heard the second, careful time</small>"
        rows.append(
            f'<tr id="s{q.index}" class="{cls}"><td>{q.index + 1}</td><td>{_fmt_time(q.start)}</td>'
            f"<td>{q.wer:.0%}</td><td>{html.escape(text)}<div class=diff>{_diff_html(q.diff)}</div>{retry}</td></tr>"
        )
    worst = ", ".join(f'<a href="#s{i}">{i + 1}</a>' for i in quality.worst) or "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Quality: {html.escape(script.title)}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;width:100%}} td{{border-top:1px solid #ddd;padding:.4rem;vertical-align:top}}
td:nth-child(-n+3){{white-space:nowrap;color:#555}} .diff{{font-family:ui-monospace,monospace;font-size:.85em;color:#555;margin-top:.2rem}} .name{{color:#06c}}
del{{background:#fdd;color:#900}} ins{{background:#dfd;color:#060;text-decoration:none}}
tr.bad{{background:#fff4f4}} tr.meh{{background:#fffbea}} .FAILED{{color:#b00}} .passed{{color:#070}}
</style></head><body>
<h1>{html.escape(script.title)}</h1>
<p>Round-trip word error rate <b class="{verdict}">{quality.wer:.1%}</b> over {quality.words} words
(gate: {quality.threshold:.0%}, <span class="{verdict}">{verdict}</span>); recogniser {html.escape(quality.asr_model)};
{quality.relistened} sentence(s) heard a second time; {quality.retries} retries. Worst sentences: {worst}.</p>
<p><del>struck red</del>: in the script, not heard. <ins>green</ins>: heard, not in the script.
<span class="name">blue</span>: a name, or a word heard with another spelling of the same sounds; not counted.</p>
<table><thead><tr><th>#</th><th>at</th><th>WER</th><th>sentence</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
