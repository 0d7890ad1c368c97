"""Voice benchmark: raw Piper vs the speak stage, raw faster-whisper vs the check stage, and the
round-trip WER the bundled voice and recogniser reach on the real journal entries.

    python bench/bench_voice.py            # prints a table, returns the figures from bench_voice()

RTF is seconds of compute per second of speech (model loading excluded, both sides warm). The
raw baselines are measured two ways: the library called with its defaults, which is what the
issue's figures (Piper about 0.06, faster-whisper about 0.043) match on this machine, and the
library called with the settings Macaw uses, a stricter like-for-like figure.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

def _journals() -> Path:
    """$MACAW_JOURNALS, else shared/journals beside the checkout (or beside its worktree folder)."""
    import os

    if os.environ.get("MACAW_JOURNALS"):
        return Path(os.environ["MACAW_JOURNALS"])
    here = Path(__file__).resolve()
    candidates = [here.parents[2] / "shared" / "journals", here.parents[3] / "shared" / "journals"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


JOURNALS = _journals()
REFERENCE = "2024-11-19-gestation.txt"  # the entry the raw figures in the issue were taken on


def journal_script(path: Path):
    """A plain reading of a journal entry as a Script: short unpunctuated lines are part headings."""
    from macaw.artifacts import Script, Sentence
    from macaw.script.spoken import split_sentences, to_spoken

    lines = path.read_text(encoding="utf-8").splitlines()
    title = next((l.strip() for l in lines if l.strip()), path.stem)
    segment, paragraph, sentences = "Introduction", 0, []
    for line in lines[1:]:
        text = line.strip().lstrip("-•* ").strip()
        if not text:
            continue
        if len(text.split()) <= 5 and not re.search(r"[.!?)\"”]$", text):
            segment, paragraph = text.rstrip(":"), 0
            continue
        for sentence in split_sentences(text):
            if re.search(r"\w", sentence):
                sentences.append(Sentence(text=sentence, spoken=to_spoken(sentence), segment=segment, paragraph=paragraph))
        paragraph += 1
    return Script(title=title, sentences=sentences)


def _context(tmp: Path, engines: dict[str, Any]):
    from macaw import config
    from macaw.stages.context import StageContext

    folder = tmp / "episodes" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    ctx = StageContext(config=config.load(out=tmp, env={}), folder=folder, episode_id="bench")
    ctx._engines.update(engines)
    return ctx


REFERENCE_TAKES = 5  # fresh takes of the reference entry: Piper varies run to run, and the check with it


def _raw_piper(plain: Any, tts: Any, text: str) -> tuple[float, float]:
    """RTF of raw Piper on `text` in one call: (library defaults, as Macaw loads the voice).

    Library defaults: PiperVoice.load() and synthesize(), as the issue's "about 0.06" was taken.
    As Macaw loads it: the same voice with Macaw's CPU session options (tts_piper._cpu_voice).
    """
    import numpy as np

    out = []
    for voice, options in ((plain, {}), (tts._voice, {"syn_config": tts._syn_config})):
        t = time.perf_counter()
        audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, **options)])
        out.append(time.perf_counter() - t)
        out[-1] /= len(audio) / tts.sample_rate
    return out[0], out[1]


def _raw_whisper(asr: Any, path: Path, seconds: float, script: Any) -> list[tuple[float, float]]:
    """RTF and WER of raw faster-whisper on the narration: [library defaults, greedy with word timestamps].

    Library defaults: model.transcribe(path) as it comes (beam 5, no word timestamps), the call
    the issue's "about 0.043" matches on this machine. Greedy with word timestamps: the settings
    of check's first listen, heard the library's own way (one 30 s window after another). The
    WER is the script against the segments' text, through check's own scoring.
    """
    from macaw.stages.check import score
    from macaw.engines import Word

    out = []
    for options in ({}, {"language": "en", "beam_size": 1, "word_timestamps": True}):
        t = time.perf_counter()
        segments, _ = asr._model.transcribe(str(path), **options)
        segments = list(segments)  # transcription happens as the generator is consumed
        rtf = (time.perf_counter() - t) / seconds
        out.append((rtf, score(script, [Word(s.text, s.start, s.end, 1.0) for s in segments]).wer))
    return out


def bench_voice(journals: Path = JOURNALS, log=print, reference_takes: int = REFERENCE_TAKES) -> dict[str, Any]:
    from macaw import engines
    from macaw.stages import check, speak

    if not journals.is_dir():
        log(f"bench_voice: {journals} not found; skipped")
        return {"skipped": f"{journals} not found"}
    entries = sorted(journals.glob("*.txt"))
    tts = engines.create("tts", {"engine": "piper", "voice": "", "device": "auto", "speed": 1.0})
    asr = engines.create("asr", {"engine": "faster-whisper", "model": "", "device": "auto", "compute_type": "int8", "beam_size": 1})
    t = time.perf_counter()
    tts._load()
    piper_load = time.perf_counter() - t
    t = time.perf_counter()
    asr._load()
    whisper_load = time.perf_counter() - t
    list(tts.synthesize("Warm up."))
    from piper import PiperVoice

    plain = PiperVoice.load(str(tts.voice_path), config_path=str(tts.config_path))  # the library's defaults, loaded once
    list(plain.synthesize("Warm up."))

    results: dict[str, Any] = {"piper_load_s": round(piper_load, 2), "whisper_load_s": round(whisper_load, 2), "entries": {}, "reference": []}
    with tempfile.TemporaryDirectory() as tmp_dir:
        for entry in entries:
            script = journal_script(entry)
            takes = reference_takes if entry.name == REFERENCE else 1
            for take in range(takes):
                ctx = _context(Path(tmp_dir) / f"{entry.stem}-{take}", {"tts": tts, "asr": asr})
                row: dict[str, Any] = {"sentences": len(script.sentences)}
                if entry.name == REFERENCE:
                    raw_default, raw_macaw = _raw_piper(plain, tts, " ".join(s.spoken for s in script.sentences))
                    row.update(raw_piper_rtf=round(raw_default, 4), raw_piper_macaw_rtf=round(raw_macaw, 4))
                t = time.perf_counter()
                narration = speak.run(ctx, script)
                speak_s = time.perf_counter() - t
                speech_s = sum(s.end - s.start for s in narration.sentences)
                row["speech_s"] = round(speech_s, 1)
                row["speak_rtf"] = round(speak_s / speech_s, 4)  # per second of speech, pauses not counted
                if entry.name == REFERENCE:
                    (raw_default, wer_default), (raw_greedy, wer_greedy) = _raw_whisper(asr, ctx.folder / narration.audio, narration.duration_s, script)
                    row.update(raw_whisper_rtf=round(raw_default, 4), raw_whisper_greedy_rtf=round(raw_greedy, 4),
                               raw_whisper_wer=round(wer_default, 4), raw_whisper_greedy_wer=round(wer_greedy, 4))
                t = time.perf_counter()
                from macaw.artifacts import Source
                quality = check.run(ctx, script, narration, Source(kind="journal", id="bench", title=script.title))
                row["check_rtf"] = round((time.perf_counter() - t) / narration.duration_s, 4)
                row.update(wer=quality.wer, wer_first_pass=quality.wer_first_pass, relistened=quality.relistened, retries=quality.retries, words=quality.words)
                if entry.name == REFERENCE:
                    results["reference"].append(row)
                    log(f"{entry.stem} take {take + 1}: {row}")
                if take == 0:
                    row["worst"] = [quality.sentences[i].diff for i in quality.worst[:2]]
                    results["entries"][entry.stem] = row
                    if entry.name != REFERENCE:
                        log(f"{entry.stem}: {row}")
    all_words = sum(r["words"] for r in results["entries"].values())
    results["wer_overall"] = round(sum(r["wer"] * r["words"] for r in results["entries"].values()) / all_words, 4)
    results["wer_first_pass_overall"] = round(sum(r["wer_first_pass"] * r["words"] for r in results["entries"].values()) / all_words, 4)
    takes = results["reference"]
    if takes:
        # Overheads per take (stage RTF / raw RTF on the same text or narration), then the median.
        def overhead(stage: str, raw: str) -> dict[str, float]:
            ratios = [r[stage] / r[raw] - 1 for r in takes]
            return {"median": round(median(ratios), 3), "min": round(min(ratios), 3), "max": round(max(ratios), 3)}

        results["speak_overhead"] = overhead("speak_rtf", "raw_piper_rtf")
        results["speak_overhead_macaw_voice"] = overhead("speak_rtf", "raw_piper_macaw_rtf")
        results["check_overhead"] = overhead("check_rtf", "raw_whisper_rtf")
        results["check_overhead_greedy"] = overhead("check_rtf", "raw_whisper_greedy_rtf")
        med = {k: median([r[k] for r in takes]) for k in ("raw_piper_rtf", "raw_piper_macaw_rtf", "speak_rtf", "raw_whisper_rtf", "raw_whisper_greedy_rtf", "check_rtf")}
        results["reference_median"] = med

        def fmt(o: dict[str, float]) -> str:
            return f"{o['median']:+.0%} (takes {o['min']:+.0%}..{o['max']:+.0%})"

        log(f"{Path(REFERENCE).stem}, median of {len(takes)} fresh takes:")
        log(f"  speak RTF {med['speak_rtf']:.4f} vs raw Piper {med['raw_piper_rtf']:.4f} (library defaults): {fmt(results['speak_overhead'])}; "
            f"vs {med['raw_piper_macaw_rtf']:.4f} (Macaw's session options): {fmt(results['speak_overhead_macaw_voice'])}")
        log(f"  check RTF {med['check_rtf']:.4f} vs raw faster-whisper {med['raw_whisper_rtf']:.4f} (library defaults): {fmt(results['check_overhead'])}; "
            f"vs {med['raw_whisper_greedy_rtf']:.4f} (greedy, word timestamps): {fmt(results['check_overhead_greedy'])}")
        words = sum(r["words"] for r in takes)
        wers = {k: sum(r[k] * r["words"] for r in takes) / words for k in ("wer", "raw_whisper_wer", "raw_whisper_greedy_wer")}
        results["reference_wer"] = {k: round(v, 4) for k, v in wers.items()}
        log(f"  WER over those takes: check {wers['wer']:.2%}, raw library defaults {wers['raw_whisper_wer']:.2%}, "
            f"raw greedy {wers['raw_whisper_greedy_wer']:.2%} (what the check costs over raw greedy buys the difference)")
    log(f"WER on {len(entries)} journal entries {results['wer_overall']:.2%} (first pass {results['wer_first_pass_overall']:.2%})")
    return results


if __name__ == "__main__":
    bench_voice()
