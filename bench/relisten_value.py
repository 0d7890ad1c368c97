"""What the second listen buys on saved builds: first-listen errors, errors after the second
listen alone (before any retake), and the seconds it takes.

    python bench/relisten_value.py /tmp/macaw-bench-XXXX      # an output root of `make bench` (build-*/episodes/*/)

Only PDF builds are read (papers). Nothing is retaken or written; the recogniser hears the saved
narration.wav as check's first and second listens do.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(root: Path) -> None:
    from macaw import config, engines
    from macaw.artifacts import Narration, Script, Source
    from macaw.quality import listen
    from macaw.quality.align import script_reference
    from macaw.quality.score import score
    from macaw.stages.check import proper_names
    from macaw.stages.context import StageContext

    asr = engines.create("asr", {"engine": "faster-whisper", "model": "", "device": "auto", "compute_type": "int8", "beam_size": 1})
    asr._load()
    first_errors = after_errors = words = 0
    first_s = second_s = 0.0
    for wav in sorted(root.glob("build-*/episodes/*/narration.wav")):
        folder = wav.parent
        source = Source.load(folder)
        if source.kind != "pdf":
            continue
        with tempfile.TemporaryDirectory() as tmp:
            ctx = StageContext(config=config.load(out=Path(tmp), env={}, overrides={}), folder=Path(tmp), episode_id="x", log=lambda m: None)
            ctx._engines.update(asr=asr)
            script, narration = Script.load(folder), Narration.load(folder)
            spans = list(narration.sentences)
            started = time.perf_counter()
            heard = listen.transcribe(asr, wav, [(s.start, s.end) for s in spans], narration.duration_s)
            first = time.perf_counter() - started
            ref, names = script_reference(script), proper_names(ctx.config, source, script)
            scored = score(script, heard, ref, names)
            plan = listen.relisten_plan(ctx, wav, spans, scored)
            started = time.perf_counter()
            again = listen.hear_clips(ctx, plan.clips, plan.sample_rate, careful=True) if plan.clips else []
            second = time.perf_counter() - started
            after, _ = listen.relisten(script, scored, names, plan, again)
        first_errors, after_errors, words = first_errors + scored.errors, after_errors + after.errors, words + len(ref)
        first_s, second_s = first_s + first, second_s + second
        print(f"{source.metadata.get('filename', folder.name)} {folder.name}: errors {scored.errors} -> {after.errors} of {len(ref)} "
              f"({scored.wer:.2%} -> {after.wer:.2%}); doubted {len(plan.windows)} of {len(spans)} sentences, "
              f"{sum(b - a for _, a, b in plan.order):.0f} s heard again in {second:.1f} s (first listen {first:.1f} s)", flush=True)
    if words:
        print(f"all: errors {first_errors} -> {after_errors} of {words} ({first_errors / words:.2%} -> {after_errors / words:.2%}); "
              f"second listen {second_s:.0f} s, first listens {first_s:.0f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
