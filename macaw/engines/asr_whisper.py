"""faster-whisper speech recognition: the bundled tiny.en, or any faster-whisper model by config.

`model` is empty (bundled tiny.en), a local CTranslate2 model folder, or a faster-whisper
model name (which faster-whisper resolves itself, from its cache or the hub). Construction is
cheap; the model loads on the first `transcribe`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from macaw.engines import Transcript, Word
from macaw.errors import EngineError, ModelNotFoundError


WINDOW_LIMIT = 30.0  # seconds the recogniser hears at once
# Windows decoded side by side. Each one holds its own 1500x1500 attention scores per head in
# the encoder (~54 MB for tiny.en), so the batch sets check's peak memory: on a 253 s narration
# (11 windows), 8 -> +500 MiB over the loaded model, 4 -> +260, 2 -> +155, for 11.7-13.9, 11.6-12.5
# and 15.4 CPU seconds, and the same words and times from 8 and 4 (bench3, load average 16-18).
WINDOW_BATCH = 4


def _words(segments: Any, offset: float) -> list[Word]:
    return [
        Word(text=w.word.strip(), start=float(w.start) + offset, end=float(w.end) + offset, probability=float(w.probability))
        for segment in segments
        for w in (segment.words or [])
        if w.word.strip()
    ]


class WhisperASR:
    name = "faster-whisper"
    capabilities = frozenset({"beam_size", "windows"})  # declared: see macaw.engines.supports

    def __init__(self, model: str | Path, *, device: str = "auto", compute_type: str = "int8", beam_size: int = 1, options: dict[str, Any] | None = None):
        self.model = str(model)
        self.device = device
        self.compute_type = compute_type
        self.beam_size = int(beam_size)
        # Extra faster-whisper transcribe() arguments over the defaults below (bench/wer_sweep.py
        # measures them). Never the script's text as initial_prompt or hotwords: that would bias
        # the recogniser toward what it expects to hear and hide what the voice actually said.
        self.options = dict(options or {})
        self._model: Any = None

    @property
    def model_label(self) -> str:
        path = Path(self.model)
        return path.parent.name + "/" + path.name if path.exists() else self.model

    def _load(self) -> Any:
        if self._model is None:
            from faster_whisper import WhisperModel

            from macaw.engines import resolve_device

            device = resolve_device(self.device)
            compute_type = self.compute_type
            if device == "cuda" and compute_type == "int8":
                compute_type = "int8_float16"  # int8 alone leaves the GPU's float16 units idle
            try:
                self._model = WhisperModel(self.model, device=device, compute_type=compute_type, cpu_threads=os.cpu_count() or 1)
            except (OSError, RuntimeError, ValueError) as exc:
                raise ModelNotFoundError(
                    f"cannot load faster-whisper model {self.model!r}: {exc}",
                    hint="set [asr] model in macaw.toml to a CTranslate2 model folder, or leave it empty for the bundled tiny.en",
                ) from None
        return self._model

    def release(self) -> None:
        """Let the model go (the next transcribe loads it again): see LocalLLM.release."""
        self._model = None
        import gc

        gc.collect()

    def _settings(self, beam_size: int | None) -> dict[str, Any]:
        settings: dict[str, Any] = dict(
            language="en",
            beam_size=int(beam_size or self.beam_size),
            word_timestamps=True,
            # One greedy pass: the temperature fallback re-decodes a whole 30 s window up to five
            # times when it doubts itself, which made a check several times slower for nothing.
            temperature=0.0,
            condition_on_previous_text=False,  # a stumble must not bleed into the next sentence
        )
        settings.update({k: v for k, v in self.options.items() if k not in ("initial_prompt", "hotwords", "prefix")})
        return settings

    def _sequential(self, beam_size: int | None) -> dict[str, Any]:
        """Settings for faster-whisper's own windowing, which seeks through the audio."""
        settings = self._settings(beam_size)
        # Without VAD, tiny.en hears "Thank you." in the silence at the end of an episode; with
        # it, silent stretches are skipped and word times still map to the full audio.
        settings.setdefault("vad_filter", True)
        settings.setdefault("vad_parameters", {"speech_pad_ms": 200, "min_silence_duration_ms": 300})
        return settings

    def transcribe(self, audio: Path, *, beam_size: int | None = None, windows: list[tuple[float, float]] | None = None) -> Transcript:
        """`beam_size` overrides the configured beam for this call (check's second, careful listen).

        `windows`: (start, end) seconds that cover the audio, each heard as one 30 s window of the
        recogniser, all in batches. The caller cuts them in pauses (check knows where every
        sentence lies), so no word is split between two windows, and the windows are decoded side
        by side instead of one after another. On 8 saved takes (3 journal entries and the sample,
        bench/check_ab.py) the first listen took 40 s against 53 s for faster-whisper's own pass,
        and heard 6.0% of the words wrong against 6.5%. A window longer than 30 s is heard on its
        own, the usual way.
        Words come back in the file's time either way.
        """
        model = self._load()
        try:
            if windows is None:
                segments, _ = model.transcribe(str(audio), **self._sequential(beam_size))
                words = _words(segments, 0.0)
            else:
                words = self._transcribe_windows(model, audio, windows, beam_size)
        except (OSError, RuntimeError, ValueError) as exc:
            raise EngineError(f"faster-whisper could not transcribe {audio}: {exc}", hint="check the audio file") from None
        return Transcript(words=words, language="en")

    def _transcribe_windows(self, model: Any, audio: Path, windows: list[tuple[float, float]], beam_size: int | None) -> list[Word]:
        import inspect

        from faster_whisper import BatchedInferencePipeline, decode_audio

        rate = 16000
        samples = decode_audio(str(audio), sampling_rate=rate)
        length = len(samples) / rate
        windows = [(max(0.0, a), min(length, b)) for a, b in windows if min(length, b) - max(0.0, a) > 0.05]
        settings = self._settings(beam_size)
        short = [(a, b) for a, b in windows if b - a <= WINDOW_LIMIT]
        words: list[Word] = []
        if short:
            pipeline = BatchedInferencePipeline(model)
            accepted = set(inspect.signature(pipeline.transcribe).parameters)
            segments, _ = pipeline.transcribe(
                samples,
                clip_timestamps=[{"start": a, "end": b} for a, b in short],
                batch_size=WINDOW_BATCH,
                without_timestamps=True,  # one segment per window; words timed by alignment
                **{k: v for k, v in settings.items() if k in accepted},
            )
            words += _words(segments, 0.0)
        for a, b in windows:
            if b - a > WINDOW_LIMIT:  # a sentence longer than a window: heard the usual way
                piece = samples[int(a * rate) : int(b * rate)]
                segments, _ = model.transcribe(piece, **self._sequential(beam_size))
                words += _words(segments, a)
        return sorted(words, key=lambda w: w.start)

    def fingerprint(self) -> dict[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        from macaw.models import file_digest

        try:
            fw_version = version("faster-whisper")
        except PackageNotFoundError:
            fw_version = "unknown"
        path = Path(self.model)
        return {
            "engine": self.name,
            "version": fw_version,
            "model": self.model_label,
            "model_sha256": file_digest(path) if path.exists() else self.model,
            "compute_type": self.compute_type,
            "beam_size": self.beam_size,
            **({"options": self.options} if self.options else {}),
        }


def create(settings: dict[str, Any]) -> WhisperASR:
    model = settings.get("model") or ""
    if model:
        expanded = Path(model).expanduser()
        if expanded.exists():
            model = str(expanded)
        elif model.startswith(("/", ".", "~")) or model.count("/") > 1:
            # It reads as a path, not a model name like "small.en" or "Systran/faster-whisper-small".
            raise ModelNotFoundError(f"faster-whisper model folder not found: {expanded}", hint="set [asr] model to an existing folder or a model name")
    else:
        from macaw.models import bundled_asr

        model = str(bundled_asr())
    return WhisperASR(
        model,
        device=settings.get("device", "auto"),
        compute_type=settings.get("compute_type", "int8"),
        beam_size=int(settings.get("beam_size", 1)),
    )
