"""The stage cache: a stage reruns only when something that decides its output changed.

A stage's key is a hash over its parts: the digests of its input files, its engine's
fingerprint (engine, library version, model file hash, options), its own options and its code
version. The parts are kept beside the key in `.macaw-cache.json`, so `macaw explain` can say
which part changed, the way doit's `config_changed` does.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from macaw.fsutil import atomic_write_text, sha256_file

CACHE_FILE = ".macaw-cache.json"


def digest(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def file_digests(folder: Path, names: list[str]) -> dict[str, str]:
    return {name: (sha256_file(folder / name) if (folder / name).is_file() else "missing") for name in names}


@dataclass
class Verdict:
    fresh: bool
    reasons: list[str]


class StageCache:
    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / CACHE_FILE
        try:
            self.records: dict[str, Any] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.records = {}

    def verdict(self, stage: str, parts: dict[str, Any], outputs: list[str]) -> Verdict:
        record = self.records.get(stage)
        if record is None:
            return Verdict(False, ["never ran"])
        missing = [o for o in outputs if not (self.folder / o).exists()]
        reasons = [f"output {o} is missing" for o in missing]
        if record.get("key") != digest(parts):
            reasons += changed_parts(record.get("parts", {}), parts)
        return Verdict(not reasons, reasons)

    def record(self, stage: str, parts: dict[str, Any], seconds: float) -> None:
        self.records[stage] = {"key": digest(parts), "parts": parts, "seconds": round(seconds, 3)}
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(self.records, indent=1, sort_keys=True, default=str) + "\n")

    def seconds(self, stage: str) -> float | None:
        record = self.records.get(stage)
        return record.get("seconds") if record else None


def changed_parts(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Name each leaf that differs: 'input script.json changed', 'engine.speed 1.0 -> 1.2'."""
    reasons = []
    for key in sorted(set(old) | set(new)):
        where = f"{prefix}{key}"
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            reasons += changed_parts(a, b, where + ".")
        elif a != b:
            if where.startswith("inputs."):
                reasons.append(f"input {where[len('inputs.'):]} changed")
            elif isinstance(a, str) and len(a) == 64 or isinstance(b, str) and len(b) == 64:
                reasons.append(f"{where} changed")
            else:
                reasons.append(f"{where}: {a!r} -> {b!r}")
    return reasons


@functools.lru_cache(maxsize=None)
def code_digest(*modules: str) -> str:
    """A hash of the source of `modules` (a package counts with every module under it), found
    without importing them: a stage whose code changed reruns."""
    h = hashlib.sha256()
    for name in sorted(set(modules)):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            h.update(f"{name}: missing\0".encode())
            continue
        origin = Path(spec.origin)
        paths = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for path in paths:
            h.update(f"{name}/{path.relative_to(origin.parent)}\0".encode() + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
