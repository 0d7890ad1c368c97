"""`[llm] engine = "auto"`, the default: not an engine but a choice between engines, made here.

CTranslate2 (`ctranslate2`, float32) when the device is the CPU and the model is a plain Llama
(the bundled model, or a folder or already converted GGUF that `llama_native.supports`: the
models whose replies the tests check against transformers), else transformers. The engine
chosen names itself in its fingerprint, so the cache key says what ran. Why CTranslate2 and not
the numpy runner: bench/llm_engines.py, figures in llm_ctranslate2's docstring and the README.
"""

from __future__ import annotations

from typing import Any

from macaw.engines import llama_native, resolve_device
from macaw.engines.llm_local import LocalLLM, converted_path
from macaw.engines.llm_ctranslate2 import CTranslate2LLM
from macaw.engines.llm_transformers import TransformersLLM


def choose(settings: dict[str, Any]) -> Any:
    """`[llm] engine = "auto"`: the fastest engine that gives transformers' replies, chosen now.

    CTranslate2 on the CPU for a plain Llama; transformers otherwise (CUDA, a Hugging Face id,
    a GGUF not yet converted that is not the bundled one, any model that is not a plain Llama).
    """
    probe = LocalLLM(settings)
    if resolve_device(probe.device_setting) == "cpu":
        if probe._gguf is not None and not probe.model_spec:
            return CTranslate2LLM(settings)  # the bundled model is a plain Llama
        folder = probe._folder or (converted_path(probe._gguf) if probe._gguf is not None else None)
        if folder is not None and llama_native.supports(folder):
            return CTranslate2LLM(settings)
    return TransformersLLM(settings)
