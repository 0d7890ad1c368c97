"""Voice benchmark: raw Piper vs the speak stage, raw faster-whisper vs the check stage, and the
round-trip WER the bundled voice and recogniser reach on the real journal entries.

    python bench/bench_voice.py            # prints a table, returns the figures from bench_voice()

RTF is seconds of compute per second of speech (model loading excluded, both sides warm).
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path
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
    from macaw.spoken import split_sentences, to_spoken

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
    from macaw.stage import StageContext

    folder = tmp / "episodes" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    ctx = StageContext(config=config.load(out=tmp, env={}), folder=folder, episode_id="bench")
    ctx._engines.update(engines)
    return ctx


def bench_voice(journals: Path = JOURNALS, log=print) -> dict[str, Any]:
    import numpy as np

    from macaw import check, engines, speak

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

    results: dict[str, Any] = {"piper_load_s": round(piper_load, 2), "whisper_load_s": round(whisper_load, 2), "entries": {}}
    with tempfile.TemporaryDirectory() as tmp_dir:
        for entry in entries:
            script = journal_script(entry)
            ctx = _context(Path(tmp_dir) / entry.stem, {"tts": tts, "asr": asr})
            row: dict[str, Any] = {"sentences": len(script.sentences)}
            if entry.name == REFERENCE:
                # Raw Piper: the whole text in one call, as a user of the library would.
                text = " ".join(s.spoken for s in script.sentences)
                t = time.perf_counter()
                raw = np.concatenate([c.audio_float_array for c in tts._voice.synthesize(text, syn_config=tts._syn_config)])
                raw_s = time.perf_counter() - t
                row["raw_piper_rtf"] = round(raw_s / (len(raw) / tts.sample_rate), 4)
            t = time.perf_counter()
            narration = speak.run(ctx, script)
            speak_s = time.perf_counter() - t
            speech_s = sum(s.end - s.start for s in narration.sentences)
            row["speech_s"] = round(speech_s, 1)
            row["speak_rtf"] = round(speak_s / speech_s, 4)  # per second of speech, pauses not counted
            if entry.name == REFERENCE:
                row["speak_overhead"] = round(row["speak_rtf"] / row["raw_piper_rtf"] - 1, 3)
                # Raw faster-whisper on the same narration: beam 1, word timestamps, library defaults.
                t = time.perf_counter()
                segments, _ = asr._model.transcribe(str(ctx.folder / narration.audio), language="en", beam_size=1, word_timestamps=True)
                list(segments)  # transcription happens as the generator is consumed
                raw_asr_s = time.perf_counter() - t
                row["raw_whisper_rtf"] = round(raw_asr_s / narration.duration_s, 4)
            t = time.perf_counter()
            quality = check.run(ctx, script, narration)
            check_s = time.perf_counter() - t
            row["check_rtf"] = round(check_s / narration.duration_s, 4)
            if entry.name == REFERENCE:
                row["check_overhead"] = round(row["check_rtf"] / row["raw_whisper_rtf"] - 1, 3)
            row.update(wer=quality.wer, wer_first_pass=quality.wer_first_pass, relistened=quality.relistened, retries=quality.retries, words=quality.words, worst=[quality.sentences[i].diff for i in quality.worst[:2]])
            results["entries"][entry.stem] = row
            log(f"{entry.stem}: {row}")
    all_words = sum(r["words"] for r in results["entries"].values())
    results["wer_overall"] = round(sum(r["wer"] * r["words"] for r in results["entries"].values()) / all_words, 4)
    results["wer_first_pass_overall"] = round(sum(r["wer_first_pass"] * r["words"] for r in results["entries"].values()) / all_words, 4)
    ref = results["entries"].get(Path(REFERENCE).stem, {})
    log(
        f"raw Piper RTF {ref.get('raw_piper_rtf')} vs speak RTF {ref.get('speak_rtf')} ({ref.get('speak_overhead', 0):+.1%}); "
        f"raw faster-whisper RTF {ref.get('raw_whisper_rtf')} vs check RTF {ref.get('check_rtf')} ({ref.get('check_overhead', 0):+.1%}); "
        f"WER on {len(entries)} journal entries {results['wer_overall']:.2%} (first pass {results['wer_first_pass_overall']:.2%})"
    )
    return results


if __name__ == "__main__":
    bench_voice()
