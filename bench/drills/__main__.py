"""`make drills`: the failure promises of the README, each proved by running the real CLI against it.

    python -m bench.drills            # every drill (make drills)
    python -m bench.drills --quick    # only the drills not marked slow (.ci/run runs these)
    python -m bench.drills -k feed    # the drills whose family/name contains "feed"

Each drill prints one row as it finishes (name, pass/FAIL/n/a, seconds, peak memory of the
children it ran, what happened); the suite ends with the table and a closing line
"N passed, N failed, N not available". Exit status 1 when any drill failed; a drill that cannot
run in this tree yet is "n/a", never a pass.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills.common import Drill, Result  # noqa: E402

FAMILIES = tuple(f for f in ("pdfs", "sources", "feeds", "injection", "crash", "concurrency", "disk", "arxiv") if (Path(__file__).parent / f"{f}.py").exists())


def collect() -> list[Drill]:
    drills: list[Drill] = []
    for family in FAMILIES:
        drills += importlib.import_module(f"bench.drills.{family}").DRILLS  # a family that fails to import is a bug: say so loudly
    return drills


def row(drill: Drill, result: Result, seconds: float) -> str:
    verdict = {True: "pass", False: "FAIL", None: "n/a"}[result.passed]
    return f"{drill.family + '/' + drill.name:<34} {verdict:<5} {seconds:6.1f} s {result.peak_mb:7.0f} MiB  {result.detail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Macaw's failure drills")
    parser.add_argument("--quick", action="store_true", help="skip the drills marked slow")
    parser.add_argument("-k", default="", help="only drills whose family/name contains this")
    parser.add_argument("--keep", action="store_true", help="keep each drill's folder")
    args = parser.parse_args(argv)
    chosen = [d for d in collect() if (not args.quick or not d.slow) and args.k in f"{d.family}/{d.name}"]
    rows, counts = [], {True: 0, False: 0, None: 0}
    started = time.perf_counter()
    for drill in chosen:
        tmp = Path(tempfile.mkdtemp(prefix=f"macaw-drill-{drill.name}-"))
        t = time.perf_counter()
        try:
            result = drill.fn(tmp)
        except Exception as exc:  # a drill that breaks is a failed drill, with the reason
            result = Result(False, f"the drill itself raised {type(exc).__name__}: {exc} ({traceback.extract_tb(exc.__traceback__)[-1].lineno})")
        line = row(drill, result, time.perf_counter() - t)
        print(line, flush=True)
        rows.append(line)
        counts[result.passed] += 1
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"{'drill':<34} {'':<5} {'time':>8} {'peak':>11}  detail")
    for line in rows:
        print(line)
    print(f"{counts[True]} passed, {counts[False]} failed, {counts[None]} not available in {time.perf_counter() - started:.1f} s")
    return 1 if counts[False] else 0


if __name__ == "__main__":
    sys.exit(main())
