"""The default LLM: a causal LM run by Hugging Face transformers, on CPU or CUDA.

The model is the bundled SmolLM2-135M-Instruct GGUF unless `[llm] model` names a Hugging Face
id (resolved offline, from the local hub cache) or a local folder. Loading a GGUF through
transformers dequantises it, which takes ~20 s; the dequantised model is saved once under
`<cache>/models/<digest>` and later loads take well under a second.

On the CPU a plain Llama (the bundled model is one) runs through `llama_native`: the same
weights and arithmetic in numpy, importing neither transformers nor torch. torch's import
alone is ~2.5 s of every fresh build on a 2-core laptop, and the numpy decoder is also faster
per token (65-74 ms against 79-107 ms for the bundled model, one thread each). `[llm]
runtime = "transformers"` turns it off. Any other model, any model on CUDA, and the one-time
GGUF conversion go through transformers and torch.

Construction is cheap: `fingerprint()` is needed for cache keys on every build, so nothing
here imports torch until `generate()` is first called.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from macaw import models
from macaw.errors import ConfigError, EmptyOutputError, EngineUnavailableError, ModelNotFoundError

DEFAULT_CONTEXT = 2048  # SmolLM2-135M's trained context; used when the config does not say


class TransformersLLM:
    name = "transformers"

    def __init__(self, settings: dict[str, Any]):
        self.model_spec = str(settings.get("model") or "")
        self.device_setting = str(settings.get("device") or "auto")
        self.max_tokens = int(settings.get("max_tokens") or 120)
        self.seed = int(settings.get("seed") or 0)
        self.repetition_penalty = float(settings.get("repetition_penalty") or 1.0)
        self._context = int(settings.get("context_tokens") or 0)
        self.runtime = str(settings.get("runtime") or "auto")
        if self.runtime not in ("auto", "transformers"):
            raise ConfigError(f"llm.runtime must be 'auto' or 'transformers', got {self.runtime!r}")
        self._native = False  # the model runs through llama_native, not transformers
        self._model: Any = None
        self._tokenizer: Any = None
        self._device = "cpu"
        self._lock = threading.Lock()
        self._stop_ids: dict[tuple[str, ...], tuple[set[int], set[int]]] = {}
        self._gguf: Path | None = None
        self._folder: Path | None = None
        self._hub_id = ""
        self._resolve()

    # -- where the model is -------------------------------------------------------------

    def _resolve(self) -> None:
        if not self.model_spec:
            self._gguf = models.bundled_llm()
            return
        path = Path(self.model_spec).expanduser()
        if path.suffix == ".gguf":
            if not path.is_file():
                raise ModelNotFoundError(f"LLM model file not found: {path}", hint="fix [llm] model in macaw.toml")
            self._gguf = path.resolve()
        elif path.is_dir():
            if not (path / "config.json").is_file():
                raise ModelNotFoundError(
                    f"LLM model folder has no config.json: {path}", hint="point [llm] model at a transformers model folder"
                )
            self._folder = path.resolve()
        elif path.is_absolute() or self.model_spec.startswith((".", "~")) or self.model_spec.count("/") != 1:
            raise ModelNotFoundError(f"LLM model not found: {self.model_spec}", hint="fix [llm] model in macaw.toml")
        else:
            self._hub_id = self.model_spec  # resolved from the local hub cache at load time

    @property
    def model_name(self) -> str:
        if self._gguf is not None:
            return self._gguf.stem
        if self._folder is not None:
            return self._folder.name
        return self._hub_id

    @property
    def context_tokens(self) -> int:
        """How many tokens the prompt and reply may take together, for chunking."""
        if self._context:
            return self._context
        if self._folder is not None:  # a local folder says so in its config.json, cheaply
            try:
                import json

                config = json.loads((self._folder / "config.json").read_text())
                return int(config.get("max_position_embeddings") or DEFAULT_CONTEXT)
            except (OSError, ValueError):
                pass
        return DEFAULT_CONTEXT

    def fingerprint(self) -> dict[str, Any]:
        if self._gguf is not None:
            digest = models.file_digest(self._gguf)
        elif self._folder is not None:
            digest = models.file_digest(self._folder)
        else:
            digest = self._hub_id
        return {
            "engine": self.name,
            "model": self.model_name,
            "digest": digest,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "repetition_penalty": self.repetition_penalty,
            "runtime": self.runtime,
            "transformers": _version("transformers"),
        }

    # -- loading --------------------------------------------------------------------------

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            from macaw.engines import llama_native, resolve_device

            self._device = resolve_device(self.device_setting)
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            kwargs: dict[str, Any] = {}
            if self._gguf is not None:
                folder = self._converted(self._gguf)
            elif self._folder is not None:
                folder = self._folder
            else:
                folder, kwargs = Path(self._hub_id), {"local_files_only": True}
            if self.runtime == "auto" and not kwargs and self._device == "cpu" and llama_native.supports(folder):
                self._tokenizer = llama_native.Tokenizer(folder)
                self._model = llama_native.Llama(folder, self._device, self._tokenizer.eos_token_id)
                self._native = True
                return
            try:
                import torch  # noqa: F401
            except ImportError as exc:
                raise EngineUnavailableError(f"the transformers LLM engine needs torch: {exc}", hint="run `make install`") from None
            try:
                import transformers
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:
                raise EngineUnavailableError(f"the transformers LLM engine needs transformers: {exc}", hint="run `make install`") from None
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

    @property
    def needs_conversion(self) -> bool:
        """True before the first use of a GGUF: loading will convert it once (tens of seconds)."""
        if self._gguf is None or self._model is not None:
            return False
        return not (models.cache_dir() / "models" / models.file_digest(self._gguf)[:16] / "config.json").is_file()

    def _converted(self, gguf: Path) -> Path:
        """The GGUF, dequantised and saved as a transformers folder, converted once per file."""
        target = models.cache_dir() / "models" / models.file_digest(gguf)[:16]
        if (target / "config.json").is_file():
            return target
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()  # library code does not print
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        except Exception as exc:  # a damaged or foreign GGUF fails deep inside the reader
            raise ModelNotFoundError(f"could not read GGUF model {gguf}: {exc}", hint="reinstall with `make install`") from None
        # The loaded model is plain fp32; drop the GGUF marker so save_pretrained writes it as such.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        try:
            model.save_pretrained(str(tmp))
            tokenizer.save_pretrained(str(tmp))
            try:
                os.rename(tmp, target)
            except OSError:  # another build finished the same conversion first
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    # -- generating -----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is None:
            return max(1, len(text) // 4)  # before the model loads, a fair estimate for English
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def generate(self, messages: list[dict[str, str]], *, max_tokens: int | None = None, seed: int | None = None,
                 stop: list[str] | None = None) -> str:
        """The model's reply, greedy; `stop` ends it early at the first of these strings."""
        if not messages:
            raise ConfigError("generate() needs at least one message")
        self._load()
        tokenizer, model = self._tokenizer, self._model
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
        prompt_length = len(prompt_ids)
        limit = int(max_tokens or self.max_tokens)
        room = self.context_tokens - prompt_length
        if room < 8:
            raise EmptyOutputError(
                f"the prompt ({prompt_length} tokens) fills the model's {self.context_tokens}-token context",
                hint="this is a bug in how the prompt was chunked",
            )
        if self._native:  # greedy in numpy: no seed to set, and no torch to import
            ids = model.generate(
                prompt_ids, max_new_tokens=min(limit, room), eos=model.eos, repetition_penalty=self.repetition_penalty,
                stop=self._stop_check(stop) if stop else None,
            )
            return self._finish(tokenizer.decode(ids, skip_special_tokens=True), stop)
        import torch

        torch.manual_seed(self.seed if seed is None else seed)
        inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self._device)
        from transformers import LogitsProcessorList, RepetitionPenaltyLogitsProcessor

        # The penalty applies to what the model writes, not to the prompt: penalising the
        # prompt's words pushes a small model away from the very facts it should repeat.
        processors = LogitsProcessorList(
            [RepetitionPenaltyLogitsProcessor(self.repetition_penalty, prompt_ignore_length=prompt_length)]
            if self.repetition_penalty != 1.0 else []
        )
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=min(limit, room),
                do_sample=False,  # greedy: the same prompt gives the same script
                logits_processor=processors,
                **({"stopping_criteria": self._stop_criteria(stop, prompt_length)} if stop else {}),
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
            )
        return self._finish(tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True), stop)

    @staticmethod
    def _finish(text: str, stop: list[str] | None) -> str:
        text = text.strip()
        if stop:  # the stop check reads one token past the mark; leave that token out
            cut = re.match(r"^(.*[.!?])\s+\S*$", text, re.S)
            text = cut.group(1) if cut else text
        return text

    def _stop_tables(self, stop: list[str]) -> tuple[set[int], set[int], bool]:
        marks = tuple(sorted({s.strip() for s in stop if s.strip()}))
        if marks not in self._stop_ids:
            ends, spaces = set(), set()
            for token_id in range(len(self._tokenizer)):
                piece = self._tokenizer.decode([token_id])
                if marks and piece.endswith(marks):
                    ends.add(token_id)
                if piece[:1].isspace():
                    spaces.add(token_id)
            self._stop_ids[marks] = (ends, spaces)
        ends, spaces = self._stop_ids[marks]
        return ends, spaces, any("\n\n" in s for s in stop)

    def _stop_check(self, stop: list[str]) -> Any:
        """The stop rule of `_stop_criteria` on a plain list of written ids (the native runner)."""
        ends, spaces, blank_line = self._stop_tables(stop)
        tokenizer = self._tokenizer

        def done(ids: list[int]) -> bool:
            if len(ids) < 4:
                return False
            before, last = ids[-2], ids[-1]
            return (before in ends and last in spaces) or (blank_line and "\n\n" in tokenizer.decode([before, last]))

        return done


    def _stop_criteria(self, stop: list[str], prompt_length: int) -> Any:
        """Stop once one of `stop` (a sentence mark and a space or newline) has been written.

        The check is on token ids: a token ending in the mark ('.', '!', '?') followed by one
        starting with whitespace, so "18.2%" does not stop at "18.". transformers' own
        stop_strings builds tables over the whole vocabulary on every call, which costs more
        than the tokens it saves on a small CPU model.
        """
        from transformers import StoppingCriteria, StoppingCriteriaList

        ends, spaces, blank_line = self._stop_tables(stop)

        class AtSentenceEnd(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                import torch

                done = False
                if input_ids.shape[1] - prompt_length >= 4:
                    last, before = int(input_ids[0, -1]), int(input_ids[0, -2])
                    done = before in ends and last in spaces
                    done = done or (blank_line and "\n\n" in self_tokenizer.decode([before, last]))
                return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

        self_tokenizer = self._tokenizer
        return StoppingCriteriaList([AtSentenceEnd()])


def _version(package: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return ""


def create(settings: dict[str, Any]) -> TransformersLLM:
    return TransformersLLM(settings)
