"""Test helpers for speak, check and master: a small script, a stage context, fake engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

from macaw import config as config_mod
from macaw.artifacts import Author, Script, Sentence, Source
from macaw.engines import Transcript, Word
from macaw.script.spoken import to_spoken
from macaw.stages.context import StageContext

SENTENCES = [
    ("Introduction", 0, "Welcome to the show."),
    ("Introduction", 0, "Today we read a journal entry about learning."),
    ("Introduction", 1, "It was written in October 2024."),
    ("The cycle", 0, "This cycle was mostly spent reading papers about neural networks."),
    ("The cycle", 0, "I wrote a small training loop and watched the loss go down."),
    ("The cycle", 1, "Next week I want to study how models store facts."),
    ("Outro", 0, "Thanks for listening."),
]


def script(sentences: list[tuple[str, int, str]] = SENTENCES, title: str = "A short journal entry") -> Script:
    return Script(title=title, sentences=[Sentence(text=t, spoken=to_spoken(t), segment=seg, paragraph=p) for seg, p, t in sentences])


def source(title: str = "A short journal entry") -> Source:
    return Source(kind="journal", id="journal-2024-10-14-test", title=title, authors=[Author("Ada Lovelace")], date="2024-10-14", origin="entry.md")


def context(tmp_path: Path, overrides: dict[str, Any] | None = None, engines: dict[str, Any] | None = None) -> StageContext:
    cfg = config_mod.load(out=tmp_path, env={}, overrides=overrides or {})
    folder = tmp_path / "episodes" / "journal-test"
    folder.mkdir(parents=True, exist_ok=True)
    ctx = StageContext(config=cfg, folder=folder, episode_id="journal-test", log=lambda m: None)
    ctx._engines.update(engines or {})
    return ctx


class ToneTTS:
    """A voice that says every sentence as a tone, 0.05 s per character, so lengths are predictable."""

    name = "tone"

    def __init__(self, sample_rate: int = 16000, seconds_per_char: float = 0.05):
        self.sample_rate = sample_rate
        self.seconds_per_char = seconds_per_char
        self.calls: list[str] = []

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        self.calls.append(text)
        n = int(len(text) * self.seconds_per_char * self.sample_rate)
        t = np.arange(n) / self.sample_rate
        yield (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)

    def fingerprint(self) -> dict[str, Any]:
        return {"engine": self.name, "voice": "tone"}


class ScriptedASR:
    """Hears whatever `hear(path)` returns: a list of (word, start, end)."""

    name = "scripted"

    def __init__(self, hear):
        self.hear = hear
        self.calls: list[Path] = []

    def transcribe(self, audio: Path) -> Transcript:
        self.calls.append(Path(audio))
        return Transcript(words=[Word(w, s, e) for w, s, e in self.hear(Path(audio))])

    def fingerprint(self) -> dict[str, Any]:
        return {"engine": self.name, "model": "scripted"}


def words_for(script: Script, narration, drop: set[int] = frozenset(), replace: dict[int, str] | None = None) -> list[tuple[str, float, float]]:
    """What a perfect listener hears from `narration`: each sentence's words spread over its span."""
    out = []
    for span in narration.sentences:
        if span.index in drop:
            continue
        text = (replace or {}).get(span.index, script.sentences[span.index].text)
        words = text.split()
        step = (span.end - span.start) / max(1, len(words))
        out += [(w, span.start + k * step, span.start + (k + 1) * step) for k, w in enumerate(words)]
    return out


class ToneListener:
    """A fake recogniser for ToneTTS audio: finds the tones (sentences) between the silences and
    hears each as its script sentence, except those in `wrong` during the first `wrong_times`
    full-narration passes, with probability `wrong_probability` (a slip the recogniser itself
    doubts). A short clip (a retake heard alone) is heard as `clip_text`."""

    name = "tone-listener"

    def __init__(self, script: Script, wrong: dict[int, str] | None = None, wrong_times: int = 1, clip_text: str = "",
                 wrong_probability: float = 0.5):
        self.script = script
        self.wrong_probability = wrong_probability
        self.wrong = wrong or {}
        self.wrong_times = wrong_times
        self.clip_text = clip_text
        self.full_passes = 0
        self.calls: list[Path] = []

    def transcribe(self, audio: Path) -> Transcript:
        import soundfile as sf

        self.calls.append(Path(audio))
        data, sr = sf.read(str(audio), dtype="float32")
        runs = _runs(np.abs(data) > 0, int(0.1 * sr))
        words: list[Word] = []
        if len(runs) == len(self.script.sentences):
            wrong = self.wrong if self.full_passes < self.wrong_times else {}
            self.full_passes += 1
            texts = [wrong.get(i, s.text) for i, s in enumerate(self.script.sentences)]
            sure = [self.wrong_probability if i in wrong else 1.0 for i in range(len(texts))]
        else:
            texts = [self.clip_text] * len(runs)
            sure = [1.0] * len(runs)
        for (a, b), text, p in zip(runs, texts, sure):
            parts = text.split()
            step = (b - a) / sr / max(1, len(parts))
            words += [Word(w, a / sr + k * step, a / sr + (k + 1) * step, p) for k, w in enumerate(parts)]
        return Transcript(words=words)

    def fingerprint(self) -> dict[str, Any]:
        return {"engine": self.name, "model": "tones"}


def _runs(mask: np.ndarray, min_gap: int) -> list[tuple[int, int]]:
    """(start, end) sample ranges where mask is true, joining runs split by gaps shorter than min_gap."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > min_gap)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks] + 1, [idx[-1] + 1]])
    return list(zip(starts.tolist(), ends.tolist()))
