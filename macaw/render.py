"""Where the jinja templates live (package data inside `macaw/templates/`), and their digest.

Scripts, prompts, show notes and pages are all rendered from these files; a stage whose output
depends on a template puts `digest(...)` of it in its cache key, so editing one reruns it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"


def loader():  # -> jinja2.BaseLoader; jinja2 imported lazily so `macaw --help` stays light
    import jinja2

    return jinja2.PackageLoader("macaw", "templates")


def digest(*patterns: str) -> str:
    """A hash of every template matching any of `patterns` (default: all), names and bytes."""
    h = hashlib.sha256()
    for path in sorted({p for pattern in (patterns or ("*.j2",)) for p in TEMPLATES.glob(pattern)}):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
