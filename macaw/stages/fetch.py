"""Fetch: an id, path or URL -> source.json plus the raw file(s) in the episode folder.

What to fetch was decided when the request was resolved (macaw/pipeline.py `resolve`, which
calls macaw/sources/): a journal entry is copied, an arXiv paper is downloaded with its
metadata, a local PDF is copied. The request's key (the entry's digest, the arXiv id and
version) is this stage's input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from macaw.artifacts import Source
from macaw.config import Config
from macaw.errors import SourceError
from macaw.stages.context import Stage, StageContext


def _files(folder: Path, config: Config) -> list[str]:
    try:
        source = Source.load(folder)
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [f for f in [source.raw_file, *source.extra_files] if f]


STAGE = Stage(reads=(), artifact=Source, files=_files, code=("macaw.sources",))


def run(ctx: StageContext, request: Any) -> Source:
    source = request.fetch(ctx.config, ctx.folder)
    if source.id != request.episode_id:
        raise SourceError(f"fetched source id {source.id!r} does not match the episode {request.episode_id!r}")
    return source
