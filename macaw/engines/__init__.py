"""Engines: the models behind the stages, each behind a one-method protocol.

    LLM.generate(messages, *, max_tokens, seed) -> str
    TTS.synthesize(text) -> Iterator[np.ndarray]      (float32 mono chunks at .sample_rate)
    ASR.transcribe(audio_path) -> Transcript          (words with start/end seconds)

Built-in engines register exactly as third-party ones do, through the `macaw.engines`
entry-point group, named `<role>.<name>` (`tts.piper`), pointing at a factory that takes the
role's config section (a dict) and returns the engine. Factories import their heavy libraries
inside, so `macaw --help` never imports torch.

Every engine has `fingerprint()`: what identifies its output (engine, library version, model
file hash, options) for the stage cache.

Capabilities beyond the one-method protocol are declared, never probed: an engine class lists
what it takes in a `capabilities` class attribute (a frozenset of names), and the stages ask
`supports(engine, name)`. An engine that declares nothing gets the plain protocol and nothing
else. The names:

    LLM  "stop"       generate(..., stop=[...]) ends the reply at the first of these strings
                      (the writer asks for one sentence with [". ", "! ", "? ", ".\n", "\n\n"])
    ASR  "beam_size"  transcribe(..., beam_size=N) hears with an N-beam search for this call
                      (check's second, careful listen)
    ASR  "windows"    transcribe(..., windows=[(start, end), ...]) hears these stretches (seconds,
                      each at most 30 s, cut by check in the pauses) side by side, words in the
                      file's time
    TTS  "speed"      synthesize(..., speed=F) speaks this call F times as fast as the voice's
                      own pace (check's slower retake of a sentence the recogniser misheard)

A third-party engine declares what it implements, e.g. `capabilities = frozenset({"stop"})`;
declaring a name its method does not take is a bug the stage will hit as a TypeError.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, runtime_checkable

from macaw.errors import UnknownEngineError

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

ROLES = ("llm", "tts", "asr")
CAPABILITIES = {"llm": frozenset({"stop"}), "tts": frozenset({"speed"}), "asr": frozenset({"beam_size", "windows"})}
GROUP = "macaw.engines"

# Used when the package metadata is not there (running from a source tree without install).
BUILTIN: dict[str, str] = {
    "llm.auto": "macaw.engines.llm_auto:choose",
    "llm.native": "macaw.engines.llm_native:create",
    "llm.ctranslate2": "macaw.engines.llm_ctranslate2:create",
    "llm.transformers": "macaw.engines.llm_transformers:create",
    "llm.openai": "macaw.engines.llm_openai:create",
    "tts.piper": "macaw.engines.tts_piper:create",
    "asr.faster-whisper": "macaw.engines.asr_whisper:create",
}

_registered: dict[str, Callable[[dict[str, Any]], Any]] = {}


@dataclass
class Word:
    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass
class Transcript:
    words: list[Word] = field(default_factory=list)
    language: str = "en"

    @property
    def text(self) -> str:
        return " ".join(w.text.strip() for w in self.words)


@runtime_checkable
class LLM(Protocol):
    def generate(self, messages: list[dict[str, str]], *, max_tokens: int, seed: int) -> str: ...

    def fingerprint(self) -> dict[str, Any]: ...


@runtime_checkable
class TTS(Protocol):
    sample_rate: int

    def synthesize(self, text: str) -> Iterator["np.ndarray"]: ...

    def fingerprint(self) -> dict[str, Any]: ...


@runtime_checkable
class ASR(Protocol):
    def transcribe(self, audio: "Path") -> Transcript: ...

    def fingerprint(self) -> dict[str, Any]: ...


def supports(engine: Any, name: str) -> bool:
    """Whether `engine` declares the capability `name` (see the module docstring for the names)."""
    if not any(name in names for names in CAPABILITIES.values()):
        raise ValueError(f"unknown engine capability {name!r}; known: {sorted(set().union(*CAPABILITIES.values()))}")
    declared = getattr(engine, "capabilities", frozenset())
    return isinstance(declared, (set, frozenset, tuple, list)) and name in declared


def register(role_name: str, factory: Callable[[dict[str, Any]], Any]) -> None:
    """Register an engine factory in-process (tests use this for scripted fakes)."""
    _registered[role_name] = factory


def unregister(role_name: str) -> None:
    _registered.pop(role_name, None)


def available(role: str) -> list[str]:
    names = {k for k in BUILTIN} | set(_registered) | {ep.name for ep in _entry_points()}
    return sorted(n.split(".", 1)[1] for n in names if n.startswith(role + "."))


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    try:
        return list(importlib.metadata.entry_points(group=GROUP))
    except Exception:  # broken metadata must not stop the built-ins
        return []


def _load_factory(target: str) -> Callable[[dict[str, Any]], Any]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def create(role: str, settings: dict[str, Any]) -> Any:
    """Build the engine that `settings["engine"]` names for `role` (llm, tts, asr)."""
    name = settings.get("engine", "")
    key = f"{role}.{name}"
    if key in _registered:
        return _registered[key](settings)
    for ep in _entry_points():
        if ep.name == key:
            return ep.load()(settings)
    if key in BUILTIN:
        return _load_factory(BUILTIN[key])(settings)
    raise UnknownEngineError(
        f"unknown {role} engine {name!r}",
        hint=f"available: {', '.join(available(role)) or 'none'}; set [{role}] engine in macaw.toml",
    )


def resolve_device(device: str) -> str:
    """'auto' means CUDA when a GPU is usable, else CPU; asking for cuda without one is an error."""
    from macaw.errors import EngineUnavailableError

    if device == "cpu":
        return "cpu"
    has_cuda = _cuda_available()
    if device == "cuda" and not has_cuda:
        raise EngineUnavailableError("device 'cuda' was asked for but no CUDA GPU is usable", hint="set device = 'auto' or 'cpu'")
    return "cuda" if has_cuda else "cpu"


def _cuda_available() -> bool:
    # ctranslate2 and onnxruntime answer without importing torch; torch is the last resort.
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return True
    except Exception:
        pass
    try:
        import onnxruntime

        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            return True
    except Exception:
        pass
    return False
