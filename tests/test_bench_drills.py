"""The bench's verdicts and the drills' watcher can fail: a figure over its target says FAIL, a
wrong exit code or a child over its time is not a pass."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.drills.common import Run, expect_error, run_cli  # noqa: E402
from bench.run import inputs, main, summarise, table  # noqa: E402
import pytest  # noqa: E402


def _row(rtf: float, overhead: float, error: str | None = None) -> dict:
    return {"build_rtf": rtf, "stage_seconds": {"speak": 10.0}, "overhead": {"speak": overhead}, "wer": {"first": 0.03, "final": 0.02},
            "audio_s": 60.0, "peak_rss_mb": 900.0, "raw": {"llm_tokens_per_s": 40.0}, "error": error}


def test_targets_pass_and_fail() -> None:
    results = summarise({"builds": {"paper a": _row(0.2, 1.05), "paper b": _row(0.4, 1.3)}, "rebuild": {"best_s": 1.2},
                         "publish": {"cli_warm_s": 1.5}})
    assert results["build_rtf"] == {"paper a": 0.2, "paper b": 0.4}
    assert results["overhead"]["speak"] == {"median": 1.175, "max": 1.3, "inputs": 2}
    text = table(results)
    assert "worst 0.4   FAIL" in text
    assert "target <= 1.10x (max): FAIL" in text
    assert "cached rebuild   1.2 s   target < 3 s: pass" in text
    assert "target < 1 s: FAIL" in text
    ok = table(summarise({"builds": {"paper a": _row(0.2, 1.05)}}))
    assert "worst 0.2   pass" in ok and "(max): pass" in ok


def test_only_names_the_inputs_and_an_unknown_name_is_an_error(capsys) -> None:
    assert [r[0] for r in inputs(None, None, only=["sample"])] == ["sample"]
    with pytest.raises(SystemExit) as exit_:
        main(["--only", "no-such-paper", "--skip", "builds,rebuild,voice,publish,areas"])
    assert exit_.value.code == 2 and "no such input: no-such-paper" in capsys.readouterr().err


def test_builds_without_their_raw_engines_say_the_overheads_were_not_measured() -> None:
    row = {k: v for k, v in _row(0.2, 1.0).items() if k not in ("overhead", "raw")}
    results = summarise({"builds": {"paper a": row}})
    assert results["overhead"] == {} and "overhead: not measured" in table(results)


def test_a_paper_that_did_not_build_fails_the_rtf_target() -> None:
    text = table(summarise({"builds": {"paper a": _row(0.2, 1.0), "paper b": {"error": "DamagedPdfError", "build_rtf": None}}}))
    assert "FAIL (1 of 2 papers did not build)" in text


def test_expect_error_wants_its_code_one_line_and_time() -> None:
    good = Run(25, "", "error: x.pdf is damaged\n", 1.0, 80.0)
    assert expect_error(good, 25).passed
    assert not expect_error(good, 24).passed
    assert not expect_error(Run(25, "", "error: x.pdf is damaged\n", 31.0, 80.0), 25).passed
    assert not expect_error(Run(70, "", "internal error: boom\n", 1.0, 80.0), 70).passed
    assert not expect_error(Run(25, "", "Traceback (most recent call last):\nerror: x\n", 1.0, 80.0), 25).passed


def test_watcher_kills_a_child_past_its_time(tmp_path: Path) -> None:
    run = run_cli(["--help"], timeout=0.01, prefix=["sh", "-c", "sleep 5; exec \"$@\"", "sh"])
    assert run.killed.startswith("over") and run.code == -9 and run.seconds < 4


def test_the_bench_wrappers_pass_every_argument_the_engines_take() -> None:
    """bench_build times the real voice and recogniser through wrappers; a wrapper that drops a
    keyword the stage passes (the slow retake's `speed`) crashes the bench build, not the stage."""
    import inspect

    from bench.bench_build import Capture, Timed
    from macaw.engines.asr_whisper import WhisperASR
    from macaw.engines.tts_piper import PiperTTS

    class Voice:
        def synthesize(self, text: str, speed: float | None = None):
            yield [0.0] * (2 if speed else 1)

    timed = Timed(Voice(), Capture())
    assert [len(c) for c in timed.synthesize("a", speed=0.85)] == [2]
    for real, wrapper in ((PiperTTS.synthesize, Timed.synthesize), (WhisperASR.transcribe, Timed.transcribe)):
        taken = [p for p in inspect.signature(real).parameters.values() if p.name != "self"]
        accepts = inspect.signature(wrapper).parameters
        assert any(p.kind is p.VAR_KEYWORD for p in accepts.values()) or all(p.name in accepts for p in taken), real


def test_the_check_replay_hears_every_audio_check_heard_even_a_deleted_temporary(tmp_path) -> None:
    """check's overhead is its seconds over a raw replay of its own engine calls; the retakes are
    heard from a temporary file check deletes, so the wrapper must keep it for the replay."""
    import time
    from dataclasses import dataclass
    from types import SimpleNamespace

    from bench.bench_build import Capture, Timed, overheads, replay_check
    from macaw.engines.tts_piper import PiperTTS

    heard: list[tuple[str, int, bytes]] = []
    spoken: list[tuple[str, float]] = []

    class Model:
        def transcribe(self, path: str, **options):
            heard.append((Path(path).suffix, options["beam_size"], Path(path).read_bytes()))
            time.sleep(0.01)  # so the replay's seconds are not rounded away
            return iter([]), None

    class Voice:
        def synthesize(self, text: str, syn_config):
            spoken.append((text, syn_config.length_scale))
            yield None

    @dataclass(frozen=True)
    class Syn:
        length_scale: float = 1.0

    asr = SimpleNamespace(_model=Model(), _load=lambda: None, _sequential=lambda beam: {"beam_size": beam or 1},
                          transcribe=lambda audio, **kw: SimpleNamespace(words=[]))
    tts = SimpleNamespace(_load=lambda: Voice(), _syn_config=Syn(), speed=1.0, synthesize=lambda text, **kw: iter([[0.0]]))
    tts.syn_config = lambda speed=None: PiperTTS.syn_config(tts, speed)  # the voice's own rule for a call's pace
    capture = Capture()
    timed = {"tts": Timed(tts, capture), "asr": Timed(asr, capture, tmp_path / "kept")}
    capture.stage_started("speak")
    list(timed["tts"].synthesize("Spoken once in speak."))
    capture.stage_started("check")
    narration = tmp_path / "narration.wav"
    narration.write_bytes(b"first")
    timed["asr"].transcribe(narration, windows=[(0.0, 1.0)])
    list(timed["tts"].synthesize("A retake, slower.", speed=0.8))
    clips = tmp_path / ".retry-x" / "clips.wav"
    clips.parent.mkdir()
    clips.write_bytes(b"clips")
    timed["asr"].transcribe(clips, beam_size=5)
    clips.unlink()  # as check's TemporaryDirectory does
    capture.stage_finished("check", 2.0, False)

    raw = replay_check({"asr": asr, "tts": tts}, timed)
    assert [(s, b, data) for s, b, data in heard] == [(".wav", 1, b"first"), (".wav", 5, b"clips")]
    assert spoken == [("A retake, slower.", 1.25)]  # only check's calls, at the retake's speed
    assert raw["check_replay_calls"] == {"hear": 2, "speak": 1} and raw["check_replay_s"] > 0
    ratio = overheads(capture, {**raw, "whisper_same_settings_s": 1.0}, timed["asr"])
    assert ratio["check"] == round(2.0 / raw["check_replay_s"], 3) and ratio["check_vs_one_pass"] == 2.0
