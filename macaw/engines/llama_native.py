"""A plain Llama decoder in numpy, without torch or transformers: the bundled model's CPU path.

Importing torch alone costs ~2.5 s of every fresh build on a 2-core laptop (transformers and
building a model through it ~5 s), more than the bundled 135M model then spends writing. A
model that is a plain Llama (`LlamaForCausalLM`, default RoPE, no biases, SiLU, one
safetensors file, a tokenizer.json and a chat template) runs here instead, on the CPU in
float32: the same weights, the same arithmetic as transformers (RMSNorm, rotary embeddings
from integer positions and float32 inverse frequencies, grouped-query attention with a
float32 max-subtracted softmax, SwiGLU), greedy decoding with a key/value cache and
transformers' repetition penalty, the tokenizer through the `tokenizers` library and the chat
template through jinja2. Weights are memory-mapped from the safetensors file; float16 and
bfloat16 files are widened to float32 at load.

numpy's matmuls run on OpenBLAS threads, and generation runs on one (threadpoolctl).
Measured on the 2-core dev machine, bundled model, a 272-token prompt, ms a token decoding /
seconds for the prompt:

    idle:                      1 thread 72-74 / 1.1-1.3   2 threads 43-48 / 0.8
    another process on ~1 core: 1 thread 65-85 / 1.1-1.3   2 threads 590-740 / 3.4-5.3
    plus a busy loop:          1 thread 120-133 / 2.0-2.2  2 threads 860-1080 / 7.7-7.8

A second thread wins a third on an idle machine and loses tenfold on a busy one, where every
matmul waits at a barrier for a descheduled worker. The torch runner this replaces decoded at
79-107 ms a token on one thread.

tests/test_llm_engines.py checks the logits, the greedy tokens and the rendered prompt against
transformers; every other model, and any model on CUDA, goes through transformers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

VERSION = 1  # bump when a change here can change a reply: it is in the native engine's fingerprint
THREADS = 1  # BLAS threads while generating (see generate); part of the fingerprint too


def supports(folder: Path) -> bool:
    """Is the model in `folder` one this runner reproduces exactly?"""
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    rope = config.get("rope_parameters") or {}
    return (
        config.get("architectures") == ["LlamaForCausalLM"]
        and config.get("hidden_act", "silu") == "silu"
        and not config.get("attention_bias", False)
        and not config.get("mlp_bias", False)
        and not config.get("rope_scaling")
        and rope.get("rope_type", "default") == "default"
        and int(config.get("pretraining_tp", 1)) == 1
        and (folder / "model.safetensors").is_file()
        and (folder / "tokenizer.json").is_file()
        and bool(_chat_template(folder))
    )


def _chat_template(folder: Path) -> str:
    path = folder / "chat_template.jinja"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text())
    except (OSError, ValueError):
        return ""
    template = config.get("chat_template")
    return template if isinstance(template, str) else ""


def _token_text(value: Any) -> str:
    return str(value.get("content", "")) if isinstance(value, dict) else str(value or "")


class Tokenizer:
    """The subset of a transformers tokenizer the engine uses, over `tokenizers` and jinja2."""

    def __init__(self, folder: Path):
        import jinja2.ext
        import tokenizers
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self._tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        try:
            config = json.loads((folder / "tokenizer_config.json").read_text())
        except (OSError, ValueError):
            config = {}
        self.special = {k: _token_text(config.get(k)) for k in ("bos_token", "eos_token", "pad_token", "unk_token")}
        self.eos_token_id = self._tok.token_to_id(self.special["eos_token"]) if self.special["eos_token"] else None
        self.pad_token_id = self._tok.token_to_id(self.special["pad_token"]) if self.special["pad_token"] else None

        def raise_exception(message: str) -> None:
            raise jinja2.exceptions.TemplateError(message)

        # The environment transformers renders chat templates in, so the prompt is the same text.
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
        env.globals["raise_exception"] = raise_exception
        self._template = env.from_string(_chat_template(folder))

    def __len__(self) -> int:
        return int(self._tok.get_vocab_size(with_added_tokens=True))

    def apply_chat_template(self, messages: list[dict[str, str]], tokenize: bool = False, add_generation_prompt: bool = True) -> str:
        return self._template.render(messages=messages, add_generation_prompt=add_generation_prompt, **self.special)

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=add_special_tokens).ids)

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        return str(self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens))

    def id_to_token(self, token_id: int) -> str:
        return str(self._tok.id_to_token(int(token_id)))


def _eos_ids(folder: Path, config: dict[str, Any], tokenizer_eos: int | None) -> set[int]:
    """What ends a reply, as transformers reads it: generation_config.json's eos ids, else
    config.json's, else the tokenizer's end-of-sequence token."""
    value = None
    try:
        value = json.loads((folder / "generation_config.json").read_text()).get("eos_token_id")
    except (OSError, ValueError):
        pass
    if value is None:
        value = config.get("eos_token_id")
    if value is None:
        return {int(tokenizer_eos)} if tokenizer_eos is not None else set()
    return {int(v) for v in value} if isinstance(value, list) else {int(value)}


_DTYPES = {"F32": "<f4", "F16": "<f2", "BF16": "<u2"}


def _load_weights(path: Path) -> dict[str, Any]:
    """The tensors of a safetensors file as float32 numpy arrays, float32 ones memory-mapped.

    The format is an 8-byte little-endian header length, a JSON header (each tensor's dtype,
    shape and byte offsets into the data), then the data. Mapping the data costs 0.06 s for the
    bundled model where safetensors' numpy API (`safe_open(..., "np").get_tensor`) copies every
    tensor, 0.54 s, and numpy has no bfloat16 for it to return anyway. float16 is widened by
    numpy; a bfloat16 is the top 16 bits of a float32, so it widens exactly as its bits as
    uint16, shifted left by 16.
    """
    import numpy as np

    size = path.stat().st_size
    with open(path, "rb") as f:
        length = int.from_bytes(f.read(8), "little")
        try:
            header = json.loads(f.read(length)) if 8 + length <= size else None
        except ValueError:
            header = None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: not a safetensors file (its header does not parse)")
    header.pop("__metadata__", None)
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + length) if size > 8 + length else np.zeros(0, np.uint8)
    weights: dict[str, Any] = {}
    for name, info in header.items():
        dtype, shape = info.get("dtype"), [int(d) for d in info.get("shape", [])]
        if dtype not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} is {dtype}; the native runner reads F32, F16 and BF16")
        begin, end = (int(v) for v in info["data_offsets"])
        count = int(np.prod(shape, dtype=np.int64))
        if not 0 <= begin <= end <= data.shape[0] or end - begin != count * np.dtype(_DTYPES[dtype]).itemsize:
            raise ValueError(f"{path}: tensor {name} lies outside the file; the file is damaged")
        array = data[begin:end].view(_DTYPES[dtype]).reshape(shape)
        if dtype == "F16":
            array = array.astype(np.float32)
        elif dtype == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        weights[name] = array
    return weights


class Llama:
    """The decoder itself, in numpy float32 on the CPU.

    Weights are fused (q/k/v, gate/up) so a step is four matmuls a layer, each a BLAS call on
    the weight as stored ((out, in), read transposed, no copy).
    """

    def __init__(self, folder: Path, device: str = "cpu", tokenizer_eos: int | None = None):
        import numpy as np

        if device != "cpu":
            raise ValueError(f"the native Llama runner runs on the CPU only, not {device!r}")
        config = json.loads((folder / "config.json").read_text())
        self.eos = _eos_ids(folder, config, tokenizer_eos)
        w = _load_weights(folder / "model.safetensors")
        self.device = device
        self.heads = int(config["num_attention_heads"])
        self.kv_heads = int(config.get("num_key_value_heads") or self.heads)
        self.head_dim = int(config.get("head_dim") or config["hidden_size"] // self.heads)
        self.eps = np.float32(config.get("rms_norm_eps", 1e-6))
        self.intermediate = int(config["intermediate_size"])
        self.context = int(config.get("max_position_embeddings") or 2048)
        theta = float((config.get("rope_parameters") or {}).get("rope_theta") or config.get("rope_theta") or 10000.0)
        # As transformers computes it: integer positions, float32 inverse frequencies.
        steps = np.arange(0, self.head_dim, 2, dtype=np.int64).astype(np.float32)
        self.inv_freq = (np.float32(1.0) / (np.float32(theta) ** (steps / np.float32(self.head_dim)))).astype(np.float32)
        self.embed = w.pop("model.embed_tokens.weight")
        tied = config.get("tie_word_embeddings", False) or "lm_head.weight" not in w
        self.head = self.embed if tied else w.pop("lm_head.weight")
        self.norm = w.pop("model.norm.weight")
        self.layers: list[dict[str, Any]] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"model.layers.{i}."
            self.layers.append({
                "ln1": w.pop(p + "input_layernorm.weight"),
                "ln2": w.pop(p + "post_attention_layernorm.weight"),
                "qkv": np.concatenate([w.pop(p + "self_attn.q_proj.weight"), w.pop(p + "self_attn.k_proj.weight"),
                                       w.pop(p + "self_attn.v_proj.weight")]),
                "o": w.pop(p + "self_attn.o_proj.weight"),
                "gate_up": np.concatenate([w.pop(p + "mlp.gate_proj.weight"), w.pop(p + "mlp.up_proj.weight")]),
                "down": w.pop(p + "mlp.down_proj.weight"),
            })

    def _rms(self, x: Any, weight: Any) -> Any:
        import numpy as np

        return weight * (x * (np.float32(1.0) / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps)))

    def new_cache(self, length: int) -> list[tuple[Any, Any]]:
        import numpy as np

        shape = (self.kv_heads, length, self.head_dim)
        return [(np.zeros(shape, np.float32), np.zeros(shape, np.float32)) for _ in self.layers]

    def forward(self, ids: Any, cache: list[tuple[Any, Any]], start: int) -> Any:
        """Logits (float32, shape (vocab,)) for the token after `ids`, at positions start.. ."""
        import numpy as np

        ids = np.asarray(ids, dtype=np.int64)
        n = int(ids.shape[0])
        heads, kv, dim = self.heads, self.kv_heads, self.head_dim
        group, end, half = heads // kv, start + n, dim // 2
        x = self.embed[ids]
        freqs = np.outer(np.arange(start, end, dtype=np.int64).astype(np.float32), self.inv_freq)
        angles = np.concatenate([freqs, freqs], -1)[:, None, :]  # (n, 1, dim): one row per position
        cos, sin = np.cos(angles), np.sin(angles)

        def rotate(t: Any) -> Any:  # t: (n, heads, dim); transformers' rotate_half
            return t * cos + np.concatenate([-t[..., half:], t[..., :half]], -1) * sin

        # The query heads that share a key/value head sit together: (kv, group * n, dim) rows
        # against (kv, length, dim) keys, so no key is copied per query head.
        mask = None
        if n > 1:
            mask = np.triu(np.full((n, end), -np.inf, np.float32), start + 1)
        scale = np.float32(1.0 / np.sqrt(dim))
        for layer, (keys, values) in zip(self.layers, cache):
            qkv = self._rms(x, layer["ln1"]) @ layer["qkv"].T
            q = rotate(qkv[:, : heads * dim].reshape(n, heads, dim))
            keys[:, start:end] = rotate(qkv[:, heads * dim : (heads + kv) * dim].reshape(n, kv, dim)).transpose(1, 0, 2)
            values[:, start:end] = qkv[:, (heads + kv) * dim :].reshape(n, kv, dim).transpose(1, 0, 2)
            q = q.transpose(1, 0, 2).reshape(kv, group * n, dim)
            scores = (q @ keys[:, :end].transpose(0, 2, 1)) * scale  # (kv, group * n, end)
            if mask is not None:
                scores = (scores.reshape(kv, group, n, end) + mask).reshape(kv, group * n, end)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ values[:, :end]).reshape(heads, n, dim).transpose(1, 0, 2).reshape(n, heads * dim)
            x = x + attended @ layer["o"].T
            gate_up = self._rms(x, layer["ln2"]) @ layer["gate_up"].T
            gate, up = gate_up[:, : self.intermediate], gate_up[:, self.intermediate :]
            with np.errstate(over="ignore"):  # exp(-gate) overflows to inf for gate << 0: silu is then -0
                x = x + ((gate / (np.float32(1.0) + np.exp(-gate))) * up) @ layer["down"].T
        return (self._rms(x[-1:], self.norm) @ self.head.T)[0]

    def generate(self, prompt: list[int], *, max_new_tokens: int, eos: set[int], repetition_penalty: float = 1.0,
                 stop: Callable[[list[int]], bool] | None = None) -> list[int]:
        """Greedy tokens after `prompt`, up to an end-of-sequence token, `stop`, or the limit.

        The repetition penalty is transformers': over the tokens written so far (not the prompt),
        a positive logit is divided by it and a negative one multiplied.
        """
        import numpy as np
        from threadpoolctl import threadpool_limits

        # One BLAS thread, prompt and reply alike: on a busy machine every matmul on two threads
        # waits for a descheduled worker (the module docstring has the figures), and a fixed
        # count keeps the reply the same on any machine and any load, since the thread count
        # changes how OpenBLAS sums (logits differ by ~2e-5, enough to flip a near-tie).
        with threadpool_limits(limits=THREADS, user_api="blas"):
            cache = self.new_cache(len(prompt) + max_new_tokens)
            logits = self.forward(np.asarray(prompt, dtype=np.int64), cache, 0)
            return self._decode(logits, cache, len(prompt), max_new_tokens, eos, repetition_penalty, stop)

    def _decode(self, logits: Any, cache: list[tuple[Any, Any]], position: int, max_new_tokens: int, eos: set[int],
                repetition_penalty: float, stop: Callable[[list[int]], bool] | None) -> list[int]:
        import numpy as np

        out: list[int] = []
        penalty = np.float32(repetition_penalty)
        for _ in range(max_new_tokens):
            if repetition_penalty != 1.0 and out:
                seen = np.asarray(sorted(set(out)), dtype=np.int64)
                scores = logits[seen]
                logits[seen] = np.where(scores < 0, scores * penalty, scores / penalty)
            token = int(np.argmax(logits))
            out.append(token)
            if token in eos or len(out) == max_new_tokens or (stop is not None and stop(out)):
                break
            logits = self.forward(np.asarray([token], dtype=np.int64), cache, position)
            position += 1
        return out
