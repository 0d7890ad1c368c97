"""A plain Llama decoder in torch, without transformers: the fast path for the bundled model.

Importing transformers and building a model through it costs about 5 s on a 2-core laptop
(torch itself about 2 s), more than the bundled 135M model then spends writing an intro. A
model that is a plain Llama (`LlamaForCausalLM`, default RoPE, no biases, SiLU, one
safetensors file, a tokenizer.json and a chat template) runs here instead: the same weights,
the same arithmetic (RMSNorm, rotary embeddings, grouped-query attention, SwiGLU), greedy
decoding with a key/value cache, the tokenizer through the `tokenizers` library and the chat
template through jinja2. tests/test_llm_engines.py checks the logits, the greedy tokens and the
rendered prompt against transformers; every other model goes through transformers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable


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


class Llama:
    """The decoder itself. Weights are fused (q/k/v, gate/up) so a step is four matmuls a layer."""

    def __init__(self, folder: Path, device: str = "cpu", tokenizer_eos: int | None = None):
        import torch
        from safetensors.torch import load_file

        config = json.loads((folder / "config.json").read_text())
        self.eos = _eos_ids(folder, config, tokenizer_eos)
        w = load_file(str(folder / "model.safetensors"), device=device)
        self.device = device
        self.heads = int(config["num_attention_heads"])
        self.kv_heads = int(config.get("num_key_value_heads") or self.heads)
        self.head_dim = int(config.get("head_dim") or config["hidden_size"] // self.heads)
        self.eps = float(config.get("rms_norm_eps", 1e-6))
        self.intermediate = int(config["intermediate_size"])
        self.context = int(config.get("max_position_embeddings") or 2048)
        theta = float((config.get("rope_parameters") or {}).get("rope_theta") or config.get("rope_theta") or 10000.0)
        # As transformers computes it: integer positions, float32 inverse frequencies.
        steps = torch.arange(0, self.head_dim, 2, dtype=torch.int64).to(device=device, dtype=torch.float)
        self.inv_freq = 1.0 / (theta ** (steps / self.head_dim))
        self.embed = w["model.embed_tokens.weight"]
        tied = config.get("tie_word_embeddings", False) or "lm_head.weight" not in w
        self.head = self.embed if tied else w["lm_head.weight"]
        self.norm = w["model.norm.weight"]
        self.layers: list[dict[str, Any]] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"model.layers.{i}."
            self.layers.append({
                "ln1": w[p + "input_layernorm.weight"],
                "ln2": w[p + "post_attention_layernorm.weight"],
                "qkv": torch.cat([w[p + "self_attn.q_proj.weight"], w[p + "self_attn.k_proj.weight"], w[p + "self_attn.v_proj.weight"]]),
                "o": w[p + "self_attn.o_proj.weight"],
                "gate_up": torch.cat([w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"]]),
                "down": w[p + "mlp.down_proj.weight"],
            })

    def _rms(self, x: Any, weight: Any) -> Any:
        import torch

        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def new_cache(self, length: int) -> list[tuple[Any, Any]]:
        import torch

        shape = (self.kv_heads, length, self.head_dim)
        return [(torch.zeros(shape, device=self.device), torch.zeros(shape, device=self.device)) for _ in self.layers]

    def forward(self, ids: Any, cache: list[tuple[Any, Any]], start: int) -> Any:
        """Logits for the token after `ids`, which sit at positions start.. of the sequence."""
        import torch
        import torch.nn.functional as F

        n = int(ids.shape[0])
        heads, kv, dim = self.heads, self.kv_heads, self.head_dim
        x = self.embed[ids]
        positions = torch.arange(start, start + n, device=self.device).float()
        freqs = torch.outer(positions, self.inv_freq)
        angles = torch.cat([freqs, freqs], -1)
        cos, sin = angles.cos(), angles.sin()
        half = dim // 2

        def rotate(t: Any) -> Any:
            return t * cos + torch.cat([-t[..., half:], t[..., :half]], -1) * sin

        mask = None
        if n > 1:
            mask = torch.full((n, start + n), float("-inf"), device=self.device).triu(start + 1)
        for layer, (keys, values) in zip(self.layers, cache):
            h = self._rms(x, layer["ln1"])
            qkv = F.linear(h, layer["qkv"])
            q = rotate(qkv[:, : heads * dim].view(n, heads, dim).transpose(0, 1))
            k = rotate(qkv[:, heads * dim : (heads + kv) * dim].view(n, kv, dim).transpose(0, 1))
            v = qkv[:, (heads + kv) * dim :].view(n, kv, dim).transpose(0, 1)
            keys[:, start : start + n] = k
            values[:, start : start + n] = v
            k_all = keys[:, : start + n].repeat_interleave(heads // kv, 0)
            v_all = values[:, : start + n].repeat_interleave(heads // kv, 0)
            attended = F.scaled_dot_product_attention(q, k_all, v_all, attn_mask=mask)
            x = x + F.linear(attended.transpose(0, 1).reshape(n, heads * dim), layer["o"])
            gate, up = F.linear(self._rms(x, layer["ln2"]), layer["gate_up"]).split(self.intermediate, -1)
            x = x + F.linear(F.silu(gate) * up, layer["down"])
        return F.linear(self._rms(x[-1:], self.norm), self.head)[0]

    def generate(self, prompt: list[int], *, max_new_tokens: int, eos: set[int], repetition_penalty: float = 1.0,
                 stop: Callable[[list[int]], bool] | None = None) -> list[int]:
        """Greedy tokens after `prompt`, up to an end-of-sequence token, `stop`, or the limit.

        The repetition penalty is transformers': over the tokens written so far (not the prompt),
        a positive logit is divided by it and a negative one multiplied.
        """
        import torch

        out: list[int] = []
        cache = self.new_cache(len(prompt) + max_new_tokens)
        threads = torch.get_num_threads()
        with torch.inference_mode():
            logits = self.forward(torch.tensor(prompt, device=self.device), cache, 0)
            position = len(prompt)
            if self.device == "cpu":
                # One token at a time is a few hundred small matmuls: a second thread gains ~20% on
                # an idle machine, and on a busy one every op waits at a barrier for a descheduled
                # worker (measured 10x slower with another process on one of two cores).
                torch.set_num_threads(1)
            try:
                out = self._decode(logits, cache, position, max_new_tokens, eos, repetition_penalty, stop)
            finally:
                torch.set_num_threads(threads)
        return out

    def _decode(self, logits: Any, cache: list[tuple[Any, Any]], position: int, max_new_tokens: int, eos: set[int],
                repetition_penalty: float, stop: Callable[[list[int]], bool] | None) -> list[int]:
        import torch

        out: list[int] = []
        for _ in range(max_new_tokens):
            if repetition_penalty != 1.0 and out:
                seen = torch.tensor(sorted(set(out)), device=self.device)
                scores = logits[seen]
                logits[seen] = torch.where(scores < 0, scores * repetition_penalty, scores / repetition_penalty)
            token = int(torch.argmax(logits))
            out.append(token)
            if token in eos or len(out) == max_new_tokens or (stop is not None and stop(out)):
                break
            logits = self.forward(torch.tensor([token], device=self.device), cache, position)
            position += 1
        return out
