"""A real OpenAI-compatible server for tests: POST /v1/chat/completions on 127.0.0.1.

    python tests/openai_server.py echo           replies with the first sentence of the prompt's text
    python tests/openai_server.py transformers   replies with the bundled SmolLM2 model
    python tests/openai_server.py empty          replies with an empty message
    python tests/openai_server.py replay FILE    replies from FILE, a JSON list of {"when": text, "answer": text}:
                                                 the first whose `when` is in the prompt (else "")

Prints the port it listens on, then serves until killed.
"""

from __future__ import annotations

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "echo"
_engine = None
requests: list[dict] = []


def answer(body: dict) -> str:
    global _engine
    if BACKEND == "empty":
        return ""
    if BACKEND == "replay":
        prompt = body["messages"][-1]["content"]
        script = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
        return next((item["answer"] for item in script if item["when"] in prompt), "")
    if BACKEND == "transformers":
        if _engine is None:
            from macaw.engines.llm_transformers import create

            _engine = create({"max_tokens": 60})
        return _engine.generate(body["messages"], max_tokens=body.get("max_tokens", 60), seed=body.get("seed", 0))
    text = body["messages"][-1]["content"]
    lines = [l for l in text.splitlines() if l.strip() and not l.rstrip().endswith(":")]
    first = re.split(r"(?<=[.!?])\s", lines[0] if lines else "")[0]
    return first


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.path != "/v1/chat/completions":
            self.send_error(404, "no such endpoint")
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("model") != "test-model":
            payload = json.dumps({"error": {"message": f"model '{body.get('model')}' not found"}}).encode()
            self.send_response(404)
        else:
            content = answer(body)
            payload = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
                                  "echo": {"temperature": body.get("temperature"), "seed": body.get("seed"),
                                           "auth": self.headers.get("Authorization", "")}}).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
