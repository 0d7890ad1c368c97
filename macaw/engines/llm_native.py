"""The engine `native`: a plain Llama run by `llama_native` in numpy float32 on the CPU.

It gives transformers' greedy replies token for token and imports neither torch nor
transformers, whose import alone is ~2.5 s of every fresh build on a 2-core laptop. Measured
against CTranslate2 (`llm_ctranslate2`, the other runtime that needs no torch) and transformers
by bench/llm_engines.py on the prompts the write stage sends for journal entries: per CPU
second CTranslate2 came out 6% faster (39.8 against 42.2 s for 28 prompts; numpy decodes about
as fast, CTranslate2 reads prompts 1.5-2.7 times as fast), in a fifth less memory, so
`engine = "auto"` runs CTranslate2 and this engine is there to be named (`engine = "native"`):
it needs nothing but numpy, tokenizers and jinja2, and the whole decoder is 300 lines to read.
The figures are in llm_ctranslate2's docstring and the README.

Only the one-time GGUF conversion goes through transformers. A model that is not a plain Llama,
or a device other than the CPU, is an error here: `engine = "transformers"` runs those, and
`engine = "auto"` picks it for them.

The fingerprint names what runs: numpy's version, the BLAS library and its version, the dtype,
the thread count (fixed at one: the thread count changes how OpenBLAS sums, so it is part of
what decides the reply) and the runner's own version, beside the model file's hash.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from macaw.engines.llm_local import LocalLLM
from macaw.errors import EngineUnavailableError


class NativeLLM(LocalLLM):
    name = "native"
    capabilities = frozenset({"stop"})

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        self._lock = threading.Lock()
        if self._hub_id:
            raise EngineUnavailableError(
                f"the native engine runs local model files, not the Hugging Face id {self._hub_id!r}",
                hint='set [llm] engine = "transformers" (or "auto") for a model from the hub cache',
            )
        device = str(settings.get("device") or "auto")
        if device == "cuda":
            raise EngineUnavailableError("the native engine runs on the CPU only", hint='set [llm] engine = "transformers" for CUDA')

    def fingerprint(self) -> dict[str, Any]:
        from macaw.engines import llama_native

        return {**self.model_fingerprint(), "runtime": runtime_info(), "runner": llama_native.VERSION}

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            from macaw.engines import llama_native

            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            folder = self.local_folder()
            if not llama_native.supports(folder):
                raise EngineUnavailableError(
                    f"the native engine cannot run {self.model_spec or folder}: it is not a plain Llama in one safetensors file",
                    hint='set [llm] engine = "transformers" (or "auto")',
                )
            self._tokenizer = llama_native.Tokenizer(folder)
            self._model = llama_native.Llama(folder, "cpu", self._tokenizer.eos_token_id)

    def generate(self, messages: list[dict[str, str]], *, max_tokens: int | None = None, seed: int | None = None,
                 stop: list[str] | None = None) -> str:
        """The model's reply, greedy (no seed to set); `stop` ends it early at the first of these."""
        self._load()
        ids, limit = self.prompt_ids(messages, max_tokens)
        out = self._model.generate(ids, max_new_tokens=limit, eos=self._model.eos, repetition_penalty=self.repetition_penalty,
                                   stop=self.stop_check(stop) if stop else None)
        return self.finish(self._tokenizer.decode(out, skip_special_tokens=True), stop)


def runtime_info() -> dict[str, Any]:
    """numpy's version, its BLAS (library, version, CPU kernel), the dtype and threads used."""
    import numpy
    from threadpoolctl import threadpool_info

    from macaw.engines import llama_native

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    first = blas[0] if blas else {}
    return {"numpy": numpy.__version__, "blas": str(first.get("internal_api", "")), "blas_version": str(first.get("version", "")),
            "blas_kernel": str(first.get("architecture", "") or ""), "dtype": "float32", "threads": llama_native.THREADS}


def create(settings: dict[str, Any]) -> NativeLLM:
    return NativeLLM(settings)
