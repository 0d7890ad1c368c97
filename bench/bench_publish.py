"""How long `macaw publish` takes for 1,000 episode manifests: cold (first publish) and warm (rebuild).

    python bench/bench_publish.py          # prints the figures as JSON
    from bench.bench_publish import bench_publish; bench_publish()   # what `make bench` calls
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def bench_publish(episodes: int = 1000) -> dict:
    from episodefixtures import PINNED, make_config, write_manifest
    from macaw.stages.publish import publish_all

    out = Path(tempfile.mkdtemp(prefix="macaw-bench-publish-"))
    try:
        config = make_config(out)
        for i in range(episodes):
            write_manifest(config, f"arxiv-2401.{i:05d}", PINNED + timedelta(minutes=i))
        cold = publish_all(config)
        warm = publish_all(config)
        # One new episode among the rest: what `macaw build` pays after each episode.
        write_manifest(config, "arxiv-2402.00001", PINNED + timedelta(days=30))
        started = time.perf_counter()
        publish_all(config)
        one_more_s = time.perf_counter() - started
        feed_bytes = (config.feeds_dir / f"{config.show.slug}.xml").stat().st_size
        return {
            "episodes": episodes,
            "cold_s": round(cold.seconds, 3),
            "warm_s": round(warm.seconds, 3),
            "one_new_episode_s": round(one_more_s, 3),
            "feed_bytes": feed_bytes,
            "files_written_cold": cold.written,
            "files_written_warm": warm.written,
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(bench_publish(), indent=2))
