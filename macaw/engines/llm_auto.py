"""`[llm] engine = "auto"`, the default: not an engine but a choice between engines, made here.

The numpy runner (`native`) when the device is the CPU and the model is one it reproduces
exactly (the bundled model, or a folder or already converted GGUF that `llama_native.supports`),
else transformers. The engine chosen names itself in its fingerprint, so the cache key says
what ran. Why numpy and not CTranslate2: bench/llm_engines.py, figures in llm_native's docstring.
"""

from __future__ import annotations

from typing import Any

from macaw.engines import llama_native, resolve_device
from macaw.engines.llm_local import LocalLLM, converted_path
from macaw.engines.llm_native import NativeLLM
from macaw.engines.llm_transformers import TransformersLLM


def choose(settings: dict[str, Any]) -> Any:
    """`[llm] engine = "auto"`: the fastest engine that gives transformers' replies, chosen now.

    The numpy runner (`native`) on the CPU for a model it reproduces; transformers otherwise
    (CUDA, a Hugging Face id, a GGUF not yet converted that is not the bundled one, any model
    that is not a plain Llama). bench/llm_engines.py measures why numpy and not CTranslate2.
    """
    probe = LocalLLM(settings)
    if resolve_device(probe.device_setting) == "cpu":
        if probe._gguf is not None and not probe.model_spec:
            return NativeLLM(settings)  # the bundled model is a plain Llama
        folder = probe._folder or (converted_path(probe._gguf) if probe._gguf is not None else None)
        if folder is not None and llama_native.supports(folder):
            return NativeLLM(settings)
    return TransformersLLM(settings)
