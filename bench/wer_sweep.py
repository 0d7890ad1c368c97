"""Round-trip WER sweep: voice settings x recogniser settings, per entry, on the real journal
entries and samples/first-light.md.

    python bench/wer_sweep.py                                  # the defaults, twice
    python bench/wer_sweep.py --tts noise=0.333,noise_w=0.4 --tts default --asr beam=1 --asr beam=5
    python bench/wer_sweep.py --check                          # also the full check stage (retries)

TTS spec keys: noise (noise_scale), noise_w (noise_w_scale), length (length_scale, >1 slower),
pause (sentence_pause seconds); "default" is the shipped config. ASR spec keys: beam,
cond (condition_on_previous_text 0/1), nots (without_timestamps 0/1), vad (0/1), pad
(speech_pad_ms), minsil (min_silence_duration_ms). The WER columns are check's first pass: the
script vs what tiny.en heard, through the shared normaliser, before any retry. Each TTS setting is
spoken --repeats times (Piper is not deterministic); every ASR setting hears the same audio.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_voice import JOURNALS, _context, journal_script  # noqa: E402

SAMPLE = REPO / "samples" / "first-light.md"


def markdown_script(path: Path):
    """samples/*.md as bench_voice reads a journal: front matter dropped, headings become parts."""
    from macaw.sources.journal import split_front_matter

    _, body = split_front_matter(path.read_text(encoding="utf-8"), str(path))
    lines = [re.sub(r"^#+\s*", "", line) for line in body.splitlines()]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lines))
    try:
        return journal_script(Path(f.name))
    finally:
        Path(f.name).unlink()


def entries(journals: Path = JOURNALS) -> dict[str, Any]:
    out = {p.stem: journal_script(p) for p in sorted(journals.glob("*.txt"))}
    if SAMPLE.is_file():
        out[SAMPLE.stem] = markdown_script(SAMPLE)
    return out


def parse(spec: str) -> dict[str, float]:
    if spec in ("", "default"):
        return {}
    return {k.strip(): float(v) for k, v in (part.split("=") for part in spec.split(","))}


def make_tts(spec: dict[str, float]):
    from macaw import engines

    settings: dict[str, Any] = {"engine": "piper", "voice": "", "device": "auto", "speed": 1.0}
    tts = engines.create("tts", settings)
    if "noise" in spec:
        tts.noise_scale = spec["noise"]
    if "noise_w" in spec:
        tts.noise_w_scale = spec["noise_w"]
    if "length" in spec:
        tts.speed = 1.0 / spec["length"]
    tts._load()
    return tts


def make_asr(spec: dict[str, float]):
    from macaw import engines

    asr = engines.create("asr", {"engine": "faster-whisper", "model": "", "device": "auto", "compute_type": "int8", "beam_size": int(spec.get("beam", 1))})
    options: dict[str, Any] = {}
    if "cond" in spec:
        options["condition_on_previous_text"] = bool(spec["cond"])
    if "nots" in spec:
        options["without_timestamps"] = bool(spec["nots"])
    if "vad" in spec:
        options["vad_filter"] = bool(spec["vad"])
    if "pad" in spec or "minsil" in spec:
        options["vad_parameters"] = {"speech_pad_ms": int(spec.get("pad", 200)), "min_silence_duration_ms": int(spec.get("minsil", 300))}
    asr.options = options
    return asr


def sweep(tts_specs: list[str], asr_specs: list[str], repeats: int, full_check: bool, log=print, dump: Path | None = None, save: Path | None = None) -> list[dict[str, Any]]:
    from macaw.stages import check, speak

    scripts = entries()
    asrs = {spec: make_asr(parse(spec)) for spec in asr_specs}
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    saved: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        for tts_spec in tts_specs:
            tspec = parse(tts_spec)
            tts = make_tts(tspec)
            for rep in range(repeats):
                for name, script in scripts.items():
                    ctx = _context(Path(tmp_dir) / f"{name}-{rep}", {"tts": tts})
                    ctx.log = lambda m: None
                    if "pause" in tspec:
                        ctx.config.tts.sentence_pause = tspec["pause"]
                    t = time.perf_counter()
                    narration = speak.run(ctx, script)
                    speak_s = time.perf_counter() - t
                    for asr_spec, asr in asrs.items():
                        ctx._engines["asr"] = asr
                        t = time.perf_counter()
                        words = asr.transcribe(ctx.folder / narration.audio).words
                        asr_s = time.perf_counter() - t
                        scored = check.score(script, words)
                        row = {"tts": tts_spec, "asr": asr_spec, "rep": rep, "entry": name, "words": len(scored.ref), "errors": scored.errors,
                               "wer": scored.wer, "speak_s": speak_s, "asr_s": asr_s, "audio_s": narration.duration_s}
                        if full_check:
                            from macaw.artifacts import Source
                            quality = check.run(ctx, script, narration, Source(kind="journal", id="bench", title=script.title))
                            row["check_wer"] = quality.wer
                            narration = type(narration).load(ctx.folder)
                        rows.append(row)
                        if save is not None:  # written as it goes, so a long sweep cut short still counts
                            saved.append({**row, "heard": [[w.text, w.start, w.end] for w in words]})
                            save.write_text(json.dumps(saved))
                        for i, s in enumerate(scored.sentences):
                            bad = [(scored.ref[o.ref].text if o.ref is not None else "", scored.heard[o.hyp].text if o.hyp is not None else "") for o in s.ops if o.kind != "ok"]
                            if bad:
                                raw = " ".join(words[k].text for k in dict.fromkeys(scored.heard[o.hyp].owner for o in s.ops if o.hyp is not None))
                                errors.append({"tts": tts_spec, "asr": asr_spec, "rep": rep, "entry": name, "bad": bad,
                                               "spoken": script.sentences[i].spoken, "heard": raw})
                        log(f"  {tts_spec:>24} | {asr_spec:>14} | rep {rep} | {name:<26} WER {scored.wer:6.2%} ({scored.errors}/{len(scored.ref)})"
                            + (f" check {row['check_wer']:.2%}" if full_check else "") + f"  speak {speak_s:.1f}s asr {asr_s:.1f}s")
    if dump:
        dump.write_text(json.dumps(errors, indent=1))
    return rows


def rescore(saved: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score saved transcripts again with the current normaliser (the audio is not kept)."""
    from macaw.stages import check as check
    from macaw.engines import Word

    scripts = entries()
    rows = []
    for r in saved:
        scored = check.score(scripts[r["entry"]], [Word(t, s, e) for t, s, e in r["heard"]])
        rows.append({k: v for k, v in r.items() if k != "heard"} | {"wer": scored.wer, "errors": scored.errors, "words": len(scored.ref)})
    return rows


def table(rows: list[dict[str, Any]], log=print) -> None:
    names = sorted({r["entry"] for r in rows})
    log("\n" + " | ".join(["tts", "asr"] + names + ["overall", "speak s", "asr s"]))
    for key in dict.fromkeys((r["tts"], r["asr"]) for r in rows):
        mine = [r for r in rows if (r["tts"], r["asr"]) == key]
        cells = []
        for n in names:
            per = [r for r in mine if r["entry"] == n]
            cells.append("/".join(f"{r['wer']:.1%}" for r in per))
        reps = sorted({r["rep"] for r in mine})
        overall = [sum(r["errors"] for r in mine if r["rep"] == k) / sum(r["words"] for r in mine if r["rep"] == k) for k in reps]
        speak_s = sum(r["speak_s"] for r in mine) / len(reps)
        asr_s = sum(r["asr_s"] for r in mine) / len(reps)
        line = " | ".join([key[0], key[1]] + cells + ["/".join(f"{o:.2%}" for o in overall), f"{speak_s:.0f}", f"{asr_s:.0f}"])
        if "check_wer" in mine[0]:
            checked = [sum(r["check_wer"] * r["words"] for r in mine if r["rep"] == k) / sum(r["words"] for r in mine if r["rep"] == k) for k in reps]
            line += " | check " + "/".join(f"{c:.2%}" for c in checked)
        log(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tts", action="append", help="voice setting (repeatable); default: the shipped one")
    parser.add_argument("--asr", action="append", help="recogniser setting (repeatable); default: the shipped one")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--check", action="store_true", help="also run the full check stage (with retries)")
    parser.add_argument("--dump", type=Path, help="write every misheard word to this JSON file")
    parser.add_argument("--save", type=Path, help="write every transcript to this JSON file (for --rescore)")
    parser.add_argument("--rescore", type=Path, nargs="+", help="score transcripts saved by --save again with the current normaliser; no audio is made")
    args = parser.parse_args()
    if args.rescore:
        table(rescore([r for path in args.rescore for r in json.loads(path.read_text())]))
        return
    table(sweep(args.tts or ["default"], args.asr or ["default"], args.repeats, args.check, dump=args.dump, save=args.save))


if __name__ == "__main__":
    main()
