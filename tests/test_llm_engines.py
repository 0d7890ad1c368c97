"""The LLM engines: the bundled transformers model and an OpenAI-compatible server process."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from macaw import engines
from macaw.errors import ConfigError, EngineUnavailableError, ModelNotFoundError

SERVER = Path(__file__).with_name("openai_server.py")
ROOT = Path(__file__).resolve().parents[1]
MESSAGES = [{"role": "user", "content": "Text:\nThe cat sat on the mat. It was warm.\n\nSay what happened."}]


@pytest.fixture
def server(request):
    backend = getattr(request, "param", "echo")
    proc = subprocess.Popen([sys.executable, str(SERVER), backend], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.kill()
        proc.wait()


def openai(base_url: str, model: str = "test-model", **extra):
    return engines.create("llm", {"engine": "openai", "base_url": base_url, "model": model, "max_tokens": 40, **extra})


def test_openai_engine_talks_to_a_real_server_process(server):
    llm = openai(server)
    assert llm.generate(MESSAGES, max_tokens=20, seed=0) == "The cat sat on the mat."
    assert llm.fingerprint()["model"] == "test-model"


def test_openai_unreachable_server_is_one_clear_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(EngineUnavailableError, match=f"127.0.0.1:{port}"):
        openai(f"http://127.0.0.1:{port}/v1").generate(MESSAGES, max_tokens=10, seed=0)


def test_openai_unknown_model(server):
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        openai(server, model="no-such-model").generate(MESSAGES, max_tokens=10, seed=0)


@pytest.mark.parametrize("server", ["empty"], indirect=True)
def test_openai_empty_reply_reaches_the_writer_as_empty(server):
    assert openai(server).generate(MESSAGES, max_tokens=10, seed=0) == ""


def test_openai_needs_url_and_model():
    with pytest.raises(ConfigError, match="base_url"):
        engines.create("llm", {"engine": "openai", "model": "x"})
    with pytest.raises(ConfigError, match="model"):
        engines.create("llm", {"engine": "openai", "base_url": "http://127.0.0.1:1/v1"})


@pytest.mark.parametrize("name", ["auto", "native", "transformers", "ctranslate2"])
def test_local_engines_are_cheap_to_create(name):
    # The fingerprint is needed on every build, even cached ones: no torch, no transformers.
    code = (
        f"import sys; from macaw import engines; e = engines.create('llm', {{'engine': {name!r}, 'device': 'cpu'}}); "
        "f = e.fingerprint(); assert f['digest'] and f['model'].startswith('SmolLM2'), f; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules; print(f['engine'])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == ("ctranslate2" if name == "auto" else name), out.stderr


@pytest.mark.parametrize("name", ["auto", "native", "transformers", "ctranslate2"])
def test_local_engines_missing_model(tmp_path, name):
    with pytest.raises(ModelNotFoundError, match="missing.gguf"):
        engines.create("llm", {"engine": name, "model": str(tmp_path / "missing.gguf")})
    with pytest.raises(ModelNotFoundError, match="config.json"):
        engines.create("llm", {"engine": name, "model": str(tmp_path)})


@pytest.mark.slow
def test_transformers_bundled_model_generates_deterministically():
    llm = engines.create("llm", {"engine": "transformers", "max_tokens": 30, "repetition_penalty": 1.15})
    first = llm.generate(MESSAGES, max_tokens=30, seed=0)
    again = llm.generate(MESSAGES, max_tokens=30, seed=0)
    assert first and first == again
    assert llm.count_tokens("hello world") >= 2


@pytest.mark.slow
@pytest.mark.parametrize("server", ["transformers"], indirect=True)
def test_openai_engine_against_a_server_running_the_bundled_model(server):
    llm = openai(server, max_tokens=30)
    reply = llm.generate(MESSAGES, max_tokens=30, seed=0)
    assert reply and reply == llm.generate(MESSAGES, max_tokens=30, seed=0)


# -- the native Llama runner (the bundled model's fast path) -------------------------------------


def _write_config(folder: Path, **changes) -> Path:
    import json

    config = {"architectures": ["LlamaForCausalLM"], "hidden_act": "silu", "num_attention_heads": 2,
              "num_hidden_layers": 1, "hidden_size": 8, "intermediate_size": 16}
    config.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "model.safetensors").write_bytes(b"")
    (folder / "tokenizer.json").write_text("{}")
    (folder / "chat_template.jinja").write_text("{% for m in messages %}{{ m['content'] }}{% endfor %}")
    return folder


def test_native_runner_takes_only_plain_llamas(tmp_path):
    from macaw.engines import llama_native

    assert llama_native.supports(_write_config(tmp_path / "plain"))
    assert not llama_native.supports(_write_config(tmp_path / "mistral", architectures=["MistralForCausalLM"]))
    assert not llama_native.supports(_write_config(tmp_path / "scaled", rope_scaling={"type": "linear", "factor": 2.0}))
    assert not llama_native.supports(_write_config(tmp_path / "yarn", rope_parameters={"rope_type": "yarn"}))
    assert not llama_native.supports(_write_config(tmp_path / "bias", attention_bias=True))
    no_template = _write_config(tmp_path / "no-template")
    (no_template / "chat_template.jinja").unlink()
    assert not llama_native.supports(no_template)
    assert not llama_native.supports(tmp_path / "missing")


def test_the_old_runtime_setting_is_one_clear_error(tmp_path):
    from macaw import config as config_module

    (tmp_path / "macaw.toml").write_text('[llm]\nruntime = "transformers"\n')
    with pytest.raises(ConfigError, match='runtime is gone.*engine = "transformers"'):
        config_module.load(out=tmp_path, env={})
    with pytest.raises(ConfigError, match="runtime is gone"):
        config_module.load(out=tmp_path / "elsewhere", env={"MACAW_LLM_RUNTIME": "auto"})
    with pytest.raises(ConfigError, match="runtime is gone"):
        engines.create("llm", {"engine": "transformers", "runtime": "transformers"})
    assert config_module.load(out=tmp_path / "elsewhere", env={}).llm.engine == "auto"


def test_auto_picks_ctranslate2_for_a_plain_llama_on_the_cpu_and_transformers_otherwise(tmp_path):
    from macaw.engines import llm_ctranslate2, llm_transformers

    def chosen(**settings):
        return type(engines.create("llm", {"engine": "auto", **settings}))

    assert chosen(device="cpu") is llm_ctranslate2.CTranslate2LLM  # the bundled model
    assert chosen(device="cpu", model=str(_write_config(tmp_path / "plain"))) is llm_ctranslate2.CTranslate2LLM
    assert chosen(device="cpu", model=str(_write_config(tmp_path / "mistral", architectures=["MistralForCausalLM"]))) \
        is llm_transformers.TransformersLLM
    assert chosen(device="cpu", model="HuggingFaceTB/SmolLM2-360M-Instruct") is llm_transformers.TransformersLLM
    # Asked by name, transformers is always transformers, and numpy refuses what it cannot run.
    assert type(engines.create("llm", {"engine": "transformers", "device": "cpu"})) is llm_transformers.TransformersLLM
    with pytest.raises(EngineUnavailableError, match="Hugging Face id"):
        engines.create("llm", {"engine": "native", "model": "HuggingFaceTB/SmolLM2-360M-Instruct"})
    with pytest.raises(EngineUnavailableError, match="CPU only"):
        engines.create("llm", {"engine": "native", "device": "cuda"})
    with pytest.raises(ConfigError, match="compute_type"):
        engines.create("llm", {"engine": "ctranslate2", "compute_type": "float16"})


def test_fingerprints_name_the_runtime_that_runs():
    import numpy

    native = engines.create("llm", {"engine": "native"}).fingerprint()
    reference = engines.create("llm", {"engine": "transformers"}).fingerprint()
    assert native["engine"] == "native" and reference["engine"] == "transformers"
    assert native["digest"] == reference["digest"]  # the same model file...
    assert native != reference  # ...run by something else: a different cache key
    runtime = native["runtime"]
    assert runtime["numpy"] == numpy.__version__ and runtime["dtype"] == "float32" and runtime["threads"] == 1
    assert runtime["blas"] and runtime["blas_version"]
    assert "transformers" not in native and reference["transformers"] and reference["torch"]
    ct2 = engines.create("llm", {"engine": "ctranslate2"}).fingerprint()
    assert ct2["engine"] == "ctranslate2" and ct2["compute_type"] == "float32" and ct2["ctranslate2"] and ct2["threads"] == 1
    assert ct2["cpu_isa"]
    assert ct2["digest"] == native["digest"] and ct2 != native and ct2 != reference
    assert engines.create("llm", {"engine": "auto", "device": "cpu"}).fingerprint() == ct2


def _write_stage_prompts(tmp_path: Path, llm, entries=("end-of-batch.txt",)) -> list[dict]:
    """The prompts the real write stage sends for real journal entries (summary mode), through `llm`."""
    from llmfixtures import context, journal_document, journal_path

    from macaw.stages import write as write_stage

    calls = []

    class Recorder:
        capabilities = frozenset({"stop"})
        model_name, context_tokens = llm.model_name, llm.context_tokens

        def generate(self, messages, *, max_tokens, seed, stop=None):
            calls.append({"messages": messages, "max_tokens": max_tokens, "stop": stop})
            return llm.generate(messages, max_tokens=max_tokens, seed=seed, stop=stop)

        def count_tokens(self, text):
            return llm.count_tokens(text)

        def fingerprint(self):
            return llm.fingerprint()

    engines.register("llm.record", lambda settings: Recorder())
    try:
        for name in entries:
            doc, source = journal_document(journal_path(name))
            ctx = context(tmp_path / name, journal__mode="summary")
            ctx.config.llm.engine = "record"
            write_stage.run(ctx, doc, source)
    finally:
        engines.unregister("llm.record")
    return calls


@pytest.mark.slow
def test_native_engine_gives_transformers_replies_on_the_bundled_model(tmp_path):
    """Same prompt text, same logits, same greedy replies (penalty and stop rule), on the write
    stage's own prompts for real journal entries."""
    import torch

    native = engines.create("llm", {"engine": "native", "repetition_penalty": 1.15})
    reference = engines.create("llm", {"engine": "transformers", "repetition_penalty": 1.15, "device": "cpu"})
    native._load()
    reference._load()
    messages = [{"role": "system", "content": "You introduce podcast episodes."}, *MESSAGES]
    prompt = native._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt == reference._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = native._tokenizer.encode(prompt, add_special_tokens=False)
    assert ids == reference._tokenizer.encode(prompt, add_special_tokens=False)
    ours = torch.from_numpy(native._model.forward(ids, native._model.new_cache(len(ids)), 0))
    with torch.inference_mode():
        theirs = reference._model(torch.tensor([ids])).logits[0, -1]
    assert ours.dtype == torch.float32 and ours.shape == theirs.shape
    assert torch.allclose(ours, theirs, atol=1e-3), float((ours - theirs).abs().max())
    for stop in (None, [". ", "! ", "? ", ".\n", "\n\n"]):
        assert native.generate(messages, max_tokens=40, stop=stop) == reference.generate(messages, max_tokens=40, stop=stop)
    assert native.count_tokens("The cat sat on the mat.") == reference.count_tokens("The cat sat on the mat.")
    calls = _write_stage_prompts(tmp_path, native)
    assert len(calls) >= 4
    differ = [c for c in calls if native.generate(c["messages"], max_tokens=c["max_tokens"], stop=c["stop"])
              != reference.generate(c["messages"], max_tokens=c["max_tokens"], stop=c["stop"])]
    assert not differ, f"{len(differ)} of {len(calls)} replies differ"


@pytest.mark.slow
def test_ctranslate2_engine_gives_transformers_replies_at_float32(tmp_path):
    """CTranslate2 (float32, converted once into the cache) writes what transformers writes; its
    int8 weights would not, which is why float32 is its default."""
    ct2 = engines.create("llm", {"engine": "ctranslate2", "repetition_penalty": 1.15})
    reference = engines.create("llm", {"engine": "transformers", "repetition_penalty": 1.15, "device": "cpu"})
    fingerprint = ct2.fingerprint()
    assert fingerprint["engine"] == "ctranslate2" and fingerprint["compute_type"] == "float32" and fingerprint["ctranslate2"]
    calls = _write_stage_prompts(tmp_path, ct2, entries=("end-of-batch.txt",))
    assert len(calls) >= 2
    for c in calls[:6]:
        assert ct2.generate(c["messages"], max_tokens=c["max_tokens"], stop=c["stop"]) == \
            reference.generate(c["messages"], max_tokens=c["max_tokens"], stop=c["stop"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["auto", "native", "ctranslate2"])
def test_torch_free_engines_import_neither_torch_nor_transformers(name):
    # Importing torch alone costs ~2.5 s of every fresh build; once converted, the bundled model
    # runs in CTranslate2 or numpy. Converting it (the first use) goes through transformers.
    engines.create("llm", {"engine": name, "device": "cpu"})._load()  # converted here, if it is not yet
    code = (
        f"import sys; from macaw import engines; e = engines.create('llm', {{'engine': {name!r}, 'max_tokens': 8, 'device': 'cpu'}}); "
        "out = e.generate([{'role': 'user', 'content': 'Say hello.'}]); "
        "loaded = [m for m in ('torch', 'transformers') if m in sys.modules]; "
        "assert out and not loaded, (out, loaded); print(e.name)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == ("ctranslate2" if name == "auto" else name), out.stderr[-2000:]


# A tiny random plain Llama (grouped-query attention, untied head, two layers) whose weights
# come from a seeded numpy generator. GOLDEN_* are transformers' answers for it: the fast test
# checks the numpy runner against them without importing torch, and the slow one checks them
# (and the runner) against a live LlamaForCausalLM, so they cannot go stale unnoticed.
TINY = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu", "hidden_size": 32,
        "intermediate_size": 48, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
        "num_hidden_layers": 2, "vocab_size": 64, "max_position_embeddings": 64, "rms_norm_eps": 1e-5,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000.0}, "tie_word_embeddings": False,
        "bos_token_id": 0, "eos_token_id": 63, "pad_token_id": 63}
TINY_PROMPT = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3, 2]
GOLDEN_LOGITS = [1.72425, -3.13776, 1.13782, 0.70367, -2.32783, 0.5155, 1.06208, 0.2854]  # the prefill's last-position logits, first 8 of 64
GOLDEN_TOKENS = [61, 57, 19, 43, 57, 19, 59, 55, 14, 58, 27, 36]  # 12 greedy tokens with a repetition penalty of 1.3


def _tiny_llama(folder: Path) -> Path:
    import json

    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(7)
    h, i, v, d = TINY["hidden_size"], TINY["intermediate_size"], TINY["vocab_size"], TINY["head_dim"]
    q, kv = TINY["num_attention_heads"] * d, TINY["num_key_value_heads"] * d

    def matrix(rows: int, cols: int):
        return (rng.standard_normal((rows, cols)) * 0.4).astype(np.float32)

    def norm():
        return (1.0 + 0.2 * rng.standard_normal(h)).astype(np.float32)

    w = {"model.embed_tokens.weight": matrix(v, h), "lm_head.weight": matrix(v, h), "model.norm.weight": norm()}
    for n in range(TINY["num_hidden_layers"]):
        p = f"model.layers.{n}."
        w |= {p + "input_layernorm.weight": norm(), p + "post_attention_layernorm.weight": norm(),
              p + "self_attn.q_proj.weight": matrix(q, h), p + "self_attn.k_proj.weight": matrix(kv, h),
              p + "self_attn.v_proj.weight": matrix(kv, h), p + "self_attn.o_proj.weight": matrix(h, q),
              p + "mlp.gate_proj.weight": matrix(i, h), p + "mlp.up_proj.weight": matrix(i, h),
              p + "mlp.down_proj.weight": matrix(h, i)}
    folder.mkdir(parents=True, exist_ok=True)
    save_file(w, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(TINY))
    return folder


def test_native_runner_math_on_a_tiny_llama(tmp_path):
    import numpy as np

    from macaw.engines import llama_native

    model = llama_native.Llama(_tiny_llama(tmp_path / "tiny"), "cpu", None)
    assert model.eos == {63}
    logits = model.forward(TINY_PROMPT, model.new_cache(len(TINY_PROMPT)), 0)
    assert logits.dtype == np.float32 and logits.shape == (64,)
    assert np.allclose(logits[:8], GOLDEN_LOGITS, atol=1e-4), logits[:8].tolist()
    # Token by token through the cache gives what the whole prompt at once gave (the causal mask).
    cache = model.new_cache(len(TINY_PROMPT))
    for position, token in enumerate(TINY_PROMPT):
        step = model.forward([token], cache, position)
    assert np.allclose(step, logits, atol=1e-5), float(np.abs(step - logits).max())
    assert model.generate(TINY_PROMPT, max_new_tokens=12, eos=model.eos, repetition_penalty=1.3) == GOLDEN_TOKENS


def test_native_runner_reads_half_precision_weights(tmp_path):
    import json

    import numpy as np
    from safetensors.numpy import save_file

    from macaw.engines import llama_native

    values = np.array([[1.0, -2.5, 3.140625], [0.0, -0.0078125, 65280.0]], np.float32)  # exact in f16 and bf16
    save_file({"w": values.astype(np.float16)}, str(tmp_path / "f16.safetensors"))
    bits = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = json.dumps({"w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, len(bits)]}}).encode()
    header += b" " * (-len(header) % 8)
    (tmp_path / "bf16.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + bits)
    for name in ("f16", "bf16"):
        w = llama_native._load_weights(tmp_path / f"{name}.safetensors")["w"]
        assert w.dtype == np.float32 and np.array_equal(w, values), (name, w)
    (tmp_path / "bad.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + bits[:6])
    with pytest.raises(ValueError, match="damaged"):
        llama_native._load_weights(tmp_path / "bad.safetensors")


@pytest.mark.slow
def test_native_runner_matches_transformers_on_a_tiny_llama(tmp_path):
    import numpy as np
    import torch
    from transformers import LlamaForCausalLM, LogitsProcessorList, RepetitionPenaltyLogitsProcessor

    from macaw.engines import llama_native

    folder = _tiny_llama(tmp_path / "tiny")
    reference = LlamaForCausalLM.from_pretrained(str(folder)).eval()
    model = llama_native.Llama(folder, "cpu", None)
    with torch.inference_mode():
        theirs = reference(torch.tensor([TINY_PROMPT])).logits[0].numpy()
        written = reference.generate(
            torch.tensor([TINY_PROMPT]), attention_mask=torch.ones(1, len(TINY_PROMPT), dtype=torch.long),
            max_new_tokens=12, do_sample=False, pad_token_id=63,
            logits_processor=LogitsProcessorList([RepetitionPenaltyLogitsProcessor(1.3, prompt_ignore_length=len(TINY_PROMPT))]),
        )[0, len(TINY_PROMPT):].tolist()
    for length in range(1, len(TINY_PROMPT) + 1):  # every prefix: the mask, the rotary angles at each position
        ours = model.forward(TINY_PROMPT[:length], model.new_cache(length), 0)
        assert np.allclose(ours, theirs[length - 1], atol=1e-4), (length, float(np.abs(ours - theirs[length - 1]).max()))
    assert np.allclose(theirs[-1, :8], GOLDEN_LOGITS, atol=1e-4), theirs[-1, :8].tolist()
    assert written == GOLDEN_TOKENS
    assert model.generate(TINY_PROMPT, max_new_tokens=12, eos=model.eos, repetition_penalty=1.3) == written


# -- declared capabilities ------------------------------------------------------------------------


def test_builtin_engines_declare_their_capabilities():
    from macaw.engines import asr_whisper, llm_ctranslate2, llm_native, llm_openai, llm_transformers, tts_piper

    for cls in (llm_native.NativeLLM, llm_transformers.TransformersLLM, llm_ctranslate2.CTranslate2LLM, llm_openai.OpenAILLM):
        assert engines.supports(cls, "stop"), cls
    assert engines.supports(asr_whisper.WhisperASR, "beam_size") and engines.supports(asr_whisper.WhisperASR, "windows")
    assert not engines.supports(tts_piper.PiperTTS, "stop")
    # Every declared name is one the docs describe, and a misspelt question is a bug, not a "no".
    for cls in (llm_native.NativeLLM, asr_whisper.WhisperASR, llm_openai.OpenAILLM):
        assert cls.capabilities <= set().union(*engines.CAPABILITIES.values())
    with pytest.raises(ValueError, match="stpo"):
        engines.supports(llm_native.NativeLLM, "stpo")


def test_an_engine_that_declares_nothing_gets_the_plain_protocol(tmp_path):
    """A third-party engine whose methods happen to take more is not probed: it declared nothing."""
    from llmfixtures import context, journal_document, journal_path

    from macaw.script.writer import Writer

    class PlainLLM:  # takes stop= but does not say so
        model_name, context_tokens = "plain", 2048

        def __init__(self):
            self.calls = []

        def generate(self, messages, *, max_tokens, seed, **extra):
            self.calls.append(extra)
            return "A reply."

        def fingerprint(self):
            return {"engine": "plain"}

    class DeclaringLLM(PlainLLM):
        capabilities = frozenset({"stop"})

    class PlainASR:
        def transcribe(self, audio, beam_size=None, windows=None):
            raise AssertionError("not called here")

    assert not engines.supports(PlainLLM(), "stop") and not engines.supports(PlainASR(), "windows")
    assert not engines.supports(PlainASR(), "beam_size")
    doc, source = journal_document(journal_path("end-of-batch.txt"))
    for cls, expected in ((PlainLLM, {}), (DeclaringLLM, {"stop": [". ", "! ", "? ", ".\n", "\n\n"]})):
        llm = cls()
        engines.register("llm.fake", lambda settings: llm)
        try:
            Writer(context(tmp_path), doc, source).ask("Say one thing.", 20, one_sentence=True)
        finally:
            engines.unregister("llm.fake")
        assert llm.calls == [expected], cls
