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


def test_transformers_engine_is_cheap_to_create():
    # The fingerprint is needed on every build, even cached ones: no torch, no transformers.
    code = (
        "import sys; from macaw import engines; e = engines.create('llm', {'engine': 'transformers'}); "
        "f = e.fingerprint(); assert f['digest'] and f['model'].startswith('SmolLM2'), f; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_transformers_missing_model(tmp_path):
    with pytest.raises(ModelNotFoundError, match="missing.gguf"):
        engines.create("llm", {"engine": "transformers", "model": str(tmp_path / "missing.gguf")})
    with pytest.raises(ModelNotFoundError, match="config.json"):
        engines.create("llm", {"engine": "transformers", "model": str(tmp_path)})


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


def test_llm_runtime_setting_is_checked():
    with pytest.raises(ConfigError, match="runtime"):
        engines.create("llm", {"engine": "transformers", "runtime": "llama.cpp"})
    assert engines.create("llm", {"engine": "transformers", "runtime": "transformers"}).fingerprint()["runtime"] == "transformers"


@pytest.mark.slow
def test_native_runner_matches_transformers_on_the_bundled_model():
    """Same prompt text, same logits, same greedy tokens (with the penalty and the stop rule)."""
    import torch

    native = engines.create("llm", {"engine": "transformers", "repetition_penalty": 1.15})
    reference = engines.create("llm", {"engine": "transformers", "repetition_penalty": 1.15, "runtime": "transformers"})
    native._load()
    reference._load()
    assert native._native and not reference._native
    messages = [{"role": "system", "content": "You introduce podcast episodes."}, *MESSAGES]
    prompt = native._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt == reference._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = native._tokenizer.encode(prompt, add_special_tokens=False)
    assert ids == reference._tokenizer.encode(prompt, add_special_tokens=False)
    with torch.inference_mode():
        ours = native._model.forward(torch.tensor(ids), native._model.new_cache(len(ids)), 0)
        theirs = reference._model(torch.tensor([ids])).logits[0, -1]
    assert torch.allclose(ours, theirs, atol=1e-3), float((ours - theirs).abs().max())
    for stop in (None, [". ", "! ", "? ", ".\n", "\n\n"]):
        assert native.generate(messages, max_tokens=40, stop=stop) == reference.generate(messages, max_tokens=40, stop=stop)
    assert native.count_tokens("The cat sat on the mat.") == reference.count_tokens("The cat sat on the mat.")


@pytest.mark.slow
def test_native_runner_does_not_import_transformers():
    code = (
        "import sys; from macaw import engines; e = engines.create('llm', {'engine': 'transformers', 'max_tokens': 8}); "
        "out = e.generate([{'role': 'user', 'content': 'Say hello.'}]); "
        "assert out and e._native, out; assert 'transformers' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]
