"""What every stage gets (StageContext) and what every stage declares (Stage).

Each stage module (macaw/stages/<name>.py) defines `STAGE = Stage(...)` and `run(ctx, ...)`.
The declaration is the one place that says what the stage reads and what decides its output;
the pipeline derives from it both the arguments of `run` (the artifacts of `reads`, in order)
and the stage's cache key (their files' digests, the engines' fingerprints, the options, the
version, the digest of the stage's code and of its templates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from macaw import engines
from macaw.config import Config


@dataclass(frozen=True)
class Stage:
    reads: tuple[str, ...]  # earlier stages whose artifacts run() takes after ctx, in this order
    artifact: type  # the Artifact run() returns; the pipeline saves it as artifact.filename
    # Other files the stage writes and later stages may read: names, or a function of the episode
    # folder and the settings. They are part of the outputs a cached result needs, and their
    # digests enter the keys of the stages that read this one.
    files: tuple[str, ...] | Callable[[Path, Config], list[str]] = ()
    engines: tuple[str, ...] = ()  # roles (llm, tts, asr) whose fingerprints enter the key
    options: Callable[[Config], dict[str, Any]] = lambda config: {}
    version: int = 1  # bump when the output for the same inputs changes for a reason not in the code
    code: tuple[str, ...] = ()  # modules or packages besides the stage's own whose code decides the output
    templates: tuple[str, ...] = ()  # glob patterns in macaw/templates/ whose text decides the output

    def written(self, folder: Path, config: Config) -> list[str]:
        extra = self.files(folder, config) if callable(self.files) else list(self.files)
        return [self.artifact.filename, *extra]


@dataclass
class StageContext:
    config: Config
    folder: Path  # episodes/<id>/
    episode_id: str
    log: Callable[[str], None] = lambda message: None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage so far
    _engines: dict[str, Any] = field(default_factory=dict)

    def engine(self, role: str) -> Any:
        """The configured engine for `role` (llm, tts, asr), created once per build.

        Creating an engine is cheap (its fingerprint is needed for cache keys even when the
        stage does not run); engines load their model on first use.
        """
        if role not in self._engines:
            self._engines[role] = engines.create(role, self.config.section(role))
        return self._engines[role]

    def llm(self) -> engines.LLM:
        return self.engine("llm")

    def tts(self) -> engines.TTS:
        return self.engine("tts")

    def asr(self) -> engines.ASR:
        return self.engine("asr")
