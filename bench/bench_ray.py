"""`make bench`: items per hour with 1 and 2 local Ray workers, real default engines.

    bench_ray() -> {"entries": [...], "workers": {1: {...}, 2: {...}}}

A local Ray head with 2 CPUs; the same real journal entries from ../shared/journals built
fetch..master on 1 worker process, then on 2, each time into a fresh output root (nothing
cached). The wall time runs from the executor's start to its last result, so it includes
starting the worker processes and loading the models once per worker (the fixed cost of a
night); `item_s` is each item's own build time inside its worker. The machine this runs on may
be shared: say so with the figures.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journals"
ENTRIES = ("2018-01-20-medium.md", "2017-11-16-chinese.md", "til-aws-boto-command-line.md", "2018-travel-in-review.md")


@dataclass
class BenchItem:
    key: str
    episode_id: str
    entry: Any


@dataclass
class BenchResult:
    key: str
    ok: bool
    error: str = ""
    code: int = 0
    seconds: float = 0.0


def build(config: Any, item: BenchItem, engines: dict[str, Any]) -> BenchResult:
    """fetch..master for one entry, as the nightly runner's build_item does."""
    from macaw.errors import MacawError
    from macaw.pipeline import Outcome, Request, SilentReporter, build_one
    from macaw.sources import journal

    entry = item.entry
    request = Request("journal", entry.episode_id, {"kind": "journal", "sha256": entry.digest},
                      (lambda cfg, folder, e=entry: journal.fetch(e, cfg, folder)), entry.origin)
    started = time.perf_counter()
    try:
        build_one(config, request, "master", SilentReporter(), engines, Outcome(request))
    except MacawError as exc:  # the gate counts as work done: the item was built and heard
        return BenchResult(item.key, False, str(exc), exc.exit_code, time.perf_counter() - started)
    return BenchResult(item.key, True, "", 0, time.perf_counter() - started)


def failed(item: BenchItem, message: str, code: int) -> BenchResult:
    return BenchResult(item.key, False, message, code)


def bench_ray(entries: tuple[str, ...] = ENTRIES) -> dict[str, Any]:
    import ray

    from macaw.config import load
    from macaw.executors.ray import RayExecutor
    from macaw.sources import journal

    paths = [SHARED / name for name in entries if (SHARED / name).is_file()]
    if not paths:
        print(f"  skipped: no entries in {SHARED}")
        return {}
    items = [BenchItem(f"journal:{p}", e.episode_id, e) for p, e in ((p, journal.read_entry(p)) for p in paths)]
    pythonpath = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": pythonpath}})
    figures: dict[str, Any] = {"entries": [p.name for p in paths], "cpus": os.cpu_count(), "workers": {}}
    try:
        for workers in (1, 2):
            config = load(out=Path(tempfile.mkdtemp(prefix=f"macaw-bench-ray{workers}-")), env={}, overrides={"ray.workers": workers})
            executor = RayExecutor(build, failed)
            started = time.perf_counter()
            results = [result for _, result in executor.run(config, items, lambda w: None)]
            wall = time.perf_counter() - started
            item_s = [round(r.seconds, 1) for r in results]
            audio_s = sum(json.loads(p.read_text())["duration_s"] for p in config.episodes_dir.glob("*/narration.json"))
            row = {"wall_s": round(wall, 1), "items_per_hour": round(3600 * len(results) / wall, 1), "item_s": item_s,
                   "passed_gate": sum(r.ok for r in results),
                   "audio_s": round(audio_s, 1), "rtf": round(sum(r.seconds for r in results) / audio_s, 3) if audio_s else None, "errors": [r.error for r in results if r.ok is False and r.code != 40]}
            figures["workers"][workers] = row
            print(f"  {workers} worker(s): {len(results)} items in {row['wall_s']} s = {row['items_per_hour']} items/h "
                  f"(per item {', '.join(f'{s:.0f}' for s in item_s)} s inside the worker for {row['audio_s']} s of audio, RTF {row['rtf']}; "
                  f"{row['passed_gate']} passed the gate)")
    finally:
        ray.shutdown()
    one, two = figures["workers"][1], figures["workers"][2]
    figures["speedup"] = round(two["items_per_hour"] / one["items_per_hour"], 2)
    print(f"  speed-up with 2 workers: {figures['speedup']}x on {os.cpu_count()} CPU(s) (a shared machine: other work competes for them)")
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    print(json.dumps(bench_ray(), indent=1))
