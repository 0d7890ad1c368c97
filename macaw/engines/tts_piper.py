"""Piper text-to-speech: the bundled en_US-joe-medium voice, or any Piper voice file named in config.

Construction is cheap (the stage cache needs `fingerprint()` even when speak does not run);
the ONNX model loads on the first `synthesize`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from macaw.errors import ModelNotFoundError


class PiperTTS:
    name = "piper"
    capabilities = frozenset({"speed"})  # declared: see macaw.engines.supports

    def __init__(self, voice: Path, *, device: str = "auto", speed: float = 1.0, noise_scale: float | None = None, noise_w_scale: float | None = None):
        self.voice_path = Path(voice)
        self.config_path = self.voice_path.with_name(self.voice_path.name + ".json")
        if not self.voice_path.is_file():
            raise ModelNotFoundError(
                f"Piper voice file not found: {self.voice_path}",
                hint="set [tts] voice in macaw.toml to a Piper .onnx file (its .onnx.json beside it), or leave it empty for the bundled voice",
            )
        if not self.config_path.is_file():
            raise ModelNotFoundError(
                f"Piper voice config not found: {self.config_path}",
                hint="a Piper voice is two files: voice.onnx and voice.onnx.json, side by side",
            )
        self.device = device
        self.speed = float(speed)
        # None: the voice's own settings (its .onnx.json); see QualityConfig in config.py for measurements.
        self.noise_scale = noise_scale
        self.noise_w_scale = noise_w_scale
        try:
            config = json.loads(self.config_path.read_text(encoding="utf-8"))
            self.sample_rate: int = int(config["audio"]["sample_rate"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelNotFoundError(f"{self.config_path} is not a Piper voice config ({exc})", hint="use the .onnx.json that came with the voice") from None
        self._voice: Any = None
        self._syn_config: Any = None
        self.seed = 0

    def reseed(self, seed: int = 0) -> None:
        """Start the voice's noise afresh: onnxruntime seeds the model's random ops once, when
        its session is made, so the session is made again on the next synthesis (executors call
        this before each item: an item's audio then depends on its text alone)."""
        self.seed = seed
        self._voice = None

    def release(self) -> None:
        """Let the voice's session go (the next synthesis makes it again): see LocalLLM.release."""
        self._voice = None
        import gc

        gc.collect()

    def _load(self) -> Any:
        if self._voice is None:
            import onnxruntime
            from piper import PiperVoice, SynthesisConfig

            onnxruntime.set_seed(self.seed)

            from macaw.engines import resolve_device

            use_cuda = resolve_device(self.device) == "cuda" and _onnx_has_cuda()
            if self.device == "cuda" and not use_cuda:
                from macaw.errors import EngineUnavailableError

                raise EngineUnavailableError(
                    "tts.device is 'cuda' but onnxruntime has no CUDA provider",
                    hint="pip install onnxruntime-gpu, or set [tts] device = 'auto'",
                )
            if use_cuda:
                self._voice = PiperVoice.load(self.voice_path, config_path=self.config_path, use_cuda=True)
            else:
                self._voice = _cpu_voice(self.voice_path, self.config_path)
            self._syn_config = SynthesisConfig(length_scale=1.0 / self.speed, noise_scale=self.noise_scale, noise_w_scale=self.noise_w_scale)
        return self._voice

    def synthesize(self, text: str, speed: float | None = None) -> Iterator[np.ndarray]:
        """Float32 mono chunks at `sample_rate` (Piper yields one per sentence it finds in `text`).
        `speed`: this call's pace, relative to the configured one (0.85: 15% slower)."""
        voice = self._load()
        for chunk in voice.synthesize(text, syn_config=self.syn_config(speed)):
            yield np.asarray(chunk.audio_float_array, dtype=np.float32)

    def syn_config(self, speed: float | None = None) -> Any:
        """Piper's synthesis settings for a call at `speed` (relative to the configured pace)."""
        self._load()
        if speed is None or speed == 1.0:
            return self._syn_config
        from dataclasses import replace

        return replace(self._syn_config, length_scale=1.0 / (self.speed * float(speed)))

    def fingerprint(self) -> dict[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        from macaw.models import file_digest

        try:
            piper_version = version("piper-tts")
        except PackageNotFoundError:
            piper_version = "unknown"
        return {
            "engine": self.name,
            "version": piper_version,
            "voice": self.voice_path.name,
            "voice_sha256": file_digest(self.voice_path),
            "config_sha256": file_digest(self.config_path),
            "speed": self.speed,
            "noise_scale": self.noise_scale,
            "noise_w_scale": self.noise_w_scale,
        }


def _cpu_voice(voice: Path, config: Path) -> Any:
    """PiperVoice.load on CPU, with onnxruntime's basic graph optimisations instead of all of them:
    the session is ready in 0.4 s instead of 0.6 s and speaks as fast (RTF 0.065 vs 0.068 on
    the bundled voice, 4 alternating runs)."""
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    session = onnxruntime.InferenceSession(str(voice), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))), session=session)


def _onnx_has_cuda() -> bool:
    # A GPU that ctranslate2 sees is not enough: the CPU-only onnxruntime wheel cannot use it.
    try:
        import onnxruntime

        return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    except ImportError:
        return False


def create(settings: dict[str, Any]) -> PiperTTS:
    voice = settings.get("voice") or ""
    if voice:
        path = Path(voice).expanduser()
    else:
        from macaw.models import bundled_voice

        path = bundled_voice()
    return PiperTTS(path, device=settings.get("device", "auto"), speed=float(settings.get("speed", 1.0)))
