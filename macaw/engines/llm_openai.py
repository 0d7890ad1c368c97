"""An LLM behind an OpenAI-compatible HTTP server: Ollama, llama.cpp's server, vLLM.

    [llm]
    engine = "openai"
    base_url = "http://127.0.0.1:11434/v1"     # the server's /v1 root
    model = "llama3.2:3b"
    api_key = ""                               # sent as a Bearer token when set

Decoding is deterministic: temperature 0 and a fixed seed, with the configured limits.
"""

from __future__ import annotations

from typing import Any

from macaw.errors import ConfigError, EmptyOutputError, EngineError, EngineUnavailableError, ModelNotFoundError


class OpenAILLM:
    name = "openai"
    capabilities = frozenset({"stop"})  # declared: see macaw.engines.supports

    def __init__(self, settings: dict[str, Any]):
        self.base_url = str(settings.get("base_url") or "").rstrip("/")
        self.model_name = str(settings.get("model") or "")
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"llm.base_url must be the server's http(s) URL for engine 'openai', got {self.base_url!r}",
                hint="set [llm] base_url, e.g. http://127.0.0.1:11434/v1 for Ollama",
            )
        if not self.model_name:
            raise ConfigError("llm.model must name the server's model for engine 'openai'", hint="set [llm] model in macaw.toml")
        self.api_key = str(settings.get("api_key") or "")
        self.max_tokens = int(settings.get("max_tokens") or 120)
        self.seed = int(settings.get("seed") or 0)
        self.repetition_penalty = float(settings.get("repetition_penalty") or 1.0)
        self.timeout = float(settings.get("timeout") or 120.0)
        self.context_tokens = int(settings.get("context_tokens") or 4096)

    def fingerprint(self) -> dict[str, Any]:
        # The server's weights are out of our sight; the model name is the best identity we have.
        return {"engine": self.name, "base_url": self.base_url, "model": self.model_name, "max_tokens": self.max_tokens,
                "seed": self.seed, "repetition_penalty": self.repetition_penalty}

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def generate(self, messages: list[dict[str, str]], *, max_tokens: int | None = None, seed: int | None = None,
                 stop: list[str] | None = None) -> str:
        import httpx

        body = {
            "model": self.model_name,
            "messages": messages,
            "max_tokens": int(max_tokens or self.max_tokens),
            "temperature": 0,
            "seed": self.seed if seed is None else seed,
            # OpenAI's own knob; llama.cpp and vLLM also read repeat/repetition_penalty.
            "frequency_penalty": max(0.0, min(2.0, self.repetition_penalty - 1.0)),
            "repetition_penalty": self.repetition_penalty,
            "stream": False,
        }
        if stop:
            body["stop"] = list(stop)[:4]  # OpenAI's API takes at most four
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = f"{self.base_url}/chat/completions"
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=httpx.Timeout(self.timeout, connect=5.0))
        except httpx.TimeoutException:
            raise EngineUnavailableError(f"the LLM server at {self.base_url} did not answer within {self.timeout:.0f} s",
                                         hint="check the server, or raise [llm] timeout") from None
        except httpx.HTTPError as exc:
            raise EngineUnavailableError(f"cannot reach the LLM server at {self.base_url}: {exc}",
                                         hint="start the server (e.g. `ollama serve`) or fix [llm] base_url") from None
        if response.status_code == 404 and "model" in response.text.lower():
            raise ModelNotFoundError(f"the LLM server at {self.base_url} has no model {self.model_name!r}",
                                     hint="pull the model on the server or fix [llm] model")
        if response.status_code >= 400:
            raise EngineError(f"the LLM server at {self.base_url} answered HTTP {response.status_code}: {response.text[:200]}",
                              hint="check the server's log")
        try:
            text = response.json()["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise EmptyOutputError(f"the LLM server at {self.base_url} sent an answer without a message",
                                   hint="is it an OpenAI-compatible /v1 endpoint?") from None
        return text.strip()


def create(settings: dict[str, Any]) -> OpenAILLM:
    return OpenAILLM(settings)
