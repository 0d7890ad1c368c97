"""Speak: the script's spoken sentences -> narration.wav, with pauses, and where each sentence lies.

Each sentence is synthesised on its own so its position in the audio is known exactly; check
uses these positions to splice a re-synthesised sentence back in, and as the fallback timing
when the recogniser heard nothing of a sentence.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from macaw.artifacts import Narration, Script, Sentence, SpokenSentence
from macaw.audio import silence, write_wav
from macaw.config import TTSConfig
from macaw.errors import EmptyOutputError
from macaw.script.spoken import to_spoken
from macaw.stages.context import Stage, StageContext

NARRATION_FILE = "narration.wav"

STAGE = Stage(
    reads=("write",),
    artifact=Narration,
    files=(NARRATION_FILE,),
    engines=("tts",),
    options=lambda config: config.section("tts"),
    code=("macaw.script.spoken", "macaw.script.written", "macaw.documents.markdown", "macaw.audio"),
)


def pause_before(sentences: list[Sentence], i: int, tts: TTSConfig) -> float:
    """Seconds of silence before sentence i: longer between paragraphs, longest between parts."""
    if i == 0:
        return 0.0
    prev, cur = sentences[i - 1], sentences[i]
    if cur.segment != prev.segment:
        return tts.segment_pause
    if cur.paragraph != prev.paragraph:
        return tts.paragraph_pause
    return tts.sentence_pause


def render(engine: Any, text: str, speed: float = 1.0) -> np.ndarray:
    """One sentence's audio (Piper may yield several chunks when it finds several sentences);
    `speed` other than 1 needs an engine that declares it (see macaw.engines.supports)."""
    pieces = engine.synthesize(text, speed=speed) if speed != 1.0 else engine.synthesize(text)
    chunks = [np.asarray(c, dtype=np.float32).reshape(-1) for c in pieces]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def spoken_text(sentence: Sentence) -> str:
    return sentence.spoken.strip() or to_spoken(sentence.text)


def run(ctx: StageContext, script: Script) -> Narration:
    engine = ctx.tts()
    sr = int(engine.sample_rate)
    tts_config = ctx.config.tts
    pieces: list[np.ndarray] = []
    spans: list[SpokenSentence] = []
    position = 0  # samples written so far
    total = len(script.sentences)
    started = time.perf_counter()
    last_report = started
    for i, sentence in enumerate(script.sentences):
        gap = silence(pause_before(script.sentences, i, tts_config), sr)
        pieces.append(gap)
        position += len(gap)
        audio = render(engine, spoken_text(sentence))
        pieces.append(audio)
        spans.append(SpokenSentence(index=i, start=position / sr, end=(position + len(audio)) / sr))
        position += len(audio)
        now = time.perf_counter()
        if now - last_report > 5 or i + 1 == total:
            last_report = now
            ctx.log(f"speak: {i + 1}/{total} sentences, {position / sr:.0f} s of audio in {now - started:.1f} s")
    if position == 0 or not any(len(p) for p in pieces[1::2]):
        raise EmptyOutputError(
            f"the voice produced no audio for {script.title!r}",
            hint="check that the script has spoken text and that [tts] voice is a working Piper voice",
        )
    pieces.append(silence(0.5, sr))  # a breath at the end, so the last word is not cut by a player
    audio = np.concatenate(pieces)
    write_wav(ctx.folder / NARRATION_FILE, audio, sr)
    fingerprint = engine.fingerprint() if hasattr(engine, "fingerprint") else {}
    narration = Narration(
        audio=NARRATION_FILE,
        sample_rate=sr,
        duration_s=len(audio) / sr,
        sentences=spans,
        voice=str(fingerprint.get("voice", getattr(engine, "name", ""))),
    )
    narration.save(ctx.folder)
    return narration
