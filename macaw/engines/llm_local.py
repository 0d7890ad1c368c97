"""What the local LLM engines share: where the model is, its one-time conversion, the stop rule.

Three engines run a model on this machine: `transformers` (any causal LM, CPU or CUDA, through
torch), `native` (a plain Llama in numpy on the CPU, `llm_native`) and `ctranslate2` (a plain
Llama through CTranslate2, `llm_ctranslate2`). Each reads `[llm] model` the same way: empty is
the bundled SmolLM2-135M-Instruct GGUF, else a .gguf file, a transformers model folder, or a
Hugging Face id already in the local hub cache. A GGUF is dequantised once by transformers into
`<cache>/models/<digest>` (~20-60 s); every later load reads that folder.

`[llm] engine = "auto"` (the default) is not an engine but a choice (llm_auto), made before
anything loads; the engine chosen names itself in its fingerprint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from macaw import models
from macaw.errors import ConfigError, EmptyOutputError, ModelNotFoundError

DEFAULT_CONTEXT = 2048  # SmolLM2-135M's trained context; used when the config does not say
STOP_MARKS = (". ", "! ", "? ", ".\n", "\n\n")


def converted_path(gguf: Path) -> Path:
    return models.cache_dir() / "models" / models.file_digest(gguf)[:16]


def converted(gguf: Path) -> Path:
    """The GGUF, dequantised and saved as a transformers folder, converted once per file."""
    target = converted_path(gguf)
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
    publish_folder(target, lambda tmp: (model.save_pretrained(str(tmp)), tokenizer.save_pretrained(str(tmp))))
    return target


def publish_folder(target: Path, fill: Any) -> None:
    """Write a folder under a temporary name, then rename it into place (another build may win)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        fill(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another build finished the same conversion first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class LocalLLM:
    """The settings, model resolution, fingerprint base and stop rule of a local engine."""

    name = "local"
    capabilities = frozenset({"stop"})

    def __init__(self, settings: dict[str, Any]):
        if settings.get("runtime"):
            raise ConfigError(
                "llm.runtime is gone: the engine itself says what runs the model",
                hint='set [llm] engine = "auto" (fastest exact runtime), "native" (numpy) or "transformers" (torch)',
            )
        self.model_spec = str(settings.get("model") or "")
        self.device_setting = str(settings.get("device") or "auto")
        self.max_tokens = int(settings.get("max_tokens") or 120)
        self.seed = int(settings.get("seed") or 0)
        self.repetition_penalty = float(settings.get("repetition_penalty") or 1.0)
        self._context = int(settings.get("context_tokens") or 0)
        self._model: Any = None
        self._tokenizer: Any = None
        self._stop_ids: dict[tuple[str, ...], tuple[set[int], set[int]]] = {}
        self._gguf: Path | None = None
        self._folder: Path | None = None
        self._hub_id = ""
        self._resolve()


    def release(self) -> None:
        """Let the loaded model and tokenizer go (the next call loads them again). A build calls
        this once no later stage of the episode needs the LLM, so its weights (~600 MiB for the
        bundled model in float32) do not sit beside the voice and the recogniser."""
        self._model = None
        self._tokenizer = None
        import gc

        gc.collect()
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
                config = json.loads((self._folder / "config.json").read_text())
                return int(config.get("max_position_embeddings") or DEFAULT_CONTEXT)
            except (OSError, ValueError):
                pass
        return DEFAULT_CONTEXT

    @property
    def needs_conversion(self) -> bool:
        """True before the first use of a GGUF: loading will convert it once (tens of seconds)."""
        if self._gguf is None or self._model is not None:
            return False
        return not (converted_path(self._gguf) / "config.json").is_file()

    def local_folder(self) -> Path:
        """The model as a transformers folder on disk (a GGUF is converted first)."""
        if self._gguf is not None:
            return converted(self._gguf)
        if self._folder is not None:
            return self._folder
        raise ModelNotFoundError(f"the {self.name} engine needs a local model file or folder, not {self._hub_id!r}",
                                 hint='set [llm] engine = "transformers" for a Hugging Face id')

    def model_fingerprint(self) -> dict[str, Any]:
        if self._gguf is not None:
            digest = models.file_digest(self._gguf)
        elif self._folder is not None:
            digest = models.file_digest(self._folder)
        else:
            digest = self._hub_id
        return {"engine": self.name, "model": self.model_name, "digest": digest, "max_tokens": self.max_tokens,
                "seed": self.seed, "repetition_penalty": self.repetition_penalty}

    # -- the prompt and the reply --------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is None:
            return max(1, len(text) // 4)  # before the model loads, a fair estimate for English
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def prompt_ids(self, messages: list[dict[str, str]], max_tokens: int | None) -> tuple[list[int], int]:
        """The rendered prompt's ids and how many tokens the reply may take."""
        if not messages:
            raise ConfigError("generate() needs at least one message")
        prompt = self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        ids = self._tokenizer.encode(prompt, add_special_tokens=False)
        room = self.context_tokens - len(ids)
        if room < 8:
            raise EmptyOutputError(
                f"the prompt ({len(ids)} tokens) fills the model's {self.context_tokens}-token context",
                hint="this is a bug in how the prompt was chunked",
            )
        return ids, min(int(max_tokens or self.max_tokens), room)

    @staticmethod
    def finish(text: str, stop: list[str] | None) -> str:
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

    def stop_check(self, stop: list[str]) -> Any:
        """Stop once one of `stop` (a sentence mark and a space or newline) has been written.

        The check is on the ids written so far: a token ending in the mark ('.', '!', '?')
        followed by one starting with whitespace, so "18.2%" does not stop at "18.".
        transformers' own stop_strings builds tables over the whole vocabulary on every call,
        which costs more than the tokens it saves on a small CPU model.
        """
        ends, spaces, blank_line = self._stop_tables(stop)
        tokenizer = self._tokenizer

        def done(ids: list[int]) -> bool:
            if len(ids) < 4:
                return False
            before, last = ids[-2], ids[-1]
            return (before in ends and last in spaces) or (blank_line and "\n\n" in tokenizer.decode([before, last]))

        return done
