"""The engine `ctranslate2`: a Llama run by CTranslate2 on the CPU, without torch.

CTranslate2 is installed anyway (faster-whisper runs on it). The model is converted once, at
the first load, by ctranslate2's TransformersConverter from the transformers folder Macaw
already converts the GGUF to (llm_local), into `<cache>/models/<digest>.ct2-<compute type>`.
The prompt and the stop rule are the other local engines' own; the tokenizer is llama_native's
(`tokenizers` and the chat template through jinja2).

The default for the bundled model on the CPU (`engine = "auto"`). Measured by
bench/llm_engines.py against the numpy runner (`native`) on the write stage's 28 prompts for 3
journal entries (5467 prompt tokens, ~890 written), one thread each, a fresh process per run,
after the one-time conversion (~40 s), on the 2-core dev machine shared with other builds (load
average 8-13: wall figures inflated and noisy), median [range]:

                         load s  prompt tok/s   decode tok/s     28 prompts: wall s  CPU s              peak MB
    ctranslate2, 3 runs  1.5     146 [135-163]  8.0 [7.4-9.4]    146 [126-158]                          716
    native, 3 runs       1.6     99 [84-118]    10.4 [9.2-12.3]  136 [115-157]                          898
    ctranslate2, 2 runs  1.2     254 [233-274]  13.0 [11.1-14.8] 90 [79-102]         39.8 [39.7-39.9]   716
    native, 2 runs       1.2     95 [90-99]     10.1 [9.3-10.8]  145 [136-154]       42.2 [40.6-43.8]   898

Both give transformers' greedy tokens on all 28 (float32); int8 weights (one run: 338 prompt
and 14.5 decode tok/s, 76 s) change 24 of the 28. The wall clock swung with the machine's load;
the CPU seconds put CTranslate2 6% ahead, ranges apart, and it reads prompts faster (Macaw's
prompts are long, its replies one sentence) in less memory: so `auto` picks it.
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


def ct2_path(key: str, compute: str) -> Path:
    return models.cache_dir() / "models" / f"{key}.ct2-{compute}"


def converted(folder: Path, compute: str, key: str = "") -> Path:
    """The transformers folder converted to CTranslate2 (weights in `compute`), once per model."""
    target = ct2_path(key or models.file_digest(folder)[:16], compute)
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

    @property
    def needs_conversion(self) -> bool:
        """True before the first load: the model is converted once (GGUF, then CTranslate2)."""
        if self._model is not None or self._hub_id:
            return False
        key = self.model_fingerprint()["digest"][:16]
        return super().needs_conversion or not (ct2_path(key, self.compute_type) / "model.bin").is_file()

    def fingerprint(self) -> dict[str, Any]:
        import importlib.metadata

        return {**self.model_fingerprint(), "ctranslate2": importlib.metadata.version("ctranslate2"),
                "compute_type": self.compute_type, "threads": 1, "cpu_isa": cpu_isa()}

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


def cpu_isa() -> str:
    """The instruction set CTranslate2 computes with (its kernels, and so its sums, differ by it):
    CT2_FORCE_CPU_ISA when set, else the widest of AVX512F, AVX2, AVX the CPU reports (a close
    reading of CTranslate2's own choice, which it does not expose)."""
    import platform

    forced = os.environ.get("CT2_FORCE_CPU_ISA", "")
    if forced:
        return forced.upper()
    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        return "NEON"
    try:
        flags = set(next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")).split())
    except (OSError, StopIteration):
        return machine
    for isa, flag in (("AVX512", "avx512f"), ("AVX2", "avx2"), ("AVX", "avx")):
        if flag in flags:
            return isa
    return "GENERIC"


def create(settings: dict[str, Any]) -> CTranslate2LLM:
    return CTranslate2LLM(settings)
