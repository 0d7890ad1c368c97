"""What every stage gets: the settings, the episode folder, engines on demand, a way to report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from macaw import engines
from macaw.config import Config


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
