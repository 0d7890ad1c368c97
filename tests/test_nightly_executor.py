"""The nightly runner's seam for executors (#18): build_item runs in another process, the driver publishes.

And one night with the real engines (slow): a real journal entry from ../shared, then a quiet night.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import feedparser
import pytest

from macaw.config import Config, load
from macaw.nightly.discover import Work
from macaw.nightly.runner import ItemResult, build_item, run_night
from tests import fakes

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journals"


def _child_init() -> None:
    sys.path[:0] = [str(REPO / "tests"), str(REPO)]
    from tests import fakes as child_fakes

    child_fakes.install()


def _build_elsewhere(config: Config, work: Work) -> tuple[ItemResult, int]:
    import os

    return build_item(config, work), os.getpid()


class PoolExecutor:
    """Each item's fetch..master in a worker process: what a Ray executor does on a cluster."""

    def __init__(self) -> None:
        self.pids: set[int] = set()

    def run(self, config: Config, works: list[Work], started: Callable[[Work], None]) -> Iterator[tuple[Work, ItemResult]]:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=context, initializer=_child_init) as pool:
            futures = {}
            for work in works:
                started(work)
                futures[pool.submit(_build_elsewhere, config, work)] = work
            for future in concurrent.futures.as_completed(futures):
                result, pid = future.result()
                self.pids.add(pid)
                yield futures[future], result


def _entries(tmp_path: Path) -> Path:
    folder = tmp_path / "journal"
    folder.mkdir()
    (folder / "2026-11-29-bread.md").write_text("# Bread\n\nI baked bread for the first time. It came out flat, but it tasted good.\n")
    (folder / "2026-11-30-rivers.md").write_text("# Rivers\n\nThe river was high after the rain. We walked along it until dark.\n")
    return folder


def test_items_build_in_worker_processes_and_the_driver_publishes(tmp_path: Path) -> None:
    import os

    folder = _entries(tmp_path)
    out = tmp_path / "root"
    out.mkdir()
    (out / "macaw.toml").write_text(f'[[nightly.journal]]\npath = "{folder}"\n')
    fakes.install()
    config = load(out=out, env={}, overrides=fakes.FAKE_OVERRIDES)
    executor = PoolExecutor()
    report = run_night(config, executor=executor)
    assert report.error() is None, report.failed
    assert len(report.published) == 2
    assert executor.pids and os.getpid() not in executor.pids  # built elsewhere
    parsed = feedparser.parse((out / "feeds" / "macaw.xml").read_bytes())
    assert len(parsed.entries) == 2 and not parsed.bozo
    # The Work items and the config cross process boundaries as they are.
    work = report.planned[0].work
    assert pickle.loads(pickle.dumps(work)).entry == work.entry
    # A second night, local, builds nothing: the worker's artifacts are the cache.
    assert run_night(config).planned == []


@pytest.mark.slow
def test_a_night_with_the_real_engines_then_a_quiet_one(tmp_path: Path) -> None:
    entry = SHARED / "2018-01-20-medium.md"
    if not entry.exists():
        pytest.skip("../shared is not beside the checkout")
    folder = tmp_path / "journal"
    folder.mkdir()
    shutil.copy(entry, folder / entry.name)
    out = tmp_path / "root"
    out.mkdir()
    (out / "macaw.toml").write_text(f'[[nightly.journal]]\npath = "{folder}"\n')
    config = load(out=out, env={})
    report = run_night(config)
    assert report.error() is None, report.failed
    [key] = report.published
    started = time.perf_counter()
    quiet = run_night(load(out=out, env={}))
    assert quiet.planned == [] and time.perf_counter() - started < 10
    parsed = feedparser.parse((out / "feeds" / "macaw.xml").read_bytes())
    [item] = parsed.entries
    assert item.enclosures[0].href.endswith(".mp3")
