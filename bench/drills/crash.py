"""kill -9 at each stage boundary and inside publish, then the same build again.

An earlier episode is published first. Then a second entry's build is killed (SIGKILL, from
inside, at an exact point: bench/drills/fakecli.py) and rerun with no fault. Pass: the rerun
exits 0; the feed parses (lxml, podcastparser) with both episodes once each; the earlier
episode's files are untouched; every stage that finished before the kill comes from the cache.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from bench.drills.common import Drill, Result, feed_problems, problems_result, run_cli, write_entry

STAGES = ("fetch", "extract", "write", "speak", "check", "master", "publish")
_template: dict[str, Path] = {}


def _baseline(tmp: Path) -> Path:
    """An output root with one published episode, built once and copied for each drill."""
    if "out" not in _template or not _template["out"].exists():
        base = Path(tmp.parent) / f"macaw-drill-crash-base-{id(_template)}"
        shutil.rmtree(base, ignore_errors=True)
        first = write_entry(base / "entries", "2026-11-01-first.md", "First entry", "The first entry talks about a long walk by the river.")
        run = run_cli(["build", "--journal", str(first), "--out", str(base / "out")])
        if run.code != 0:
            raise RuntimeError(f"the baseline build failed: {run.error_line}")
        _template["out"] = base / "out"
        _template["entries"] = base / "entries"
    shutil.copytree(_template["out"], tmp / "out")
    shutil.copytree(_template["entries"], tmp / "entries")
    return tmp / "out"


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cached(stderr: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^\s+(\w+)\s+cached\s*$", stderr, re.M)}


def _drill(fault: dict[str, str], finished_before: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def fn(tmp: Path) -> Result:
        out = _baseline(tmp)
        first_id = next(p.name for p in (out / "episodes").iterdir())
        first_files = _digests(out / "episodes" / first_id)
        second = write_entry(tmp / "entries", "2026-11-02-second.md", "Second entry", "The second entry is about rain on the roof and a warm kitchen.")
        killed = run_cli(["build", "--journal", str(second), "--out", str(out)], env=fault)
        problems = []
        if killed.code != -9:
            problems.append(f"the fault did not fire (exit {killed.code}: {killed.error_line[:80]})")
        if (out / "feeds" / "macaw.xml").exists():
            problems += [f"after the kill: {p}" for p in feed_problems(out, [first_id])]
        rerun = run_cli(["build", "--journal", str(second), "--out", str(out)])
        if rerun.code != 0:
            return Result(False, f"the rerun failed: exit {rerun.code}: {rerun.error_line[:200]}", max(killed.peak_mb, rerun.peak_mb))
        second_id = next(p.name for p in (out / "episodes").iterdir() if p.name != first_id)
        problems += feed_problems(out, [first_id, second_id])
        if _digests(out / "episodes" / first_id) != first_files:
            problems.append("the earlier episode's files changed")
        missing = set(finished_before) - _cached(rerun.stderr)
        if missing:
            problems.append(f"rerun recomputed {', '.join(s for s in STAGES if s in missing)} (finished before the kill)")
        leftovers = [p.name for p in out.rglob(".*.tmp")]
        if leftovers:
            problems.append(f"temp files left behind: {', '.join(leftovers[:3])}")
        ok = f"rerun exit 0, feed whole, {len(finished_before)} stage(s) from the cache"
        return problems_result(problems, ok, max(killed.peak_mb, rerun.peak_mb))

    return fn


DRILLS = [
    Drill("crash", f"kill-after-{stage}", _drill({"MACAW_DRILL_KILL_AFTER": stage}, STAGES[: i + 1]), slow=True)
    for i, stage in enumerate(STAGES[:-1])
] + [
    Drill("crash", "kill-write-saved-unrecorded", _drill({"MACAW_DRILL_KILL_SAVED": "write"}, STAGES[:2]), slow=True),
    Drill("crash", "kill-in-publish-before-feed", _drill({"MACAW_DRILL_KILL_FEED": "before"}, STAGES[:6])),
    Drill("crash", "kill-in-publish-renaming-feed", _drill({"MACAW_DRILL_KILL_FEED": "renaming"}, STAGES[:6]), slow=True),
]
