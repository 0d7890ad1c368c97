"""Executors: where each nightly item's fetch..master runs.

The nightly runner (macaw/nightly/runner.py) hands an executor its Work items and publishes
what comes back, in the one process that holds the output root's lock. An executor only
decides where `build(config, work, engines)` runs:

    local  every item in the driver process, one engine per role (the runner's LocalExecutor)
    ray    each item a task on a Ray cluster, the engines held by one actor per worker process
           (macaw/executors/ray.py; Ray is the optional extra `pip install 'macaw[ray]'`)

This package imports neither the nightly runner nor Ray at import time: the runner passes its
item function in, and Ray is imported only when the ray executor runs.
"""

from __future__ import annotations

from typing import Any

NAMES = ("local", "ray")


def fresh_start(engines: dict[str, Any]) -> None:
    """Before each item: an engine with a random state (Piper's noise) starts it afresh, so an
    item's audio depends on its text alone, not on which items its process built before."""
    for engine in engines.values():
        reseed = getattr(engine, "reseed", None)
        if callable(reseed):
            reseed()


def engine_roles(until: str = "master") -> list[str]:
    """The engine roles the stages up to `until` use, in stage order."""
    import importlib

    from macaw.stages import STAGES

    roles: list[str] = []
    for stage in STAGES[: STAGES.index(until) + 1]:
        for role in importlib.import_module(f"macaw.stages.{stage}").STAGE.engines:
            if role not in roles:
                roles.append(role)
    return roles
