"""Macaw: research papers and journal entries, turned into podcast episodes, offline.

    from macaw import build
    manifest = build(journal="entry.md", out="~/podcast")

Heavy modules (torch, the models) load only when a stage needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from macaw.version import __version__

if TYPE_CHECKING:
    from macaw.artifacts import Manifest


def build(**kwargs: Any) -> "list[Manifest]":
    """Build episodes; see `macaw.pipeline.build` for the arguments."""
    from macaw.pipeline import build as _build

    return _build(**kwargs)


def publish_feed(config: Any = None, **kwargs: Any) -> Any:
    """Rebuild the feed and pages from the episode manifests; see `macaw.stages.publish.publish_all`.

    `config` is a `macaw.config.Config`; without one, settings load as the CLI loads them.
    (Named publish_feed because `macaw.stages.publish` is the publish stage's module.)
    """
    from macaw.config import load
    from macaw.stages.publish import publish_all

    return publish_all(config or load(), **kwargs)


__all__ = ["build", "publish_feed", "__version__"]
