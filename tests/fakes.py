"""Scripted engines for fast pipeline tests: no models, real stage code around them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from macaw import engines
from macaw.engines import Transcript, Word
from macaw.script.spoken import wer_words


class FakeLLM:
    def __init__(self, settings: dict[str, Any]):
        self.settings = settings
        self.calls = 0

    def generate(self, messages: list[dict[str, str]], *, max_tokens: int, seed: int) -> str:
        self.calls += 1
        return "This entry is about a journal."

    def fingerprint(self) -> dict[str, Any]:
        return {"engine": "fake-llm"}


class FakeTTS:
    """A tone per word, so durations grow with the text."""

    sample_rate = 16000

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        for i, _ in enumerate(text.split()):
            t = np.arange(int(0.25 / float(self.settings.get("speed") or 1.0) * self.sample_rate)) / self.sample_rate
            yield (0.2 * np.sin(2 * np.pi * (200 + 20 * (i % 10)) * t)).astype(np.float32)

    def fingerprint(self) -> dict[str, Any]:
        return {"engine": "fake-tts", "voice": self.settings.get("voice", ""), "speed": self.settings.get("speed")}


class EchoASR:
    """Hears exactly the script (read from beside the audio), or nothing when `deaf`."""

    def __init__(self, settings: dict[str, Any], deaf: bool = False):
        self.settings = settings
        self.deaf = deaf

    def transcribe(self, audio: Path) -> Transcript:
        if self.deaf:
            return Transcript(words=[])
        script = json.loads((Path(audio).parent / "script.json").read_text())
        words = [w for s in script["sentences"] for w in wer_words(s["spoken"])]
        return Transcript(words=[Word(w, 0.3 * i, 0.3 * i + 0.25) for i, w in enumerate(words)])

    def fingerprint(self) -> dict[str, Any]:
        return {"engine": "echo-asr", "deaf": self.deaf}


def install() -> None:
    engines.register("llm.fake", FakeLLM)
    engines.register("tts.fake", FakeTTS)
    engines.register("asr.echo", EchoASR)
    engines.register("asr.deaf", lambda s: EchoASR(s, deaf=True))


FAKE_OVERRIDES = {"llm.engine": "fake", "tts.engine": "fake", "asr.engine": "echo"}
