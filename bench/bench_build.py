"""One real build, measured, beside its raw engines on the same text: what `make bench` runs per input.

    python bench/bench_build.py KIND PATH OUT [--device auto|cpu|cuda]   # prints one JSON line

KIND is `journal` or `pdf`. The models load first, and each is called once on a short input
(`warm_up`: timed apart with the loads, counted in the whole-build RTF), then the
build runs in this process through macaw.pipeline.build with the real engines (a fresh process per input, so the peak RSS is that build's own, read from
/proc/self/status VmHWM before any raw measurement). Then, with the same engines still loaded:

- the LLM is called again on exactly the prompts the write stage sent (captured during the build),
  alone: the write stage's raw engine, and the tokens per second;
- Piper speaks the script's spoken text, sentence by sentence, with the voice as Macaw loads it
  and with the library's defaults (bench_voice._raw_piper);
- faster-whisper hears narration.wav the library's own way (bench_voice._raw_whisper: defaults,
  and greedy with word timestamps; and with exactly the first listen's decoding settings);
- pypdf extracts the text of every page in this process (extract's raw library), for a PDF;
- every engine call the check stage made (its first listen, the second listen, each round of
  retakes heard, each retake spoken) is replayed on the raw libraries (`replay_check`).

A stage's overhead is its seconds over its raw engines' seconds on the same work (`overheads`);
check's first listen is also set apart from the rest of check (second listen, retakes). During
the build the voice and the recogniser are timed from inside (`Timed`), so each stage's seconds
split into its engines' share and Macaw's own (`engine_in_stage_s`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]


def _hwm_mb() -> float:
    """Peak resident memory of this process so far (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Capture:
    """The reporter: per-stage seconds, whether each came from the cache, and the stage now running."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.cached: dict[str, bool] = {}
        self.lines: list[str] = []
        self.current = ""

    def episode(self, episode_id: str, index: int, total: int) -> None: ...

    def stage_started(self, stage: str) -> None:
        self.current = stage

    def stage_finished(self, stage: str, seconds: float, cached: bool) -> None:
        self.stages[stage] = round(seconds, 3)
        self.cached[stage] = cached

    def log(self, message: str) -> None:
        self.lines.append(message)


class RecordingLLM:
    """Wraps the real LLM engine: every call's arguments and seconds, so they can be replayed raw."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.calls: list[tuple[list[dict[str, str]], dict[str, Any], float]] = []

    def generate(self, messages: list[dict[str, str]], **kwargs: Any) -> str:
        started = time.perf_counter()
        reply = self.inner.generate(messages, **kwargs)
        self.calls.append((messages, kwargs, time.perf_counter() - started))
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Timed:
    """Wraps the real voice or recogniser: the seconds spent inside it, per stage and per call.

    So a stage's time splits into its engine's share and Macaw's own, and check's first listen
    (its first transcribe call) can be set beside the raw recogniser on the same audio. Every
    call is also kept for a raw replay (`replay_check`): the text and options of each take, and
    for each hearing its options and its audio, hard-linked into `keep` when given (check hears
    its retakes from a temporary file that is gone when the stage ends). The link is made after
    the call's seconds are taken, so it never counts as the engine's time.
    """

    def __init__(self, inner: Any, capture: Capture, keep: Path | None = None):
        self.inner = inner
        self.capture = capture
        self.keep = keep
        self.by_stage: dict[str, float] = {}
        self.calls: list[tuple[str, float, bool]] = []  # (stage, seconds, heard in windows)
        self.replay: list[tuple[str, str, Any, dict[str, Any]]] = []  # (stage, "hear" | "speak", audio path | text, options)

    def _add(self, seconds: float, windows: bool = False) -> None:
        stage = self.capture.current
        self.by_stage[stage] = self.by_stage.get(stage, 0.0) + seconds
        self.calls.append((stage, seconds, windows))

    def _kept(self, audio: Any) -> Any:
        if self.keep is None or not isinstance(audio, (str, Path)) or not Path(audio).is_file():
            return audio
        import os
        import shutil

        self.keep.mkdir(parents=True, exist_ok=True)
        target = self.keep / f"{len(self.replay):04d}{Path(audio).suffix}"
        try:
            os.link(audio, target)
        except OSError:
            shutil.copyfile(audio, target)
        return target

    def transcribe(self, audio: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.transcribe(audio, **kwargs)
        finally:
            self._add(time.perf_counter() - started, kwargs.get("windows") is not None)
            self.replay.append((self.capture.current, "hear", self._kept(audio), dict(kwargs)))

    def synthesize(self, text: str, **kwargs: Any) -> Any:
        self.replay.append((self.capture.current, "speak", text, dict(kwargs)))
        chunks = iter(self.inner.synthesize(text, **kwargs))
        spent = 0.0
        while True:  # only the time inside the voice, not the stage's work between its chunks
            started = time.perf_counter()
            try:
                chunk = next(chunks)
            except StopIteration:
                self._add(spent + time.perf_counter() - started)
                return
            spent += time.perf_counter() - started
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def warm_up(real: dict[str, Any]) -> None:
    """One short call into each engine after its load, before the build: the first call in a
    process pays for touching the weights, the BLAS and ONNX thread pools and the first buffers,
    which the raw replays (run after the build) would not pay. Both sides are then measured warm."""
    import tempfile

    import numpy as np

    from macaw.audio import write_wav

    llm, tts, asr = real["llm"], real["tts"], real["asr"]
    llm.generate([{"role": "user", "content": "Say one short sentence about the sea."}], max_tokens=16)
    audio = np.concatenate(list(tts.synthesize("A short sentence to warm the voice.")) or [np.zeros(1600, np.float32)])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "warm.wav"
        write_wav(path, audio, int(tts.sample_rate))
        asr.transcribe(path)


def measure(kind: str, path: str, out: Path, device: str = "auto", raw: bool | str = True) -> dict[str, Any]:
    """The build's row; `raw` False leaves out the raw engines (no overhead figures, half the time);
    "pdf": pypdf alone (extract's overhead, seconds more), not the models' replays."""
    from macaw import engines
    from macaw.artifacts import Narration, Quality, Script
    from macaw.config import load
    from macaw.errors import MacawError
    from macaw.pipeline import build, resolve

    overrides = {"llm.device": device, "tts.device": device, "asr.device": device}
    config = load(out=out, env={}, overrides=overrides)
    row: dict[str, Any] = {"kind": kind, "input": path}
    # The engines the build will use, created here so the LLM can be wrapped (pipeline.build
    # creates its own; the wrapper goes in through the registry under the configured name).
    real = {role: engines.create(role, config.section(role)) for role in ("llm", "tts", "asr")}
    recorder = RecordingLLM(real["llm"])
    capture = Capture()
    keep = out / ".bench-heard" if raw is True else None
    timed = {"tts": Timed(real["tts"], capture), "asr": Timed(real["asr"], capture, keep)}
    for role, engine in (("llm", recorder), ("tts", timed["tts"]), ("asr", timed["asr"])):
        engines.register(f"{role}.{config.section(role)['engine']}", lambda _s, e=engine: e)
    # Models load before the build and are timed apart, so each stage is compared warm to its warm
    # engine; the whole-build RTF counts the loads in.
    loads: dict[str, float] = {}
    for role, engine in real.items():
        t = time.perf_counter()
        if callable(getattr(engine, "_load", None)):
            engine._load()
        loads[role] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    warm_up(real)
    loads["warm_up"] = round(time.perf_counter() - t, 3)
    row["load_s"] = loads
    started = time.perf_counter()
    try:
        [outcome] = build(**{kind: path}, config=config, reporter=capture)
        row["error"] = None
    except MacawError as exc:
        row["error"] = f"{type(exc).__name__} (exit {exc.exit_code}): {exc}"
    row["build_s"] = round(time.perf_counter() - started, 3)
    row["peak_rss_mb"] = round(_hwm_mb(), 1)
    row["stage_seconds"] = capture.stages
    [request] = resolve(config, **{kind: path})
    folder = config.episodes_dir / request.episode_id
    row["episode"] = request.episode_id
    try:
        quality = Quality.load(folder)
        row["wer"] = {"first": round(quality.wer_first_pass, 4), "final": round(quality.wer, 4)}
        row["retries"], row["relistened"], row["words"] = quality.retries, quality.relistened, quality.words
    except (OSError, ValueError, KeyError):
        row["wer"] = None
    try:
        narration = Narration.load(folder)
        row["audio_s"] = round(narration.duration_s, 2)
        row["build_rtf"] = round((row["build_s"] + sum(loads.values())) / narration.duration_s, 4)
    except (OSError, ValueError, KeyError):
        row["audio_s"] = row["build_rtf"] = None
    row["engine_in_stage_s"] = engine_shares(capture, recorder, timed)
    if not raw:
        return row
    if raw == "pdf":
        row["raw"] = raw_pypdf(folder, kind)
    else:
        row["raw"] = raw_engines(real, recorder, folder, kind)
        row["raw"].update(replay_check(real, timed))
    row["overhead"] = overheads(capture, row["raw"], timed["asr"])
    return row


def engine_shares(capture: Capture, recorder: RecordingLLM, timed: dict[str, Timed]) -> dict[str, Any]:
    """Per stage that ran: its seconds, the seconds inside each engine, and what is left (Macaw's own)."""
    inside: dict[str, dict[str, float]] = {}
    if recorder.calls:
        inside.setdefault("write", {})["llm"] = sum(c[2] for c in recorder.calls)
    for role, engine in timed.items():
        for stage, seconds in engine.by_stage.items():
            inside.setdefault(stage, {})[role] = inside.get(stage, {}).get(role, 0.0) + seconds
    shares: dict[str, Any] = {}
    for stage, engines in inside.items():
        if stage in capture.stages and not capture.cached.get(stage):
            total = capture.stages[stage]
            shares[stage] = {**{role: round(v, 3) for role, v in engines.items()},
                             "macaw_own_s": round(total - sum(engines.values()), 3), "stage_s": total}
    return shares


def overheads(capture: Capture, raw: dict[str, Any], asr: Timed) -> dict[str, float]:
    """Each stage's seconds over its raw engines' seconds on the same work.

    `check`: the whole stage over the raw replay of every engine call it made (`replay_check`:
    faster-whisper the library's own way on each audio it heard, with that hearing's beam; Piper
    on each retake's text at its speed). `check_first_listen`: its first transcribe call
    (windows of whole sentences, batched) over faster-whisper's own pass on the same audio with
    the same decoding settings. `check_vs_one_pass` is kept for reference, not a target: the
    whole stage over that one raw pass, so it counts the second listen and the retakes too.
    """
    out: dict[str, float] = {}
    for stage, raw_key in (("write", "llm_s"), ("speak", "piper_s"), ("check", "check_replay_s"), ("extract", "pypdf_s")):
        value = raw.get(raw_key)
        if value and stage in capture.stages and not capture.cached.get(stage):
            out[stage] = round(capture.stages[stage] / value, 3)
    first = next((seconds for stage, seconds, _ in asr.calls if stage == "check"), None)
    if first is not None and raw.get("whisper_same_settings_s"):
        out["check_first_listen"] = round(first / raw["whisper_same_settings_s"], 3)
        if "check" in capture.stages and not capture.cached.get("check"):
            out["check_vs_one_pass"] = round(capture.stages["check"] / raw["whisper_same_settings_s"], 3)
    return out


def replay_check(real: dict[str, Any], timed: dict[str, Timed]) -> dict[str, Any]:
    """Every engine call the check stage made, replayed on the raw libraries, in the order made."""
    calls = [(what, payload, options) for engine in timed.values() for stage, what, payload, options in engine.replay if stage == "check"]
    if not calls:
        return {}
    asr, tts = real["asr"], real["tts"]
    asr._load()
    voice = tts._load()
    spent = {"hear": 0.0, "speak": 0.0}
    for what, payload, options in calls:
        started = time.perf_counter()
        if what == "hear":
            segments, _ = asr._model.transcribe(str(payload), **asr._sequential(options.get("beam_size")))
            for _ in segments:
                pass
        else:
            for _ in voice.synthesize(payload, syn_config=tts.syn_config(options.get("speed"))):
                pass
        spent[what] += time.perf_counter() - started
    return {"check_replay_s": round(sum(spent.values()), 3), "check_replay_whisper_s": round(spent["hear"], 3),
            "check_replay_piper_s": round(spent["speak"], 3),
            "check_replay_calls": {w: sum(1 for c in calls if c[0] == w) for w in ("hear", "speak")}}


def raw_engines(real: dict[str, Any], recorder: RecordingLLM, folder: Path, kind: str) -> dict[str, Any]:
    """The raw engines on the same prompts, text and audio the build used."""
    from macaw.artifacts import Narration, Script

    from bench.bench_voice import _raw_whisper

    raw: dict[str, Any] = {}
    if recorder.calls:
        if callable(getattr(real["llm"], "_load", None)):
            real["llm"]._load()  # the build let it go after write (pipeline release): load it again, untimed
        started, tokens = time.perf_counter(), 0
        for messages, kwargs, _ in recorder.calls:
            reply = real["llm"].generate(messages, **kwargs)
            tokens += real["llm"].count_tokens(reply) if hasattr(real["llm"], "count_tokens") else max(1, len(reply) // 4)
        raw["llm_s"] = round(time.perf_counter() - started, 3)
        raw["llm_calls"] = len(recorder.calls)
        raw["llm_tokens"] = tokens
        raw["llm_tokens_per_s"] = round(tokens / raw["llm_s"], 2) if raw["llm_s"] else None
        raw["llm_in_build_s"] = round(sum(c[2] for c in recorder.calls), 3)
    try:
        script = Script.load(folder)
    except (OSError, ValueError, KeyError):
        return raw
    tts = real["tts"]
    tts._load()
    started = time.perf_counter()
    for sentence in script.sentences:  # as speak calls it: one sentence at a time, Macaw's voice options
        for _ in tts._voice.synthesize(sentence.spoken, syn_config=tts._syn_config):
            pass
    raw["piper_s"] = round(time.perf_counter() - started, 3)
    try:
        narration = Narration.load(folder)
    except (OSError, ValueError, KeyError):
        return raw
    asr = real["asr"]
    asr._load()
    (rtf_default, wer_default), (rtf_greedy, wer_greedy) = _raw_whisper(asr, folder / narration.audio, narration.duration_s, script)
    raw["whisper_default_s"] = round(rtf_default * narration.duration_s, 3)
    raw["whisper_greedy_s"] = round(rtf_greedy * narration.duration_s, 3)
    raw["whisper_default_wer"], raw["whisper_greedy_wer"] = round(wer_default, 4), round(wer_greedy, 4)
    # The first listen's own decoding settings (greedy, one temperature, word times, VAD), heard
    # the library's way, one 30 s window after another: what check_first_listen is set against.
    started = time.perf_counter()
    segments, _ = asr._model.transcribe(str(folder / narration.audio), **asr._sequential(None))
    for _ in segments:
        pass
    raw["whisper_same_settings_s"] = round(time.perf_counter() - started, 3)
    raw.update(raw_pypdf(folder, kind))
    return raw


def raw_pypdf(folder: Path, kind: str) -> dict[str, Any]:
    """pypdf's own text extraction over every page of the build's PDF, in this process."""
    if kind != "pdf" or not (folder / "source.pdf").exists():
        return {}
    from pypdf import PdfReader

    started = time.perf_counter()
    for page in PdfReader(folder / "source.pdf").pages:
        page.extract_text()
    return {"pypdf_s": round(time.perf_counter() - started, 3)}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["journal", "pdf"])
    parser.add_argument("path")
    parser.add_argument("out", type=Path)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-raw", action="store_true", help="leave out the raw engines (no overhead figures)")
    parser.add_argument("--raw-pdf-only", action="store_true", help="of the raw engines, pypdf alone (extract's overhead)")
    a = parser.parse_args()
    raw: bool | str = False if a.no_raw else ("pdf" if a.raw_pdf_only else True)
    print("BENCH-ROW " + json.dumps(measure(a.kind, a.path, a.out, a.device, raw=raw), default=str))
