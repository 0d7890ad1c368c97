"""The engine `transformers`: any causal LM run by Hugging Face transformers, on CPU or CUDA.

The model is the bundled SmolLM2-135M-Instruct GGUF unless `[llm] model` names a Hugging Face
id (resolved offline, from the local hub cache) or a local folder (see llm_local). This engine
always runs through torch, whatever the model: it is the reference the other local engines are
tested against (tests/test_llm_engines.py). `[llm] engine = "auto"`, the default, runs a plain
Llama on the CPU through CTranslate2 instead (`llm_ctranslate2`), with the same replies and no
torch import.

Construction is cheap: `fingerprint()` is needed for cache keys on every build, so nothing
here imports torch until `generate()` is first called.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from macaw.engines.llm_local import LocalLLM
from macaw.errors import EngineUnavailableError, ModelNotFoundError


class TransformersLLM(LocalLLM):
    name = "transformers"
    capabilities = frozenset({"stop"})

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        self._device = "cpu"
        self._lock = threading.Lock()

    def fingerprint(self) -> dict[str, Any]:
        return {**self.model_fingerprint(), "transformers": _version("transformers"), "torch": _version("torch")}

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            from macaw.engines import resolve_device

            self._device = resolve_device(self.device_setting)
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                import torch  # noqa: F401
            except ImportError as exc:
                raise EngineUnavailableError(f"the transformers LLM engine needs torch: {exc}", hint="run `make install`") from None
            try:
                import transformers
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:
                raise EngineUnavailableError(f"the transformers LLM engine needs transformers: {exc}", hint="run `make install`") from None
            kwargs: dict[str, Any] = {}
            folder = Path(self._hub_id) if self._hub_id else self.local_folder()
            if self._hub_id:
                kwargs = {"local_files_only": True}
            transformers.utils.logging.disable_progress_bar()  # library code does not print
            try:
                tokenizer = AutoTokenizer.from_pretrained(str(folder), **kwargs)
                model = AutoModelForCausalLM.from_pretrained(str(folder), **kwargs)
            except OSError as exc:
                raise ModelNotFoundError(
                    f"could not load LLM {self.model_spec or folder}: {str(exc).splitlines()[0]}",
                    hint="use a local folder, or a Hugging Face id already in the local cache",
                ) from None
            model.to(self._device)
            model.eval()
            self._tokenizer, self._model = tokenizer, model

    def generate(self, messages: list[dict[str, str]], *, max_tokens: int | None = None, seed: int | None = None,
                 stop: list[str] | None = None) -> str:
        """The model's reply, greedy; `stop` ends it early at the first of these strings."""
        self._load()
        import torch
        from transformers import LogitsProcessorList, RepetitionPenaltyLogitsProcessor, StoppingCriteria, StoppingCriteriaList

        ids, limit = self.prompt_ids(messages, max_tokens)
        prompt_length = len(ids)
        torch.manual_seed(self.seed if seed is None else seed)
        inputs = torch.tensor([ids], device=self._device)
        # The penalty applies to what the model writes, not to the prompt: penalising the
        # prompt's words pushes a small model away from the very facts it should repeat.
        processors = LogitsProcessorList(
            [RepetitionPenaltyLogitsProcessor(self.repetition_penalty, prompt_ignore_length=prompt_length)]
            if self.repetition_penalty != 1.0 else []
        )
        criteria: dict[str, Any] = {}
        if stop:
            done = self.stop_check(stop)

            class AtSentenceEnd(StoppingCriteria):
                def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                    hit = done(input_ids[0, prompt_length:].tolist())
                    return torch.full((input_ids.shape[0],), hit, dtype=torch.bool, device=input_ids.device)

            criteria = {"stopping_criteria": StoppingCriteriaList([AtSentenceEnd()])}
        tokenizer = self._tokenizer
        with torch.inference_mode():
            output = self._model.generate(
                inputs,
                attention_mask=torch.ones_like(inputs),
                max_new_tokens=limit,
                do_sample=False,  # greedy: the same prompt gives the same script
                logits_processor=processors,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
                **criteria,
            )
        return self.finish(tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True), stop)


def _version(package: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return ""


def create(settings: dict[str, Any]) -> TransformersLLM:
    return TransformersLLM(settings)
