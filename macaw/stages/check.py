"""Check: hear the narration, compare it with the script, retake what the voice fumbled.

The round trip is the quality reference: the recogniser hears speak's narration.wav, both sides
go through the shared spoken-form normaliser, and one word-level alignment gives the overall
WER, each sentence's WER and each sentence's place in the audio (macaw/quality/score.py). Not
counted as errors: a proper name from the metadata heard with another spelling, and a word heard
as another spelling of the same sounds ("peak" as "peek"; `macaw.quality.align.forgive_sounds`).

1. The first listen, greedy, in windows cut in the pauses (macaw/quality/listen.py). Its WER is
   `wer_first_pass`.
2. The second listen: every sentence the recogniser doubted is heard again with beam search, in
   one batch, and the hearing the recogniser is surer of stands, whatever it scores
   (`quality.relisten`).
3. Retakes: a sentence still above `quality.sentence_max_wer` (or `quality.rescue_wer`, by
   default any sentence with an error, when the episode is above `quality.rescue_above`, 3%) is spoken again
   another way (a pause around the hard words, a slower take, spelled acronyms, a fresh take;
   macaw/quality/retake.py); the first takes are heard in the same batch as the second listen. Kept takes are spliced into check's
   own checked.wav; speak's files are never rewritten, so rerunning check scores the same audio.

Check only reports; the pipeline enforces the gate, and master reads the audio check names.
"""

from __future__ import annotations

from macaw.artifacts import Narration, Quality, Script, SentenceQuality, Source
from macaw.audio import read_audio, resample, write_wav
from macaw.engines import supports
from macaw.fsutil import atomic_write_text
from macaw.quality import listen, report, retake
from macaw.quality.align import script_reference, text_names
from macaw.quality.score import score
from macaw.script.spoken import wer_words
from macaw.stages.context import Stage, StageContext

QUALITY_PAGE = "quality.html"
CHECKED_AUDIO = "checked.wav"  # the narration with check's retakes spliced in, when any were kept
WORST = 5  # sentences listed as the worst in quality.json


def _files(folder, config) -> list[str]:
    try:
        audio = Quality.load(folder).audio
    except (OSError, ValueError, KeyError):
        audio = ""
    return [QUALITY_PAGE] + ([audio] if audio == CHECKED_AUDIO else [])


STAGE = Stage(
    reads=("write", "speak", "fetch"),
    artifact=Quality,
    files=_files,
    engines=("asr", "tts"),  # retakes speak with the voice
    options=lambda config: {**config.section("quality"), "show": config.show.title},  # the show's name is forgiven
    code=("macaw.quality", "macaw.script.spoken", "macaw.script.written", "macaw.documents.markdown", "macaw.stages.speak", "macaw.audio"),
    version=3,
)


def proper_names(config, source: Source, script: Script | None = None) -> list[list[str]]:
    """Names the recogniser cannot be expected to spell: the authors, the show, the arXiv id, and
    the names the text itself shows (`align.text_names`: "Zulip", "Octopress", "iTerm")."""
    texts = [config.show.title, *(a.name for a in source.authors)]
    if source.kind == "arxiv":
        texts.append(str(source.metadata.get("id", "")))
    names = [words for words in (wer_words(t) for t in texts) if words]
    return names + [n for n in text_names(script.sentences) if n not in names] if script is not None else names


def run(ctx: StageContext, script: Script, narration: Narration, source: Source) -> Quality:
    settings = ctx.config.quality
    asr = ctx.asr()
    narration_path = ctx.folder / narration.audio
    spans = list(narration.sentences)
    ctx.log(f"check: transcribing {narration.duration_s:.0f} s of narration")
    first_words = listen.transcribe(asr, narration_path, [(s.start, s.end) for s in spans], narration.duration_s)
    ref = script_reference(script)
    names = proper_names(ctx.config, source, script)
    scored = score(script, first_words, ref, names)
    first_pass = scored.wer
    ctx.log(f"check: WER {scored.wer:.1%} over {len(ref)} words")

    careful = listen.can_listen_carefully(asr)
    relistened: set[int] = set()
    bad = [i for i, s in enumerate(scored.sentences) if s.wer > settings.sentence_max_wer] if settings.max_retries > 0 else []
    first_round = None
    if settings.relisten and careful:
        # One transcription for both: the doubted stretches heard again, and a first new take of
        # each bad sentence, spoken before knowing what the second listen will hear. A
        # transcription costs ~0.6 s before its first second of audio (a 30 s window), a take
        # ~0.06 s per second spoken.
        plan = listen.relisten_plan(ctx, narration_path, spans, scored)
        options = retake.retake_options(script, scored, bad, settings.max_retries, supports(ctx.tts(), "speed"))
        takes_first = retake.render_round(ctx.tts(), options, [i for i in bad if options[i]], {}) if bad else {}
        new_clips = [clip for clip, _ in takes_first.values()]
        if plan.clips or new_clips:
            sr = plan.sample_rate or read_audio(narration_path)[1]
            if new_clips and int(ctx.tts().sample_rate) != sr:  # a narration at another rate than the voice's
                new_clips = [resample(c, int(ctx.tts().sample_rate), sr) for c in new_clips]
            heard_all = listen.hear_clips(ctx, plan.clips + new_clips, sr, careful=True)
            heard_plan, heard_takes = heard_all[: len(plan.clips)], heard_all[len(plan.clips) :]
            scored, stood = listen.relisten(script, scored, names, plan, heard_plan)
            relistened = set(plan.windows)  # heard again (quality.json), whichever hearing stands
            if relistened:
                ctx.log(f"check: {len(relistened)} doubted sentence(s) heard again with beam search, the second hearing "
                        f"stands in {len(stood)}; WER {scored.wer:.1%}")
            if bad:
                first_round = (options, takes_first, heard_takes)

    tries: dict[int, int] = {}
    kept: dict[int, str] = {}
    audio_file, duration = narration.audio, narration.duration_s
    threshold, enough = settings.sentence_max_wer, None
    if settings.max_retries > 0 and scored.wer > min(settings.rescue_above, settings.max_wer):
        # The episode is above the aim (or would fail the gate): try harder, retaking sentences down to rescue_wer too.
        threshold = min(threshold, settings.rescue_wer)
        enough = min(settings.rescue_to, settings.rescue_above, settings.max_wer) or None
        bad += [i for i, s in enumerate(scored.sentences) if s.wer > threshold and i not in bad]
    if bad:
        above = f"above {threshold:.0%}" if threshold > 0 else "with an error"
        ctx.log(f"check: {len(bad)} sentence(s) {above}; trying other spoken forms")
        tries, takes = retake.retry(ctx, script, scored, bad, names, careful and settings.relisten, first_round, threshold, enough)
        if takes:
            # Scored on what was heard in each take (the same samples as the published audio), not a
            # second full transcription: that doubled the check stage for one sentence.
            audio, sr = read_audio(narration_path)
            spliced, new_spans = retake.splice(audio, sr, spans, takes)
            rescored = score(script, retake.respliced_words(scored.words, spans, new_spans, takes, scored.word_sentence), ref, names)
            ctx.log(f"check: WER {rescored.wer:.1%} after {sum(tries.values())} retries (was {scored.wer:.1%})")
            if rescored.errors < scored.errors:
                write_wav(ctx.folder / CHECKED_AUDIO, spliced, sr)
                scored, spans, audio_file, duration = rescored, new_spans, CHECKED_AUDIO, len(spliced) / sr
                kept = {i: line.text for i, (_, line, _) in takes.items()}
                relistened -= set(takes)  # a new take's words come from its own hearing
    if audio_file != CHECKED_AUDIO:
        (ctx.folder / CHECKED_AUDIO).unlink(missing_ok=True)  # an earlier run's retakes are not this run's

    timings = report.timings(scored, spans)
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
                relistened=i in relistened,
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
        audio=audio_file,
        duration_s=round(duration, 3),
        spans=spans,
    )
    atomic_write_text(ctx.folder / QUALITY_PAGE, report.render_page(script, quality, settings.sentence_max_wer))
    return quality

