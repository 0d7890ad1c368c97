"""Check settings A/B on the same narrations: raw faster-whisper vs the check stage, per entry.

    python bench/check_ab.py --speak 2 --audio /tmp/narrations          # speak every entry twice, keep the audio
    python bench/check_ab.py --audio /tmp/narrations off:quality.relisten=0 on off-noretry:quality.relisten=0,quality.max_retries=0

Piper is not deterministic, so comparing check settings on fresh takes mixes the voice's luck
into the figures; here every setting hears the same saved takes. For each take, raw
faster-whisper (beam 1, word timestamps, library defaults, as bench_voice) and then each setting
run back to back, so a busy machine slows them alike. A setting is LABEL[:key=value,...] with
config keys (quality.relisten=0) or module constants of macaw/quality/listen.py and retake.py
(listen.RELISTEN_MARGIN=0.5, retake.SLOW_AT=None). --audio may also be an output root of real
builds (every episodes/*/ folder holding narration.wav is a take).
Prints per take first-pass and final errors, sentences heard again, retries, wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_voice import _context  # noqa: E402


def speak_all(audio: Path, repeats: int) -> None:
    from bench.wer_sweep import entries, make_tts
    from macaw.stages import speak as speak

    tts = make_tts({})
    for rep in range(repeats):
        for name, script in entries().items():
            ctx = _context(audio / f"{name}-{rep}", {"tts": tts})
            ctx.log = lambda m: None
            speak.run(ctx, script)
            script.save(ctx.folder)
            print(f"spoke {name} take {rep}", flush=True)


def _value(text: str) -> Any:
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def compare(audio: Path, settings: list[str]) -> list[dict[str, Any]]:
    from macaw import config, engines
    from macaw.quality import listen, retake
    from macaw.stages import check
    from macaw.artifacts import Narration, Script, Source
    from macaw.stages.context import StageContext

    asr = engines.create("asr", {"engine": "faster-whisper", "model": "", "device": "auto", "compute_type": "int8", "beam_size": 1})
    asr._load()
    # A build's check uses the voice speak already loaded: retakes must not pay for loading it.
    tts = engines.create("tts", {"engine": "piper", "voice": "", "device": "auto", "speed": 1.0})
    tts._load()
    modules = {"listen": listen, "retake": retake}
    constants = {(m, k): getattr(modules[m], k) for m, k in (("listen", "RELISTEN_MARGIN"), ("listen", "RELISTEN_DOUBT"), ("listen", "CAREFUL_BEAM"),
                                                            ("listen", "WINDOWED"), ("listen", "WINDOW"), ("listen", "PREFER"), ("retake", "SLOW_AT"), ("retake", "SLOW_SPEED"))}
    parsed = []
    for spec in settings:
        label, _, rest = spec.partition(":")
        parsed.append((label, [tuple(kv.split("=", 1)) for kv in rest.split(",") if kv]))
    rows: list[dict[str, Any]] = []
    folders = sorted(p.parent for p in audio.glob("**/narration.wav") if (p.parent / "script.json").is_file())
    for folder in folders:
        take = folder if folder.name != "bench" else folder.parents[1]
        t, c = time.perf_counter(), time.process_time()
        segments, _ = asr._model.transcribe(str(folder / "narration.wav"), language="en", beam_size=1, word_timestamps=True)
        list(segments)
        rows.append({"label": "raw", "take": take.name, "wall": time.perf_counter() - t, "cpu": time.process_time() - c})
        print(f"{'raw':<14} {take.name:<28} wall {rows[-1]['wall']:5.1f}s cpu {rows[-1]['cpu']:5.1f}s", flush=True)
        for label, pairs in parsed:
            for (m, k), v in constants.items():
                setattr(modules[m], k, v)
            overrides = {}
            for k, v in pairs:
                m, _, name = k.partition(".")
                if m in modules:
                    setattr(modules[m], name, _value(v))
                else:
                    overrides[k] = _value(v)
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp) / "episodes" / "bench"
                shutil.copytree(folder, work)
                ctx = StageContext(config=config.load(out=Path(tmp), env={}, overrides=overrides), folder=work, episode_id="bench", log=lambda m: None)
                ctx._engines.update(asr=asr, tts=tts)
                script, narration = Script.load(work), Narration.load(work)
                t, c = time.perf_counter(), time.process_time()
                source = Source.load(work) if (work / "source.json").is_file() else Source(kind="journal", id="bench", title=script.title)
                q = check.run(ctx, script, narration, source)
                row = {"label": label, "take": take.name, "wall": time.perf_counter() - t, "cpu": time.process_time() - c, "words": q.words,
                       "first": round(q.wer_first_pass * q.words), "errors": round(q.wer * q.words), "retries": q.retries, "relistened": q.relistened}
            rows.append(row)
            print(f"{label:<14} {take.name:<28} errors {row['first']:3d} -> {row['errors']:3d}/{q.words} ({q.wer:.2%}) heard again {q.relistened:2d} "
                  f"retries {q.retries} wall {row['wall']:5.1f}s cpu {row['cpu']:5.1f}s", flush=True)
    for (m, k), v in constants.items():
        setattr(modules[m], k, v)
    return rows


def summary(rows: list[dict[str, Any]]) -> None:
    raw = [r for r in rows if r["label"] == "raw"]
    raw_wall, raw_cpu = sum(r["wall"] for r in raw), sum(r["cpu"] for r in raw)
    print(f"\n{'raw':<14} wall {raw_wall:6.1f}s cpu {raw_cpu:6.1f}s")
    for label in dict.fromkeys(r["label"] for r in rows if r["label"] != "raw"):
        mine = [r for r in rows if r["label"] == label]
        words = sum(r["words"] for r in mine)
        wall, cpu = sum(r["wall"] for r in mine), sum(r["cpu"] for r in mine)
        print(f"{label:<14} wall {wall:6.1f}s ({wall / raw_wall - 1:+.0%} vs raw) cpu {cpu:6.1f}s ({cpu / raw_cpu - 1:+.0%}) "
              f"WER first {sum(r['first'] for r in mine) / words:.2%} final {sum(r['errors'] for r in mine) / words:.2%} retries {sum(r['retries'] for r in mine)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, required=True, help="folder of saved takes (made by --speak)")
    parser.add_argument("--speak", type=int, default=0, help="first speak every entry this many times into --audio")
    parser.add_argument("settings", nargs="*", help="LABEL[:key=value,...]; default: the shipped settings")
    args = parser.parse_args()
    if args.speak:
        speak_all(args.audio, args.speak)
    summary(compare(args.audio, args.settings or ["default"]))


if __name__ == "__main__":
    main()
