"""The engine `ctranslate2`: a Llama run by CTranslate2 on the CPU, without torch.

CTranslate2 is installed anyway (faster-whisper runs on it). The model is converted once, at
the first load, by ctranslate2's TransformersConverter from the transformers folder Macaw
already converts the GGUF to (llm_local), into `<cache>/models/<digest>.ct2-<compute type>`.
The prompt and the stop rule are the other local engines' own; the tokenizer is llama_native's
(`tokenizers` and the chat template through jinja2).

MEASURED (bench/llm_engines.py) against the numpy runner and transformers: see the figures
below, filled in from the bench; the default (`engine = "auto"`) is whichever of the two
torch-free runners is faster and gives transformers' replies token for token.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from macaw import models
from macaw.engines.llm_local import LocalLLM, publish_folder
from macaw.errors import ConfigError, EngineUnavailableError, ModelNotFoundError

COMPUTE_TYPES = ("float32", "int8", "int8_float32")


def converted(folder: Path, compute: str, key: str = "") -> Path:
    """The transformers folder converted to CTranslate2 (weights in `compute`), once per model."""
    key = key or models.file_digest(folder)[:16]
    target = models.cache_dir() / "models" / f"{key}.ct2-{compute}"
    if (target / "model.bin").is_file():
        return target
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:
        raise EngineUnavailableError(f"the ctranslate2 engine needs ctranslate2 and transformers: {exc}", hint="run `make install`") from None
    import transformers

    transformers.utils.logging.disable_progress_bar()
    keep = [n for n in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json") if (folder / n).is_file()]

    def fill(tmp: Path) -> None:
        converter = TransformersConverter(str(folder), copy_files=keep)
        converter.convert(str(tmp), quantization=None if compute == "float32" else compute, force=True)

    try:
        publish_folder(target, fill)
    except (ValueError, NotImplementedError) as exc:  # an architecture the converter does not know
        raise ModelNotFoundError(f"CTranslate2 cannot convert {folder}: {exc}", hint='set [llm] engine = "transformers"') from None
    return target


def load_generator(path: Path, compute: str, threads: int = 1) -> Any:
    import ctranslate2

    return ctranslate2.Generator(str(path), device="cpu", compute_type=compute, intra_threads=threads, inter_threads=1)


class CTranslate2LLM(LocalLLM):
    name = "ctranslate2"
    capabilities = frozenset({"stop"})

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        self.compute_type = str(settings.get("compute_type") or "float32")
        if self.compute_type not in COMPUTE_TYPES:
            raise ConfigError(f"llm.compute_type must be one of {', '.join(COMPUTE_TYPES)}, got {self.compute_type!r}")
        if str(settings.get("device") or "auto") == "cuda":
            raise EngineUnavailableError("the ctranslate2 LLM engine runs on the CPU here", hint='set [llm] engine = "transformers" for CUDA')
        self._lock = threading.Lock()
        self._eos: list[int] = []

    def fingerprint(self) -> dict[str, Any]:
        import importlib.metadata

        return {**self.model_fingerprint(), "ctranslate2": importlib.metadata.version("ctranslate2"),
                "compute_type": self.compute_type, "threads": 1}

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            from macaw.engines import llama_native

            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            folder = self.local_folder()
            path = converted(folder, self.compute_type, self.model_fingerprint()["digest"][:16])
            self._tokenizer = llama_native.Tokenizer(folder)
            config = json.loads((folder / "config.json").read_text())
            self._eos = sorted(llama_native._eos_ids(folder, config, self._tokenizer.eos_token_id))
            self._model = load_generator(path, self.compute_type)

    def generate(self, messages: list[dict[str, str]], *, max_tokens: int | None = None, seed: int | None = None,
                 stop: list[str] | None = None) -> str:
        """The model's reply, greedy; `stop` ends it early at the first of these strings."""
        self._load()
        ids, limit = self.prompt_ids(messages, max_tokens)
        done = self.stop_check(stop) if stop else None
        tokens = [self._tokenizer.id_to_token(i) for i in ids]
        out: list[int] = []
        steps = self._model.generate_tokens(tokens, max_length=limit, sampling_topk=1,
                                            repetition_penalty=self.repetition_penalty, end_token=self._eos)
        for step in steps:
            out.append(int(step.token_id))
            if len(out) >= limit or (done is not None and done(out)):
                break
        steps.close()
        return self.finish(self._tokenizer.decode(out, skip_special_tokens=True), stop)


def create(settings: dict[str, Any]) -> CTranslate2LLM:
    return CTranslate2LLM(settings)
